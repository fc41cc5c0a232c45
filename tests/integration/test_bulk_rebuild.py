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
from projections.runner import BUILDING_MARK, POSITIONS_TABLE, RebuildInProgress
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


@pytest.mark.parametrize("kind", STORES)
def test_a_process_that_meets_a_live_rebuild_is_busy_and_leaves_it_alone(
        kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """The rebuild holds the store's rebuild lock: another process neither resets the projections
    being built nor reads them half-built; it is busy (exit 75) until the rebuild ends."""
    s, _, _ = world()
    ledger = Ledger(_url(kind, request, tmp_path))
    try:
        ledger.execute(s.commands())
        read = ledger.read_side()
        now = read.catch_up()
        expected = contents(read)
        other = ReadSide(ledger)  # opened before the rebuild: it must not read the half-built tables either
        original = read.runner.read_log
        met: list[str] = []

        def others_meanwhile(after: int, limit: int):  # type: ignore[no-untyped-def]
            if after > 0 and not met:  # the rebuild has committed its first chunk
                with pytest.raises(RebuildInProgress) as opening:
                    ReadSide(ledger)
                with pytest.raises(RebuildInProgress):
                    other.catch_up()
                met.append(str(opening.value))
            return original(after, limit)

        read.runner.read_log = others_meanwhile
        read.rebuild()
        read.runner.read_log = original
        assert met and "another process is rebuilding projection" in met[0]
        assert contents(read) == expected, "the rebuild was left alone and completed"
        assert other.catch_up() == now and contents(other) == expected, "once it ends, the other process reads"
        other.close()
    finally:
        ledger.close()


@pytest.mark.parametrize("kind", STORES)
def test_a_second_rebuild_while_one_runs_is_busy(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    s, _, _ = world()
    ledger = Ledger(_url(kind, request, tmp_path))
    try:
        ledger.execute(s.commands())
        read, second = ledger.read_side(), ReadSide(ledger)
        read.catch_up()
        lock = read.db.hold_rebuild_lock()
        assert lock is not None and second.db.rebuild_lock_held()
        try:
            with pytest.raises(RebuildInProgress, match="another process is rebuilding"):
                second.rebuild()
        finally:
            read.db.release_rebuild_lock(lock)
        assert not second.db.rebuild_lock_held(), "the lock dies with its holder's handle"
        second.rebuild()
        second.close()
    finally:
        ledger.close()


def test_the_cli_meeting_a_live_rebuild_exits_busy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from ledger.cli import main
    from ledger.store.errors import EXIT_BUSY
    from ledger.store.views import SQLiteViewDatabase

    s, _, _ = world()
    path = tmp_path / "ledger.sqlite"
    url = f"sqlite:///{path}"
    ledger = Ledger(url)
    ledger.execute(s.commands())
    ledger.read_side().catch_up()
    ledger.close()
    monkeypatch.setenv("TENGE_LEDGER_ACTOR", "auditor")
    holder = SQLiteViewDatabase(str(path))  # another process, mid-rebuild: its lock held, a projection marked
    lock = holder.hold_rebuild_lock()
    holder.execute(f"UPDATE {POSITIONS_TABLE} SET version = version || ? WHERE name = 'balances'", (BUILDING_MARK,))
    try:
        assert main(["--store", url, "rebuild"]) == EXIT_BUSY
        assert "another process is rebuilding" in capsys.readouterr().err
        assert main(["--store", url, "balance", "--format", "json"]) == EXIT_BUSY
        assert "another process is rebuilding projection balances" in capsys.readouterr().err
    finally:
        holder.release_rebuild_lock(lock)
        holder.close()
    assert main(["--store", url, "balance", "--format", "json"]) == 0, "the holder is gone: its mark is reset and rebuilt"
