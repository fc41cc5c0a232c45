"""Many writers into one store (SPEC §5, issue 11 "PostgreSQL, many writers").

A writer that finds the color it needs held by another waits its turn (up to `--wait`); concurrent
writers never double-spend and never fail a command a single writer would have applied. Before:
8 writers importing into one hot color on PostgreSQL, 3 to 7 of 8 failed (exit 2 or 70).

The writers' files are built so that the outcome does not depend on how the writers interleave:
each file transfers from the administrator (who holds far more than all files move) to
contractors and then spends, from each contractor, less than that file itself transferred to it.
So every command applies in any order consistent with each file, and the final state must equal
a sequential import of the files one after another.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError

import ledger.app as app_module
from ledger.app import APPLIED, BatchBusy, Ledger, color_stream
from ledger.store.recorders import stream_lock_key
from tests.support import Script, color_id

COMMAND_PAIRS_PER_WRITER = 40  # a transfer and a spend each: 80 commands per writer
BATCH_SIZE = 5  # small batches: many turns taken on the hot colors
HOT_COLORS = (color_id("ROAD", 1), color_id("ROAD", 2))
CONTRACTORS = 4
WRITERS_DAY = 10.0  # business day (after the world's set-up) of every writer's commands


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENGE_LEDGER_")}
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _cli(url: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "ledger", "--store", url, *args], env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _world() -> tuple[Script, dict[str, object]]:
    """Parties, the hot colors allocated to the administrator, a contract with each contractor."""
    s = Script()
    treasury, admin = s.party("treasury"), s.party("administrator")
    contractors = [s.party("contractor") for _ in range(CONTRACTORS)]
    for color in HOT_COLORS:
        s.allocate(color, treasury, admin, "100000000.00")
        for n, contractor in enumerate(contractors):
            s.contract(f"K-{color[-9:]}-{n}", color, admin, contractor, "100000000.00")
    return s, {"admin": admin, "contractors": contractors}


def _writer_file(path: Path, writer: int, names: dict[str, object]) -> Path:
    """One writer's commands, alternating between the hot colors and the contractors."""
    s = Script()
    contractors = names["contractors"]
    assert isinstance(contractors, list)
    for k in range(COMMAND_PAIRS_PER_WRITER):
        color, contractor = HOT_COLORS[k % len(HOT_COLORS)], contractors[(k + writer) % len(contractors)]
        # one business time for all: a color refuses events dated before its latest (out_of_order_time)
        s.transfer(color, names["admin"], contractor, f"{10 + writer}.00", id=f"W{writer}-{k:03d}-T", days=WRITERS_DAY)
        s.spend(color, contractor, f"{1 + writer}.00", id=f"W{writer}-{k:03d}-S", days=WRITERS_DAY)
    return s.write(path)


def _command_ids(ledger: Ledger) -> Counter[str]:
    """How many events each command id has in the store (one per recorded command)."""
    ids: Counter[str] = Counter()
    start = 1
    while batch := ledger.recorder.select_notifications(start=start, limit=1_000):
        ids.update(ledger.mapper.to_domain_event(notification).command_id for notification in batch)
        start = batch[-1].id + 1
    return ids


def _state(url: str) -> tuple[list[tuple[str, str, int]], Counter[str]]:
    ledger = Ledger(url)
    try:
        return sorted(ledger.read_side().balances(None)), _command_ids(ledger)
    finally:
        ledger.close()


def _sequential(setup: Script, files: list[Path]) -> tuple[list[tuple[str, str, int]], Counter[str]]:
    """The state a single writer reaches importing the files one after another."""
    ledger = Ledger("memory://")
    try:
        assert {o.status for o in ledger.execute(setup.commands())} == {APPLIED}
        for path in files:
            from ledger.interchange import read_lines

            with path.open("rb") as stream:
                commands = [parsed.command for parsed in read_lines(stream, path.name)]
            assert {o.status for o in ledger.execute(commands)} == {APPLIED}, "the files are built to apply whole"
        return sorted(ledger.read_side().balances(None)), _command_ids(ledger)
    finally:
        ledger.close()


