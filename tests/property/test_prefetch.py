"""A batch's aggregates loaded together (`Ledger.prefetch`) equal those loaded one by one (`_fresh`).

Random command lists (`simulations.strategies.command_lists`) run in random chunks through a ledger
that snapshots often (interval 1 or 3), so some colors have a snapshot mid-history and others none;
then every stream the commands name is loaded both ways by a second ledger on the same store, and
every attribute compared. A second property runs the same commands through a ledger that prefetches
and one that does not, each with a tiny aggregate cache (so eviction happens every few batches):
same outcomes, same events, same state. A damaged snapshot is ignored by both ways alike.

Runs on a SQLite file, and PostgreSQL when `TENGE_LEDGER_TEST_POSTGRES` is set (`memory://` has no
prefetch: its loads are in-process).
"""

from __future__ import annotations

import dataclasses

from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.sql import SQL

import ledger.app as app
from domain.aggregate import Aggregate
from domain.allocation import Allocation
from domain.party import Party
from ledger.app import Ledger, _BatchRun, party_stream
from ledger.integrity.snapshots import check_snapshots
from simulations.strategies import command_lists, ledger_state, to_commands
from tests.support import POSTGRES_URL, execute_in_chunks, postgres_store, sqlite_store

STORES: list[Any] = [
    pytest.param(sqlite_store, 12, id="sqlite"),
    pytest.param(postgres_store, 5, id="postgresql", marks=[
        pytest.mark.postgres,
        pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL tests need TENGE_LEDGER_TEST_POSTGRES"),
    ]),
]




def _wanted(ledger: Ledger, commands: list[Any]) -> dict[UUID, type[Aggregate]]:
    """Every stream the commands name (as a fresh batch would guess them), colors of unknown ones too."""
    run = _BatchRun(ledger, commands, 0)
    run.known = {name: value for name, value in run.known.items() if not name.startswith("command:")}
    return run.streams_to_prefetch()


def _compare_loads(url: str, commands: list[Any]) -> None:
    reader = Ledger(url)
    try:
        wanted = _wanted(reader, commands)
        assert any(cls is Allocation for cls in wanted.values()) or not commands
        reader.prefetch(wanted)
        for stream, cls in wanted.items():
            prefetched = reader.loaded(stream)
            assert prefetched is not None, stream
            versions = dict(reader._snapshot_versions)
            fresh = reader._fresh(cls, stream)
            assert type(prefetched) is type(fresh)
            assert vars(prefetched) == vars(fresh), stream
            assert reader._snapshot_versions == versions  # the same snapshot was used
    finally:
        reader.close()


def _check_loads(open_store: Callable[[], tuple[str, Callable[[], None]]], records: list[dict[str, Any]],
                 sizes: list[int], interval: int) -> None:
    commands = to_commands(records)
    url, drop = open_store()
    writer = Ledger(url)
    try:
        writer.snapshot_interval = interval
        execute_in_chunks(writer, commands, sizes)
        _compare_loads(url, commands)
        streams = writer.recorder.snapshot_streams()
        if streams:  # a damaged snapshot: both ways replay the whole stream
            assert writer._from_snapshot(streams[0]) is not None
            _damage_snapshot(writer, streams[0])
            assert writer._from_snapshot(streams[0]) is None
            _compare_loads(url, commands)
    finally:
        writer.close()
        drop()


def _damage_snapshot(ledger: Ledger, stream: UUID) -> None:
    """Replace the stream's snapshot by one naming another command at its version."""
    [snapshot] = list(ledger.snapshots.get(stream, desc=True, limit=1))
    forged = dataclasses.replace(snapshot, last_command_id="forged-" + snapshot.last_command_id)
    recorder = ledger.recorder
    state = ledger.mapper.to_stored_event(forged).state
    if hasattr(recorder, "_snapshots_relation"):  # PostgreSQL
        with recorder.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("UPDATE {} SET state = %s WHERE originator_id = %s").format(recorder._snapshots_relation),
                         (state, stream))
    else:
        with recorder.datastore.transaction(commit=True) as c:
            c.execute(f"UPDATE {recorder.snapshots_table} SET state = ? WHERE originator_id = ?", (state, stream.hex))


@pytest.mark.parametrize(("open_store", "examples"), STORES)
def test_prefetched_aggregates_equal_those_loaded_one_by_one(open_store: Any, examples: int) -> None:
    @settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(records=command_lists(operations_max=60), sizes=st.lists(st.integers(1, 15), min_size=1, max_size=6),
           interval=st.sampled_from([1, 3]))
    def check(records: list[dict[str, Any]], sizes: list[int], interval: int) -> None:
        _check_loads(open_store, records, sizes, interval)

    check()


