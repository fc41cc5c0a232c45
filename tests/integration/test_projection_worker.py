"""Queries and a projection worker (`ledger.worker`, `tenge-ledger project --follow`).

While a live worker is close behind, a query leaves the catch-up to it (and waits for it to reach
the head the query saw); with no live worker, a stale one, one too far behind, or one that does
not get there in time, the query catches up itself. Either way the answer is never older than the
store the query started on. Waiting is polling a condition with a deadline, never a bare sleep.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import ledger.read as read_module
from ledger.app import Ledger
from ledger.worker import ProjectionWorker
from projections.runner import WORKERS_TABLE
from tests.support import road_world

DEADLINE_S = 30.0


def _world(ledger: Ledger, rounds: int, start: int = 0) -> None:
    s, n = road_world(amount="1000000.00")
    if start:
        s.records.clear()
    for i in range(start, start + rounds):
        s.transfer(n["color"], n["admin"], n["contractor"], "10.00", id=f"W-{i}", contract="C-1")
    ledger.execute(s.commands())


def _no_own_catch_up(read: Any) -> None:
    """Make the read side's own catch-up fail loudly: the worker must do it."""
    def refuse(*_: Any, **__: Any) -> int:
        raise AssertionError("the query caught up itself while a live worker was close behind")
    read.runner.catch_up = refuse


def _wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


@contextmanager
def _worker_thread(url: str) -> Iterator[ProjectionWorker]:
    """A worker following the store from a ledger of its own (its own connections), in a thread."""
    ledger = Ledger(url)
    worker = ProjectionWorker(ledger.read_side())
    stop = threading.Event()
    thread = threading.Thread(target=worker.follow, args=(stop, 0.05), daemon=True)
    thread.start()
    try:
        _wait_for(lambda: worker.runner.live_workers(read_module.wall_clock_ms(), read_module.WORKER_STALE_MS),
                  "the worker's first beat")
        yield worker
    finally:
        stop.set()
        thread.join(DEADLINE_S)
        assert not thread.is_alive(), "the worker did not stop when told to"
        ledger.close()


def test_with_a_live_worker_close_behind_the_query_does_not_catch_up_itself(shared_store_url):
    writer = Ledger(shared_store_url)
    _world(writer, 5)
    query = Ledger(shared_store_url)
    read = query.read_side()
    read.catch_up()
    assert read.caught_up_by == "self"
    with _worker_thread(shared_store_url):
        _world(writer, 30, start=5)
        _no_own_catch_up(read)
        now = read.catch_up()
        assert read.caught_up_by in ("worker", "current")
        assert read.runner.reached() >= now == writer.position()
        balances = {(holder, tiyn) for _, holder, tiyn in read.balances(None)}
    assert sum(tiyn for _, tiyn in balances) == 100_000_000, "conservation: the allocation, wherever it went"
    assert len(read.runner.db.query(f"SELECT worker FROM {WORKERS_TABLE}")) == 0, "a worker that stopped retires"
    query.close()
    writer.close()


def test_with_no_worker_the_query_catches_up_itself(shared_store_url):
    writer = Ledger(shared_store_url)
    _world(writer, 5)
    read = Ledger(shared_store_url).read_side()
    now = read.catch_up()
    assert read.caught_up_by == "self" and read.runner.reached() == now == writer.position()
    assert read.catch_up() == now and read.caught_up_by == "current"


def test_a_stale_heartbeat_is_no_worker(shared_store_url):
    """A worker killed with kill -9 leaves its row: once stale, queries catch up themselves at once."""
    writer = Ledger(shared_store_url)
    _world(writer, 5)
    read = Ledger(shared_store_url).read_side()
    read.runner.register_worker("killed", read_module.wall_clock_ms() - read_module.WORKER_STALE_MS - 1_000)
    assert not read.worker_alive()
    started = time.monotonic()
    now = read.catch_up()
    assert read.caught_up_by == "self" and read.runner.reached() == now
    assert time.monotonic() - started < read_module.WORKER_WAIT_S, "no waiting for a dead worker"


def test_a_live_worker_too_far_behind_leaves_the_query_to_catch_up_itself(shared_store_url, monkeypatch):
    writer = Ledger(shared_store_url)
    _world(writer, 5)
    read = Ledger(shared_store_url).read_side()
    monkeypatch.setattr(read_module, "WORKER_LAG_EVENTS", 2)
    read.runner.register_worker("busy", read_module.wall_clock_ms())
    assert read.worker_alive()
    now = read.catch_up()
    assert read.caught_up_by == "self" and read.runner.reached() == now == writer.position()


def test_a_live_worker_that_does_not_get_there_in_time_leaves_the_query_to_catch_up(shared_store_url, monkeypatch):
    """Never silently stale: a worker that beats but does not progress costs a query WORKER_WAIT_S."""
    writer = Ledger(shared_store_url)
    _world(writer, 5)
    read = Ledger(shared_store_url).read_side()
    monkeypatch.setattr(read_module, "WORKER_WAIT_S", 0.2)
    read.runner.register_worker("hung", read_module.wall_clock_ms() + 60_000)  # beats "in the future": alive throughout
    now = read.catch_up()
    assert read.caught_up_by == "self" and read.runner.reached() == now == writer.position()


@pytest.mark.parametrize("rounds", [3])
def test_catch_up_once_applies_everything_and_stops_between_chunks_when_told(shared_store_url, rounds):
    writer = Ledger(shared_store_url)
    _world(writer, rounds)
    worker = ProjectionWorker(Ledger(shared_store_url).read_side())
    assert worker.catch_up_once(should_stop=lambda: True) == 0, "told to stop before the first chunk: nothing applied"
    assert worker.catch_up_once() == writer.position()


def test_postgresql_notifies_listeners_when_events_commit(postgres_url):
    """The worker's wake-up call: every insert transaction NOTIFYs the recorder's channel."""
    import psycopg
    from psycopg.sql import SQL, Identifier

    ledger = Ledger(postgres_url)
    channel = ledger.recorder.channel_name
    with psycopg.connect(postgres_url.split("?")[0], autocommit=True) as listener:
        listener.execute(SQL("LISTEN {}").format(Identifier(channel)))
        _world(ledger, 1)
        heard = list(listener.notifies(timeout=DEADLINE_S, stop_after=1))
    assert [note.channel for note in heard] == [channel]
    ledger.close()


def test_an_unauthorized_actor_cannot_run_a_catch_up_through_the_worker(shared_store_url):
    """The worker needs the right a query needs (`read`); with nothing to apply it asks nothing."""
    from ledger.roles import NotAllowed, Policy

    writer = Ledger(shared_store_url)
    _world(writer, 2)
    stranger = Ledger(shared_store_url, actor="nobody", roles=Policy({"admin": "admin"}, "test"))
    worker = ProjectionWorker(stranger.read_side())
    with pytest.raises(NotAllowed):
        worker.catch_up_once()