def _many_writers(url: str, tmp_path: Path, writers: int) -> None:
    setup, names = _world()
    ledger = Ledger(url)
    try:
        assert {o.status for o in ledger.execute(setup.commands())} == {APPLIED}
    finally:
        ledger.close()
    files = [_writer_file(tmp_path / f"w{n}.jsonl", n, names) for n in range(writers)]
    children = [_cli(url, "import", str(path), "--batch-size", str(BATCH_SIZE), "--progress", "none") for path in files]
    results = [(child.wait(timeout=600), child.stderr.read().decode()) for child in children]  # type: ignore[union-attr]
    for child in children:
        child.stdout.close()  # type: ignore[union-attr]
        child.stderr.close()  # type: ignore[union-attr]
    assert [code for code, _ in results] == [0] * writers, results
    balances, ids = _state(url)
    assert set(ids.values()) == {1}, [i for i, n in ids.items() if n != 1][:5]  # no command recorded twice
    assert (balances, ids) == _sequential(setup, files)
    verify = _cli(url, "verify")
    _, err = verify.communicate(timeout=600)
    assert verify.returncode == 0, err.decode()


@pytest.mark.parametrize("writers", [2, 4, 8])
def test_writers_on_one_sqlite_store_all_finish_with_a_sequential_state(tmp_path, writers):
    _many_writers(f"sqlite:///{tmp_path / 'ledger.sqlite'}", tmp_path, writers)


@pytest.mark.postgres
@pytest.mark.parametrize("writers", [2, 4, 8, 16])
def test_writers_on_one_postgres_store_all_finish_with_a_sequential_state(postgres_url, tmp_path, writers):
    _many_writers(postgres_url, tmp_path, writers)


# --- busy: past --wait, exit 75, one line, whole batches only ---------------------------------

def _set_up_small(url: str, tmp_path: Path) -> tuple[Path, int]:
    """A store with the world, and a file of two transfers: on the second hot color, then the first."""
    setup, names = _world()
    ledger = Ledger(url)
    try:
        ledger.execute(setup.commands())
        recorded = ledger.position()
    finally:
        ledger.close()
    s = Script()
    contractors = names["contractors"]
    assert isinstance(contractors, list)
    s.transfer(HOT_COLORS[1], names["admin"], contractors[0], "5.00", id="FREE-1", days=WRITERS_DAY)
    s.transfer(HOT_COLORS[0], names["admin"], contractors[0], "5.00", id="HELD-1", days=WRITERS_DAY)
    return s.write(tmp_path / "two.jsonl"), recorded


def _positions(url: str) -> int:
    ledger = Ledger(url)
    try:
        return ledger.position()
    finally:
        ledger.close()


def _one_busy_line(child: subprocess.Popen[bytes]) -> str:
    out, err = child.communicate(timeout=120)
    lines = err.decode().strip().splitlines()
    assert child.returncode == 75, (child.returncode, err.decode())
    assert len(lines) == 1 and "busy" in lines[0] and "Traceback" not in lines[0], lines
    return lines[0]


@pytest.mark.postgres
def test_a_color_held_past_wait_is_75_with_what_was_applied(postgres_url, tmp_path):
    path, recorded = _set_up_small(postgres_url, tmp_path)
    dsn, schema = postgres_url.split("?schema=")
    with psycopg.connect(dsn, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (stream_lock_key(schema, color_stream(HOT_COLORS[0])),))
        line = _one_busy_line(_cli(postgres_url, "import", str(path), "--batch-size", "1", "--wait", "1", "--progress", "none"))
        assert "1 of 2 line(s) were done before it (1 applied" in line and "--wait 1 s" in line
        assert _positions(postgres_url) == recorded + 1  # the first batch whole, nothing of the second
    again = _cli(postgres_url, "import", str(path), "--progress", "none")
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0 and "1 applied, 1 duplicate" in err.decode(), err.decode()


@pytest.mark.postgres
def test_a_single_command_on_a_held_color_is_75(postgres_url, tmp_path):
    setup, names = _world()
    ledger = Ledger(postgres_url)
    try:
        ledger.execute(setup.commands())
        recorded = ledger.position()
    finally:
        ledger.close()
    dsn, schema = postgres_url.split("?schema=")
    contractors = names["contractors"]
    assert isinstance(contractors, list)
    with psycopg.connect(dsn, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (stream_lock_key(schema, color_stream(HOT_COLORS[0])),))
        _one_busy_line(_cli(postgres_url, "transfer", "--color", HOT_COLORS[0], "--from", str(names["admin"]),
                            "--to", contractors[0], "--amount", "1.00", "--at", "2025-03-20T10:00:00+05:00", "--wait", "1"))
        assert _positions(postgres_url) == recorded


