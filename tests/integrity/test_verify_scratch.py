"""`verify` recomputes into a temporary SQLite file (not `:memory:`), removes it, and compares in SQL.

Issue 11: verify held the rebuilt projections in a `:memory:` database and compared tables as
sorted Python lists, so its memory grew with the store. It now rebuilds into a scratch file in the
temporary directory, deleted when verify ends (also when it fails), and compares each table with
`EXCEPT` both ways. The finding for an edited read-model row must read exactly as before: the
oracle here is the former algorithm (symmetric difference of the rows as Python values, the count,
the smallest differing position and the first differing row by `repr`).
"""

from __future__ import annotations

import json

import os
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from ledger.app import Ledger
from ledger.integrity import scratch as scratch_module
from ledger.integrity.verify import Finding, Verifier
from ledger.store import views
from simulations.runs import SimulatedWorld
from simulations.world import SimulationConfig
from tests.integrity.integrity_support import clean_environment, cli, write_jsonl

# a small simulated world with misuse: the rules raise flags, so every read-model table has rows
WORLD = SimulationConfig(pilots=("ROAD", "AGRO", "LOCAL"), seed=5, transactions=300, misuse_rate=Fraction(1, 3))


@pytest.fixture(scope="module")
def world_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_jsonl(tmp_path_factory.mktemp("world") / "world.jsonl", SimulatedWorld(WORLD).records)


def _caught_up_store(url: str, world_file: Path) -> str:
    with clean_environment():
        imported = cli("--store", url, "import", world_file)
        assert imported.code in (0, 1), imported.err[-1000:]
        assert cli("--store", url, "balance", "--format", "json").code == 0  # projections reach the end
        flags = cli("--store", url, "flags", "--format", "json")
        assert flags.code in (0, 1)  # the rules too
        # an auditor's disposition, so that every projection table has rows (the dispositions' too),
        # dated at the world's last moment (no window closes because of it)
        last_at = json.loads(world_file.read_text(encoding="utf-8").splitlines()[-1])["at"]
        disposed = cli("--store", url, "dispose", json.loads(flags.out)[0]["id"], "--disposition", "explained",
                       "--comment", "seen and explained", "--id", "DISPOSED-1", "--at", last_at)
        assert disposed.code == 0, disposed.err
        assert cli("--store", url, "flags", "--format", "json").code in (0, 1)  # the projections take it in
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path, world_file: Path) -> str:
    return _caught_up_store(f"sqlite:///{tmp_path / 'ledger.sqlite'}", world_file)


@pytest.fixture
def scratch_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary directory verify's scratch file goes to, watched by the tests."""
    directory = tmp_path / "tmp"
    directory.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    return directory


def _run_verify(url: str) -> list[Finding]:
    ledger = Ledger(url, sealed_ok=True)
    try:
        ledger.read_side()
        return Verifier(ledger).run()
    finally:
        ledger.close()


# --- the scratch file ---------------------------------------------------------------------------


def test_verify_rebuilds_in_a_scratch_file_on_disk_not_in_memory(sqlite_url, scratch_dir, monkeypatch):
    opened: list[str] = []
    original = views.SQLiteViewDatabase.__init__

    def recording(self: Any, path: str, *args: Any, **kwargs: Any) -> None:
        opened.append(path)
        original(self, path, *args, **kwargs)

    monkeypatch.setattr(views.SQLiteViewDatabase, "__init__", recording)
    seen_during: list[list[str]] = []
    rebuild = Verifier.check_projections

    def watching(self: Verifier) -> list[Finding]:
        seen_during.append(sorted(os.listdir(scratch_dir)))
        return rebuild(self)

    monkeypatch.setattr(Verifier, "check_projections", watching)
    assert _run_verify(sqlite_url) == []
    assert ":memory:" not in opened
    scratch_files = [path for path in opened if Path(path).name.startswith(scratch_module.PREFIX)]
    assert scratch_files and all(Path(path).parent == scratch_dir for path in scratch_files), opened
    assert seen_during and any(name.startswith(scratch_module.PREFIX) for name in seen_during[0]), seen_during
    assert os.listdir(scratch_dir) == [], "the scratch file (and its -wal/-shm) is removed after verify"


def test_the_scratch_file_is_removed_when_verify_fails(sqlite_url, scratch_dir, monkeypatch):
    def failing(self: Verifier) -> list[Finding]:
        assert os.listdir(scratch_dir), "the scratch file exists while verify runs"
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Verifier, "check_projections", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        _run_verify(sqlite_url)
    assert os.listdir(scratch_dir) == []


# --- the SQL comparison reports what the Python one did -------------------------------------------


def _compared_tables(url: str) -> list[tuple[str, str]]:
    ledger = Ledger(url)
    try:
        runner = ledger.read_side().runner
        return [(projection.name, table) for projection in runner.projections.values()
                for table in projection.compared_tables or projection.tables]
    finally:
        ledger.close()


