"""A full disk and a read-only store (SPEC §5: exit 74, one line naming the store and the cause;
whole batches already written stay written, and the same import run again completes it).

The real thing where possible: a small tmpfs that fills up, remounted bigger afterwards, and a
tmpfs remounted read-only (both need root). The fallbacks are explicit and always run as well: a
file-size limit (RLIMIT_FSIZE) on the child process, and file modes (which bind all but root).
"""

from __future__ import annotations

import json
import resource
import secrets
from urllib.parse import urlsplit, urlunsplit
from pathlib import Path

import pytest

from tests.faults.conftest import record
from tests.faults.fs import make_read_only_by_mode, remount_read_only, remount_read_write, resize, small_tmpfs
from tests.faults.support import BATCH, SEED, Probe, events_table, read, run, state_of, verify_ok

FULL_DISK_KIB = 160  # the store of the fault world needs several times this
FSIZE_LIMIT_BYTES = 96 * 1024


def _import(url: str, fault_world: dict, cwd: Path, **popen: object):
    return run(url, "import", fault_world["path"], "--batch-size", str(BATCH), "--progress", "none", cwd=cwd, **popen)


def _assert_one_clear_line(err: str, url: str, *causes: str) -> None:
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    assert url in lines[0] and any(cause in lines[0].lower() for cause in causes), err
    assert "Traceback" not in err, err


def _events(url: str) -> int:
    probe = Probe(url)
    try:
        return probe.count(events_table(url))
    finally:
        probe.close()


def _then_completes(url: str, fault_world: dict, cwd: Path, kept: int) -> None:
    assert kept % BATCH == 0 and kept < fault_world["lines"], f"seed {SEED}: {kept} events kept"
    again = _import(url, fault_world, cwd)
    assert again.code in (0, 1), again.err
    assert state_of(url, fault_world["colors"]) == fault_world["clean"]
    verify_ok(url)


def test_full_disk_during_import_exits_74_keeps_whole_batches_and_the_same_import_completes(fault_world, tmp_path):
    with small_tmpfs(tmp_path / "disk", FULL_DISK_KIB) as disk:
        if disk is None:
            pytest.skip("cannot mount a small tmpfs here (needs root); the RLIMIT_FSIZE test covers a full disk")
        url = f"sqlite:///{disk / 'ledger.sqlite'}"
        full = _import(url, fault_world, tmp_path)
        assert full.code == 74, full.err
        _assert_one_clear_line(full.err, url, "full")
        kept = _events(url)
        resize(disk, 64 * 1024)
        _then_completes(url, fault_world, tmp_path, kept)
    record("full disk during import (tmpfs)", "sqlite", f"exit 74 after {kept} events; re-import after growing = clean run")


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE_LIMIT_BYTES, FSIZE_LIMIT_BYTES))


def test_file_size_limit_during_import_exits_74_and_the_same_import_completes(fault_world, tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    full = _import(url, fault_world, tmp_path, preexec_fn=_limit_file_size)
    assert full.code == 74, full.err
    _assert_one_clear_line(full.err, url, "full", "too large", "i/o")
    kept = _events(url)
    _then_completes(url, fault_world, tmp_path, kept)
    record("file-size limit during import (RLIMIT_FSIZE)", "sqlite", f"exit 74 after {kept} events; re-import = clean run")


def _caught_up_store(fault_world: dict, where: Path) -> str:
    url = f"sqlite:///{where / 'ledger.sqlite'}"
    assert _import(url, fault_world, where).code == 1
    assert read(url, "balance", "--format", "json").code == 0  # projections caught up
    return url


def _writes_refused_reads_served(url: str, fault_world: dict, cwd: Path) -> None:
    refused = _import(url, fault_world, cwd)
    assert refused.code == 74, refused.err
    _assert_one_clear_line(refused.err, url, "read-only", "readonly")
    assert state_of(url, fault_world["colors"]) == fault_world["clean"]  # reads still work
    verify_ok(url)


def test_read_only_mount_refuses_writes_with_74_and_still_serves_reads(fault_world, tmp_path):
    with small_tmpfs(tmp_path / "ro", 64 * 1024) as mount:
        if mount is None:
            pytest.skip("cannot mount a tmpfs here (needs root); the file-mode test covers a read-only store")
        url = _caught_up_store(fault_world, mount)
        remount_read_only(mount)
        try:
            _writes_refused_reads_served(url, fault_world, tmp_path)
        finally:
            remount_read_write(mount)
        assert state_of(url, fault_world["colors"]) == fault_world["clean"], "nothing changed"
    record("read-only store (read-only mount)", "sqlite", "import exit 74, one line; balance/history/verify work")


def test_read_only_file_modes_refuse_writes_with_74_and_still_serve_reads(fault_world, tmp_path):
    where = tmp_path / "store"
    where.mkdir()
    url = _caught_up_store(fault_world, where)
    if not make_read_only_by_mode(where / "ledger.sqlite"):
        where.chmod(0o755)
        pytest.skip("file modes do not bind root; the read-only mount test covers a read-only store")
    try:
        _writes_refused_reads_served(url, fault_world, tmp_path)
    finally:
        where.chmod(0o755)
        (where / "ledger.sqlite").chmod(0o644)
    record("read-only store (mode 0444, directory 0555)", "sqlite", "import exit 74; reads work")


@pytest.mark.postgres
def test_a_postgres_role_that_may_only_read_gets_74_for_a_write_and_reads_work(fault_world, postgres_url, tmp_path):
    import psycopg

    assert run(postgres_url, "import", fault_world["path"], "--batch-size", "500", "--progress", "none", cwd=tmp_path).code == 1
    assert read(postgres_url, "balance").code == 0  # the owner catches the projections up
    dsn, _, query = postgres_url.partition("?")
    schema = query.split("schema=")[1]
    role = "t_ro_" + secrets.token_hex(4)
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        admin.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
        admin.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"')
    try:
        parts = urlsplit(dsn)
        as_reader = urlunsplit(parts._replace(netloc=f"{role}@{parts.hostname}:{parts.port or 5432}", query=f"schema={schema}"))
        assert state_of(as_reader, fault_world["colors"]) == fault_world["clean"]  # reads work
        more = tmp_path / "more.jsonl"
        more.write_text(json.dumps({**json.loads(fault_world["path"].read_text().splitlines()[-1]), "id": "MORE-1"}) + "\n")
        refused = run(as_reader, "import", more, "--progress", "none", cwd=tmp_path)
        assert refused.code == 74, refused.err
        _assert_one_clear_line(refused.err, as_reader, "permission denied")
    finally:
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f'DROP OWNED BY "{role}"')
            admin.execute(f'DROP ROLE "{role}"')
    assert state_of(postgres_url, fault_world["colors"]) == fault_world["clean"], "nothing changed"
    record("read-only store (role with SELECT only)", "postgresql", "import exit 74, one line; balance/history work")