def test_a_sqlite_store_held_past_wait_is_75_and_nothing_is_written(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    path, recorded = _set_up_small(url, tmp_path)
    holder = sqlite3.connect(tmp_path / "ledger.sqlite", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another writer's open write transaction
        line = _one_busy_line(_cli(url, "import", str(path), "--wait", "1", "--progress", "none"))
        assert "0 of 2 line(s) were done before it" in line
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert _positions(url) == recorded
    again = _cli(url, "import", str(path), "--progress", "none")
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0 and "2 applied" in err.decode(), err.decode()


# --- the retry loop, in process ---------------------------------------------------------------

def test_a_writer_that_lost_a_race_decides_again_from_fresh_state(tmp_path):
    """Writer A decided on a color B changed since (A's cached state is stale): A's save fails and
    A decides again, applying its command against B's result instead of failing."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    setup, names = _world()
    a, b = Ledger(url), Ledger(url)
    try:
        a.execute(setup.commands())
        contractors = names["contractors"]
        assert isinstance(contractors, list)
        first, second, third = Script(), Script(), Script()
        for s, n in ((first, 1), (second, 2), (third, 3)):
            s.day = 10.0 + n
            s.transfer(HOT_COLORS[0], names["admin"], contractors[0], "7.00", id=f"RACE-{n}")
        assert [o.status for o in a.execute_batch(first.commands())] == [APPLIED]  # A caches the color
        assert [o.status for o in b.execute(second.commands())] == [APPLIED]
        assert [o.status for o in a.execute_batch(third.commands())] == [APPLIED]
        assert set(_command_ids(a).values()) == {1}
    finally:
        a.close()
        b.close()


def test_a_batch_that_keeps_losing_gives_up_busy_after_the_wait(tmp_path, monkeypatch):
    """Past `wait_seconds` of lost races the batch raises `BatchBusy` (exit 75), nothing written."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    setup, _ = _world()
    ledger = Ledger(url, wait_seconds=3)
    try:
        commands = setup.commands()
        clock = iter(range(1_000))
        monkeypatch.setattr(app_module, "time", SimpleNamespace(monotonic=lambda: float(next(clock)), sleep=lambda _: None))
        saves = []

        def losing(*args, **kwargs):
            saves.append(1)
            raise IntegrityError("another writer won")

        monkeypatch.setattr(ledger, "save", losing)
        with pytest.raises(BatchBusy) as raised:
            ledger.execute_batch(commands)
        assert raised.value.exit_code == 75 and "--wait 3 s" in str(raised.value)
        assert len(saves) >= 2  # it decided again before giving up
        assert ledger.position() == 0
    finally:
        ledger.close()


def test_a_postgres_save_past_its_lock_timeout_is_not_tried_again_but_a_lost_connection_is(monkeypatch):
    """A writer that waited its `--wait` for the events table gives up (busy) at once, instead of
    waiting nine times more; a dropped connection (nothing committed) is tried again."""
    from eventsourcing.persistence import InterfaceError, OperationalError

    import ledger.store.recorders as recorders

    monkeypatch.setattr(recorders.time, "sleep", lambda _: None)
    recorder = object.__new__(recorders.LedgerPostgresRecorder)
    tries: list[str] = []

    def failing(problem: Exception):
        def insert(*args, **kwargs):
            tries.append(type(problem).__name__)
            if len(tries) < 3 or isinstance(problem, OperationalError):
                raise problem
            return [7]
        return insert

    monkeypatch.setattr(recorder, "_insert_all", failing(OperationalError("canceling statement due to lock timeout")))
    with pytest.raises(OperationalError):
        recorder.insert_events([])
    assert tries == ["OperationalError"]
    tries.clear()
    monkeypatch.setattr(recorder, "_insert_all", failing(InterfaceError("the connection is closed")))
    assert recorder.insert_events([]) == [7] and len(tries) == 3