class _Live:
    """The store's read-model tables, through a view database of its own (SQLite or PostgreSQL)."""

    def __init__(self, url: str) -> None:
        from ledger.store.url import parse_store_url

        self.db = views.open_view_database(parse_store_url(url))
        self.sqlite = self.db.kind == "sqlite"

    def columns(self, table: str) -> list[tuple[str, str]]:
        if self.sqlite:
            return [(row[1], row[2].upper()) for row in self.db.query(f"PRAGMA table_info({table})")]
        rows = self.db.query("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
                             "AND table_schema = current_schema() ORDER BY ordinal_position", (table,))
        return [(name, kind.upper()) for name, kind in rows]

    def rows(self, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
        return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                for row in self.db.query(f"SELECT {', '.join(columns)} FROM {table}")]


def _expected_finding(projection: str, table: str, columns: list[str], live: list[tuple[Any, ...]],
                      rebuilt: list[tuple[Any, ...]], reached: int) -> tuple[int, str]:
    """The finding as the former sorted-list comparison worded it."""
    differing = sorted(set(live) ^ set(rebuilt), key=repr)
    position = reached
    if "position" in columns and differing:
        index = columns.index("position")
        position = min(int(row[index]) for row in differing if row[index] is not None)
    example = dict(zip(columns, differing[0])) if differing else {}
    shown = ", ".join(f"{k}={v!r}" for k, v in example.items() if not isinstance(v, bytes))[:200]
    return position, (f"projection {projection}, table {table}, differs from a rebuild from the events "
                      f"({len(differing)} row(s) differ, e.g. {shown}): the read model was edited; `tenge-ledger rebuild` "
                      "recomputes it from the events")


def _edit(live: _Live, table: str, columns: list[tuple[str, str]], row: tuple[Any, ...], how: str) -> None:
    names = [name for name, _ in columns]
    where = " AND ".join(f"{name} = ?" if value is not None else f"{name} IS NULL" for name, value in zip(names, row))
    params = [value for value in row if value is not None]
    if how == "deleted":
        live.db.execute(f"DELETE FROM {table} WHERE {where}", params)
        return
    assert how == "changed"
    name, kind = next((name, kind) for name, kind in reversed(columns) if kind in ("TEXT", "BIGINT", "INTEGER"))
    change = f"{name} = {name} || 'X'" if kind == "TEXT" else f"{name} = {name} + 1"
    live.db.execute(f"UPDATE {table} SET {change} WHERE {where}", params)


def _check_every_table(url: str, world_file: Path, how: str) -> None:
    tables = _compared_tables(url)
    assert {table for _, table in tables} >= {"ledger_transactions", "ledger_balances", "ledger_flags"}, tables
    reached = Ledger(url).position()
    for projection, table in tables:
        live = _Live(url)
        try:
            columns = live.columns(table)
            names = [name for name, _ in columns]
            before = live.rows(table, names)
            assert before, f"the world leaves rows in {table}"
            _edit(live, table, columns, sorted(before, key=repr)[len(before) // 2], how)
            after = live.rows(table, names)
            assert after != before
            findings = _run_verify(url)
            assert [(f.position, f.check, f.message) for f in findings] == \
                [(*_expected_finding(projection, table, names, after, before, reached)[:1], "projection",
                  _expected_finding(projection, table, names, after, before, reached)[1])], (table, how)
            # put the rows back, so the next table is the only one that differs
            live.db.execute(f"DELETE FROM {table}")
            live.db.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", before)
            assert _run_verify(url) == []
        finally:
            live.db.close()


@pytest.mark.parametrize("how", ["changed", "deleted"])
def test_an_edit_of_any_projection_table_is_reported_as_before_on_sqlite(sqlite_url, world_file, scratch_dir, how):
    _check_every_table(sqlite_url, world_file, how)
    assert os.listdir(scratch_dir) == []


@pytest.mark.postgres
@pytest.mark.parametrize("how", ["changed", "deleted"])
def test_an_edit_of_any_projection_table_is_reported_as_before_on_postgres(postgres_url, world_file, scratch_dir, how):
    _check_every_table(_caught_up_store(postgres_url, world_file), world_file, how)
    assert os.listdir(scratch_dir) == []


def test_a_repeated_row_is_a_difference_though_the_sets_of_rows_agree(sqlite_url, scratch_dir):
    """`EXCEPT` compares sets; a row repeated in the live table (no key forbids it) still differs."""
    live = _Live(sqlite_url)
    try:
        names = [name for name, _ in live.columns("ledger_balance_changes")]
        row = live.rows("ledger_balance_changes", names)[0]
        try:
            live.db.execute(f"INSERT INTO ledger_balance_changes ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", row)
        except Exception:  # noqa: BLE001 - a unique key forbids repeats: nothing to check here
            pytest.skip("ledger_balance_changes forbids repeated rows")
    finally:
        live.db.close()
    findings = _run_verify(sqlite_url)
    assert len(findings) == 1 and findings[0].check == "projection", findings
    assert "table ledger_balance_changes, differs from a rebuild from the events (0 row(s) differ, e.g. )" in findings[0].message