def _snapshot_rows(ledger: Ledger) -> list[tuple[UUID, int, str]]:
    return [(stream, snapshot.originator_version, snapshot.last_command_id)
            for stream in sorted(ledger.recorder.snapshot_streams()) for snapshot in ledger.snapshots.get(stream)]


@pytest.mark.parametrize(("open_store", "examples"), STORES)
def test_prefetch_and_a_small_cache_change_no_decision(open_store: Any, examples: int) -> None:
    """A ledger that prefetches with a cache of a few aggregates (evicting every few batches) and
    one that loads one by one and never evicts: same outcomes, same state. Their snapshots are the
    same when colors are not snapshotted as they leave the cache; when they are, each of them is
    the replay of its stream (verify's check) and later loads start from them."""
    @settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(records=command_lists(operations_max=60), sizes=st.lists(st.integers(1, 15), min_size=1, max_size=6),
           cache=st.integers(1, 6), on_eviction=st.sampled_from([1, 10**9]))
    def check(records: list[dict[str, Any]], sizes: list[int], cache: int, on_eviction: int) -> None:
        commands = to_commands(records)
        urls = [open_store(), open_store()]
        prefetching, one_by_one = Ledger(urls[0][0]), Ledger(urls[1][0])
        one_by_one.prefetch = lambda wanted: None  # type: ignore[method-assign]
        saved = app.CACHE_AGGREGATES_MAX, app.EVICTION_SNAPSHOT_EVENTS_MIN
        try:
            for ledger in (prefetching, one_by_one):
                ledger.batch_size = 3
                ledger.snapshot_interval = 2
            app.CACHE_AGGREGATES_MAX, app.EVICTION_SNAPSHOT_EVENTS_MIN = cache, on_eviction
            evicting = prefetching.execute(commands)
            app.CACHE_AGGREGATES_MAX, app.EVICTION_SNAPSHOT_EVENTS_MIN = saved
            assert evicting == one_by_one.execute(commands)
            assert ledger_state(prefetching) == ledger_state(one_by_one)
            if on_eviction > len(commands):
                assert _snapshot_rows(prefetching) == _snapshot_rows(one_by_one)
            else:
                assert check_snapshots(prefetching, prefetching.position()) == []
            assert execute_in_chunks(prefetching, commands, sizes) == execute_in_chunks(one_by_one, commands, sizes)
        finally:
            app.CACHE_AGGREGATES_MAX, app.EVICTION_SNAPSHOT_EVENTS_MIN = saved
            prefetching.close()
            one_by_one.close()
            for _, drop in urls:
                drop()

    check()


def test_eviction_keeps_the_most_recently_used_half(monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = Ledger("memory://")
    try:
        monkeypatch.setattr(app, "CACHE_AGGREGATES_MAX", 4)
        streams = [party_stream(f"P{n}") for n in range(5)]
        for stream in streams:
            ledger._cache[stream] = Party(stream)
            ledger._snapshot_versions[stream] = 0
        ledger._used_last([streams[0], streams[2]])
        ledger._evict()
        assert list(ledger._cache) == [streams[0], streams[2]]
        assert set(ledger._snapshot_versions) == {streams[0], streams[2]}
    finally:
        ledger.close()


def test_a_color_leaving_a_full_cache_is_snapshotted_and_loaded_again_from_its_snapshot(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A color that grew since its last snapshot is snapshotted as the cache drops it, naming the
    transaction of its last event; loading it again reads that snapshot, not its history."""
    from tests.rules.baseline import Baseline
    from tests.rules.test_assets import rush

    world = Baseline()
    rush(world)
    commands = world.commands()
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    try:
        monkeypatch.setattr(app, "CACHE_AGGREGATES_MAX", 2)
        monkeypatch.setattr(app, "EVICTION_SNAPSHOT_EVENTS_MIN", 2)
        ledger.snapshot_interval = 10**6  # no snapshot but those taken on eviction
        ledger.batch_size = 1
        ledger.execute(commands)
        snapshotted = ledger.recorder.snapshot_streams()
        assert snapshotted and check_snapshots(ledger, ledger.position()) == []
        for stream in snapshotted:
            [snapshot] = ledger.snapshots.get(stream)
            stored = [event for event in ledger.events.get(stream) if event.originator_version == snapshot.originator_version]
            assert stored[0].command_id == snapshot.last_command_id
        ledger._cache.clear()
        replays: list[UUID] = []
        monkeypatch.setattr(Allocation, "apply", lambda self, event, _apply=Allocation.apply: (replays.append(self.id), _apply(self, event))[1])
        ledger.prefetch({stream: Allocation for stream in snapshotted})
        assert all(ledger._cache[stream].version == max(ev.originator_version for ev in ledger.events.get(stream)) for stream in snapshotted)
        assert len(replays) < sum(len(list(ledger.events.get(stream))) for stream in snapshotted)
    finally:
        ledger.close()
