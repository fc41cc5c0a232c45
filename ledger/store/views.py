"""View databases: where projections keep their tables, beside the events (DESIGN.md).

SQLite: the same file as the events (its own connection; WAL lets readers and one writer share it).
PostgreSQL: the same database and schema, its own connection. `memory://`: an in-memory SQLite
database owned by the `Ledger` instance.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ledger.store.url import StoreConfig

Row = tuple[Any, ...]


class SQLiteViewDatabase:
    kind = "sqlite"

    def __init__(self, path: str) -> None:
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA busy_timeout = 30000")
        if path != ":memory:":
            self._conn.execute("PRAGMA journal_mode = WAL")
        self._depth = 0

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction (BEGIN IMMEDIATE: one writer at a time); nests."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        else:
            self._conn.execute("COMMIT")
        finally:
            self._depth = 0

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Row]) -> None:
        self._conn.executemany(sql, rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        self._conn.close()


class PostgresViewDatabase:
    kind = "postgresql"

    def __init__(self, env: dict[str, str]) -> None:
        import psycopg

        self._conn = psycopg.connect(
            dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"], password=env.get("POSTGRES_PASSWORD") or None,
            connect_timeout=int(env.get("POSTGRES_CONNECT_TIMEOUT", "10")), autocommit=True,
        )
        schema = env.get("POSTGRES_SCHEMA")
        if schema:
            self._conn.execute("SELECT set_config('search_path', %s, false)", (schema,))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._conn.transaction():
            yield

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._conn.execute(_pg(sql), params)

    def executemany(self, sql: str, rows: Sequence[Row]) -> None:
        with self._conn.cursor() as cursor:
            cursor.executemany(_pg(sql), rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._conn.execute(_pg(sql), params).fetchall()

    def close(self) -> None:
        self._conn.close()


def _pg(sql: str) -> str:
    assert "%" not in sql, "portable SQL uses ? placeholders only"
    return sql.replace("?", "%s")


def open_view_database(config: StoreConfig) -> SQLiteViewDatabase | PostgresViewDatabase:
    if config.kind == "sqlite":
        return SQLiteViewDatabase(config.env["SQLITE_DBNAME"])
    if config.kind == "postgresql":
        return PostgresViewDatabase(config.env)
    assert config.kind == "memory", config.kind
    return SQLiteViewDatabase(":memory:")
