"""A rebuild fills its tables in bulk (no secondary indexes until the end, balances summed once,
rule state saved only when memory asks) and gives exactly the rows an incremental catch-up gives,
on SQLite and PostgreSQL; a rebuild that dies part-way leaves a projection marked as building,
which the next process resets and builds again — never a half-built projection that looks current.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import projections.flags as flags_module
import projections.runner as runner_module
from ledger.app import Ledger
from ledger.read import ReadSide
from projections.balances import Balances
from projections.runner import BUILDING_MARK, POSITIONS_TABLE, RebuildInterrupted
from tests.integration.test_read_side import world
from tests.property.test_projections_property import Crash, contents, rebuilt_up_to
from tests.rules.baseline import Baseline
from tests.rules.test_assets import rush

AS_OF = "2026-01-01T00:00:00+05:00"

STORES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _url(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.sqlite'}" if kind == "sqlite" else request.getfixturevalue("postgres_url")


def _indexes(read: ReadSide) -> set[str]:
    if read.db.kind == "sqlite":
        rows = read.db.query("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'")
    else:
        rows = read.db.query("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
                             "AND indexname NOT LIKE ?", ("%pkey",))
    return {str(row[0]) for row in rows}


@pytest.mark.parametrize("kind", STORES)
def test_a_bulk_rebuild_in_many_chunks_gives_the_rows_of_an_incremental_catch_up(
        kind: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    baseline = Baseline()
    rush(baseline)
    monkeypatch.setattr(runner_module, "REBUILD_CHUNK_EVENTS", 9)  # many chunks, each committed
    monkeypatch.setattr(flags_module, "CACHED_KEYS_MAX", 50)  # the rebuild saves and evicts rule state
    ledger = Ledger(_url(kind, request, tmp_path))
    try:
        ledger.execute(baseline.commands())
        read = ledger.read_side()
        now = read.catch_up()
        incremental, indexes = contents(read), _indexes(read)
        flags = read.flags(now, now, AS_OF)
        assert contents(read) == rebuilt_up_to(ledger, now)
        read.rebuild()
        assert contents(read) == incremental
        assert _indexes(read) == indexes and indexes, "the indexes are built at the end of the rebuild"
        assert read.flags(now, now, AS_OF) == flags
        read.rebuild(["balances", "index"])
        assert contents(read) == incremental
        restarted = ReadSide(ledger)  # a new process continues from what the rebuild saved
        assert contents(restarted) == incremental and restarted.flags(now, now, AS_OF) == flags
        restarted.close()
    finally:
        ledger.close()


@pytest.mark.parametrize("kind", STORES)
def test_a_rebuild_that_dies_part_way_is_never_taken_for_complete(
        kind: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s, _, _ = world()
    url = _url(kind, request, tmp_path)
    ledger = Ledger(url)
    try:
        ledger.execute(s.commands())
        read = ledger.read_side()
        now = read.catch_up()
        expected = contents(read)
        monkeypatch.setattr(runner_module, "REBUILD_CHUNK_EVENTS", 5)
        applied = []
        original = Balances.apply

        def dying(self: Balances, db, events):  # type: ignore[no-untyped-def]
            applied.append(events[-1][0])
            if len(applied) == 3:
                raise Crash("killed in the third chunk")
            original(self, db, events)

        monkeypatch.setattr(Balances, "apply", dying)
        with pytest.raises(Crash):
            read.rebuild()
        monkeypatch.setattr(Balances, "apply", original)
        rows = {name: (version, position) for name, version, position in
                read.db.query(f"SELECT name, version, position FROM {POSITIONS_TABLE}")}
        assert all(version.endswith(BUILDING_MARK) for version, _ in rows.values()), rows
        assert {position for _, position in rows.values()} == {10}, "two chunks committed, the third rolled back"
        assert read.runner.reached() == 0, "this process no longer counts on the half-built projections"

        restarted = ReadSide(ledger)  # the next process: resets what was being built and catches up
        assert restarted.catch_up() == now
        assert contents(restarted) == expected
        restarted.close()
    finally:
        ledger.close()


def test_a_rebuild_whose_projection_another_process_resets_stops_with_a_store_error(tmp_path: Path) -> None:
    s, _, _ = world()
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    try:
        ledger.execute(s.commands())
        read = ledger.read_side()
        now = read.catch_up()
        expected = contents(read)
        other = ReadSide(ledger)
        original = read.runner.read_log
        calls = []

        def reset_meanwhile(after: int, limit: int):  # type: ignore[no-untyped-def]
            calls.append(after)
            if len(calls) == 1:  # another process opens the store while the rebuild is under way
                ReadSide(ledger).close()
            return original(after, limit)

        read.runner.read_log = reset_meanwhile
        with pytest.raises(RebuildInterrupted):
            read.rebuild()
        read.runner.read_log = original
        assert other.catch_up() == now and contents(other) == expected
        other.close()
    finally:
        ledger.close()


def test_the_rebuild_command_reports_an_interrupted_rebuild_as_busy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from ledger.cli import main
    from ledger.store.errors import EXIT_BUSY
    from projections.runner import ProjectionRunner

    s, _, _ = world()
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    ledger = Ledger(url)
    ledger.execute(s.commands())
    ledger.close()

    def interrupted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise RebuildInterrupted("another process reset projection flags while this process was rebuilding it")

    monkeypatch.setenv("TENGE_LEDGER_ACTOR", "auditor")
    monkeypatch.setattr(ProjectionRunner, "rebuild", interrupted)
    assert main(["--store", url, "rebuild"]) == EXIT_BUSY
    assert "another process reset projection flags" in capsys.readouterr().err
