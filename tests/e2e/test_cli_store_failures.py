"""Environment failures (SPEC §5, issue 10 item 9): one line naming the store and the cause, the
exit code SPEC §5 gives (69 unavailable, 74 I/O, verify on a damaged store 3), never a traceback
unless --debug, and nothing created or changed by a failed read.

The full disk and the read-only store are exercised for real in tests/faults/test_disk_faults.py.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from e2e_support import cli, realistic_world, sqlite_url
from tests.conftest import POSTGRES_URL
from ledger.store.errors import EXIT_IO, EXIT_UNAVAILABLE, StoreFailure, redact, store_failure

READS = [("balance",), ("flags",), ("verify",), ("trace", "ROAD-2025-041-000001-98"), ("history", "ROAD-2025-041-000001-98")]


def _one_clear_line(err: str, store: str, cause: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert store in lines[0] and cause in lines[0], err
    assert "Traceback" not in err


# --- PostgreSQL -------------------------------------------------------------------------------


def test_unreachable_postgres_is_69_with_the_cause_and_without_the_password(capsys):
    url = "postgresql://ledger:s3cret-pw@127.0.0.1:1/ledger"
    run = cli(capsys, "--store", url, "balance", "--format", "json")
    assert run.code == EXIT_UNAVAILABLE
    _one_clear_line(run.err, "postgresql://ledger:***@127.0.0.1:1/ledger", "refused")
    assert "s3cret-pw" not in run.err + run.out


def _postgres_base() -> str:
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need TENGE_LEDGER_TEST_POSTGRES")
    return POSTGRES_URL.split("?")[0]


def _with(base: str, **changes: str) -> str:
    parts = urlsplit(base)
    if "user" in changes:
        parts = parts._replace(netloc=f"{changes['user']}@{parts.hostname}:{parts.port or 5432}")
    if "database" in changes:
        parts = parts._replace(path="/" + changes["database"])
    if "schema" in changes:
        parts = parts._replace(query=f"schema={changes['schema']}")
    return urlunsplit(parts)


@pytest.mark.postgres
@pytest.mark.parametrize(("change", "cause"), [
    ({"database": "no_such_database_x"}, 'database "no_such_database_x" does not exist'),
    ({"user": "no_such_role_x"}, 'role "no_such_role_x" does not exist'),
    ({"schema": "no_such_schema_x"}, 'schema "no_such_schema_x" does not exist'),
], ids=["database", "user", "schema"])
def test_unknown_database_user_or_schema_is_69_naming_it(capsys, tmp_path, change, cause):
    url = _with(_postgres_base(), **change)
    path = realistic_world().script.write(tmp_path / "w.jsonl")
    for command in (["balance"], ["import", str(path)]):
        run = cli(capsys, "--store", url, *command)
        assert run.code == EXIT_UNAVAILABLE, run.err
        _one_clear_line(run.err, redact(url), cause)


def test_a_lock_held_too_long_maps_to_75_busy():
    failure = store_failure(sqlite3.OperationalError("database is locked"), "x.sqlite")
    assert failure is not None and failure.exit_code == 75


# --- SQLite -----------------------------------------------------------------------------------


@pytest.mark.parametrize("command", READS, ids=lambda c: c[0])
def test_a_read_of_a_missing_sqlite_file_is_69_and_creates_nothing(capsys, tmp_path, command):
    path = tmp_path / "nowhere.sqlite"
    run = cli(capsys, "--store", sqlite_url(path), *command)
    assert run.code == EXIT_UNAVAILABLE, run.err
    _one_clear_line(run.err, sqlite_url(path), "no store file")
    assert sorted(os.listdir(tmp_path)) == []


def test_a_write_into_a_missing_directory_is_69(capsys, tmp_path):
    path = tmp_path / "no-such-dir" / "ledger.sqlite"
    world = realistic_world()
    run = cli(capsys, "--store", sqlite_url(path), "import", world.script.write(tmp_path / "w.jsonl"))
    assert run.code == EXIT_UNAVAILABLE
    _one_clear_line(run.err, sqlite_url(path), "does not exist")


@pytest.mark.parametrize("command", READS + [("import", "w.jsonl")], ids=lambda c: c[0])
def test_a_file_of_random_bytes_is_69_or_a_verify_finding_and_stays_untouched(capsys, tmp_path, command, monkeypatch):
    monkeypatch.chdir(tmp_path)
    realistic_world().script.write(tmp_path / "w.jsonl")
    path = tmp_path / "random.sqlite"
    noise = bytes((i * 131 + 7) % 251 for i in range(64 * 1024))
    path.write_bytes(noise)
    run = cli(capsys, "--store", sqlite_url(path), *command)
    if command[0] == "verify":
        assert run.code == 3, run.err
        assert "finding" in run.err and "not a SQLite database" in run.err
    else:
        assert run.code == EXIT_UNAVAILABLE
        _one_clear_line(run.err, sqlite_url(path), "not a tenge-ledger store")
    assert "Traceback" not in run.err
    assert path.read_bytes() == noise and sorted(os.listdir(tmp_path)) == ["random.sqlite", "w.jsonl"]


def _imported_store(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Path:
    path = tmp_path / "ledger.sqlite"
    world = realistic_world()
    assert cli(capsys, "--store", sqlite_url(path), "import", world.script.write(tmp_path / "w.jsonl")).code == 0
    assert cli(capsys, "--store", sqlite_url(path), "balance").code == 0
    with sqlite3.connect(path) as conn:  # everything in the main file, so truncating it loses pages
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def test_verify_of_a_truncated_store_exits_3_with_a_finding(capsys, tmp_path):
    path = _imported_store(capsys, tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    run = cli(capsys, "--store", sqlite_url(path), "verify")
    assert run.code == 3, run.err
    assert "finding" in run.err and sqlite_url(path) in run.err and "Traceback" not in run.err
    other = cli(capsys, "--store", sqlite_url(path), "balance")
    assert other.code == EXIT_UNAVAILABLE and "Traceback" not in other.err


# --- the one mapping, and --debug -------------------------------------------------------------


def test_a_full_disk_reported_by_sqlite_maps_to_74_naming_the_store():
    """The injected form of a full disk (the real one: tests/faults/test_disk_faults.py)."""
    failure = store_failure(sqlite3.OperationalError("database or disk is full"), "sqlite:///x.sqlite")
    assert isinstance(failure, StoreFailure) and failure.exit_code == EXIT_IO
    assert str(failure) == "store sqlite:///x.sqlite: database or disk is full"
    readonly = store_failure(sqlite3.OperationalError("attempt to write a readonly database"), "x.sqlite")
    assert readonly is not None and readonly.exit_code == EXIT_IO
    assert store_failure(ValueError("database or disk is full"), "x.sqlite") is None, "only store errors"


def test_redact_hides_only_the_password():
    assert redact("postgresql://u:p%40ss@h:5/db?schema=s") == "postgresql://u:***@h:5/db?schema=s"
    assert redact("postgresql://u@h/db") == "postgresql://u@h/db"
    assert redact("/tmp/a@b.sqlite") == "/tmp/a@b.sqlite"


def test_a_bug_is_70_with_one_line_and_the_traceback_only_with_debug(capsys, tmp_path, monkeypatch):
    from ledger.cli import base

    def broken(*args, **kwargs):
        raise RuntimeError("a planted bug")

    monkeypatch.setattr(base.Context, "ledger", broken)
    url = sqlite_url(tmp_path / "ledger.sqlite")
    plain = cli(capsys, "--store", url, "balance")
    assert plain.code == 70
    assert "a planted bug" in plain.err and "Traceback" not in plain.err and "--debug" in plain.err
    debug = cli(capsys, "--debug", "--store", url, "balance")
    assert debug.code == 70
    assert "Traceback" in debug.err and "a planted bug" in debug.err


def test_an_os_error_on_another_file_is_one_line_74_and_not_blamed_on_the_store(capsys, tmp_path, monkeypatch):
    from ledger.cli import base

    def unwritable(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / "report.jsonl"))

    monkeypatch.setattr(base.Context, "ledger", unwritable)
    url = sqlite_url(tmp_path / "ledger.sqlite")
    run = cli(capsys, "--store", url, "balance")
    assert run.code == EXIT_IO
    assert run.err.strip() == f"error: cannot use {tmp_path / 'report.jsonl'}: Permission denied"
    store_side = store_failure(PermissionError(13, "Permission denied", str(tmp_path / "ledger.sqlite-wal")), url)
    assert store_side is not None and store_side.exit_code == EXIT_IO and url in str(store_side)
