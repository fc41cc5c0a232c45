"""Schema setup runs once, under a lock, and a current store runs no DDL on open (issue 10 item 10).

Before: every open re-ran eventsourcing's schema setup (CREATE OR REPLACE FUNCTION included), and
2 of 24 concurrent `balance` runs on a fresh PostgreSQL schema died with "tuple concurrently
updated" (exit 70).
"""

from __future__ import annotations

import secrets
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.app import Ledger
from ledger.integrity.audit import Audit
from ledger.store.url import parse_store_url
from tests.support import road_world

PROCESSES = 24
DDL_WORDS = ("CREATE", "ALTER", "DROP")


def _env() -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("TENGE_LEDGER_")}
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


@pytest.mark.postgres
def test_24_concurrent_balance_runs_on_a_fresh_postgres_schema_all_succeed(postgres_url, tmp_path):
    children = [
        subprocess.Popen([sys.executable, "-m", "ledger", "--store", postgres_url, "balance", "--format", "json"],
                         cwd=tmp_path, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(PROCESSES)
    ]
    failures = []
    for child in children:
        _, err = child.communicate(timeout=300)
        if child.returncode != 0:
            failures.append((child.returncode, err.decode()[-300:]))
    assert failures == [], failures


def _set_up(url: str) -> None:
    """A store with events, projections caught up and the audit tables made."""
    s, _ = road_world()
    ledger = Ledger(url)
    try:
        ledger.execute(s.commands())
        ledger.read_side().catch_up()
        Audit(ledger)
    finally:
        ledger.close()


def _open_everything(url: str) -> None:
    ledger = Ledger(url)
    try:
        ledger.read_side().catch_up()
        Audit(ledger)
    finally:
        ledger.close()


def test_opening_a_current_sqlite_store_runs_no_ddl(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    _set_up(url)
    statements: list[str] = []
    connect = sqlite3.connect

    def traced(*args, **kwargs):
        conn = connect(*args, **kwargs)
        conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(sqlite3, "connect", traced)
    _open_everything(url)
    assert statements, "the trace saw the store being read"
    ddl = [sql for sql in statements if sql.lstrip().upper().startswith(DDL_WORDS)]
    assert ddl == []


@pytest.mark.postgres
def test_a_role_without_create_on_the_schema_opens_a_current_postgres_store(postgres_url):
    """No DDL on open, shown by PostgreSQL itself: the role may not create anything in the schema."""
    import psycopg

    _set_up(postgres_url)
    dsn, _, query = postgres_url.partition("?")
    schema = query.split("schema=")[1]
    role = "t_reader_" + secrets.token_hex(4)
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        admin.execute(f'REVOKE CREATE ON SCHEMA "{schema}" FROM "{role}"')
        admin.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
        admin.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"')
        admin.execute(f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}"')
        admin.execute(f'GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA "{schema}" TO "{role}"')
    try:
        parts = dsn.split("://", 1)
        host = parts[1].split("@", 1)[-1]
        as_role = f"{parts[0]}://{role}@{host}?schema={schema}"
        assert parse_store_url(as_role).env["POSTGRES_USER"] == role
        _open_everything(as_role)
        ledger = Ledger(as_role)
        try:
            assert ledger.read_side().balances(None), "the role reads the store"
        finally:
            ledger.close()
    finally:
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f'DROP OWNED BY "{role}"')
            admin.execute(f'DROP ROLE "{role}"')
