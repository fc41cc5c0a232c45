"""View databases: where projections keep their tables, beside the events (DESIGN.md).

SQLite: the same file as the events (its own connection; WAL lets readers and one writer share it).
PostgreSQL: the same database and schema, its own connection. `memory://`: an in-memory SQLite
database owned by the `Ledger` instance.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urlsplit

from ledger.store.setup import SETUP_TABLE, SETUP_TABLE_DDL, setup_lock_key, statements_digest
from ledger.store.url import StoreConfig

Row = tuple[Any, ...]
# A rebuild holds this lock while it fills projections, so other processes can tell a live rebuild
# (leave it alone: busy) from one that was killed (its marked projections are reset and rebuilt).
# The lock dies with its holder: a flock on a file beside a SQLite store, a session advisory lock
# on PostgreSQL; no clocks, no heartbeats.
REBUILD_LOCK_SUFFIX = ".rebuild-lock"


def rebuild_lock_key(schema: str) -> int:
    digest = hashlib.sha256(("tenge-ledger projections rebuild:" + schema).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class _SetupOnce:
    """Tables created once per store (see `ledger.store.setup`): no DDL when they are current."""

    read_only = False

    def has_table(self, name: str) -> bool:
        raise NotImplementedError

    def setup_transaction(self) -> Any:
        raise NotImplementedError

    def transaction(self) -> Any:
        raise NotImplementedError

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        raise NotImplementedError

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        raise NotImplementedError

    def iterate(self, sql: str, params: Sequence[Any] = (), size: int = 5_000) -> Iterator[Row]:
        """The rows of a query, `size` at a time (bounded memory, unlike `query`)."""
        raise NotImplementedError

    def setup_current(self, name: str, digest: str) -> bool:
        """Does the store record that group `name` was set up by statements with this digest?"""
        if not self.has_table(SETUP_TABLE):
            return False
        rows = self.query(f"SELECT digest FROM {SETUP_TABLE} WHERE name = ?", (name,))
        return bool(rows) and rows[0][0] == digest

    def record_setup(self, name: str, digest: str) -> None:
        """Note group `name` as set up (inside `setup_transaction`)."""
        self.execute(SETUP_TABLE_DDL)
        self.execute(f"INSERT INTO {SETUP_TABLE} (name, digest) VALUES (?, ?) "
                     "ON CONFLICT (name) DO UPDATE SET digest = excluded.digest", (name, digest))

    def ensure_tables(self, name: str, statements: Sequence[str]) -> None:
        """Run idempotent DDL `statements` once: nothing at all when the store already has them."""
        digest = statements_digest(statements)
        if self.read_only or self.setup_current(name, digest):
            return  # read-only: nothing can be created, and what exists is what there is to read
        with self.setup_transaction():
            if self.setup_current(name, digest):  # another process did it while we waited
                return
            for statement in statements:
                self.execute(statement)
            self.record_setup(name, digest)


class SQLiteViewDatabase(_SetupOnce):
    kind = "sqlite"

    def __init__(self, path: str, read_only_uri: bool = False, uri_attach: bool = False) -> None:
        """`read_only_uri`: `path` is a `file:…?immutable=1` URI of a store this process cannot write.
        `uri_attach`: `ATTACH` takes `file:` URIs (a scratch database reading a store `mode=ro`)."""
        assert not (uri_attach and path.startswith("file:")), path
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, uri=read_only_uri or uri_attach)
        self.read_only = read_only_uri
        file_path = unquote(urlsplit(path).path) if path.startswith("file:") else path
        self._lock_path = None if file_path in ("", ":memory:") else file_path + REBUILD_LOCK_SUFFIX
        self._conn.execute("PRAGMA busy_timeout = 30000")
        if path != ":memory:" and not read_only_uri:
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

    def setup_transaction(self) -> Any:
        """A write transaction (SQLite's write lock serializes setup)."""
        return self.transaction()

    def has_table(self, name: str) -> bool:
        return bool(self.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Row]) -> None:
        self._conn.executemany(sql, rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._conn.execute(sql, params).fetchall()

    def iterate(self, sql: str, params: Sequence[Any] = (), size: int = 5_000) -> Iterator[Row]:
        cursor = self._conn.execute(sql, params)
        try:
            while rows := cursor.fetchmany(size):
                yield from rows
        finally:
            cursor.close()

    def hold_rebuild_lock(self) -> Any:
        """The rebuild lock, held until `release_rebuild_lock`; None if another process holds it."""
        if self._lock_path is None:
            return True  # an in-memory store: one process
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return fd

    def release_rebuild_lock(self, handle: Any) -> None:
        if handle is not True:
            os.close(handle)  # closing the descriptor releases its flock

    def rebuild_lock_held(self) -> bool:
        """Whether a live process holds the rebuild lock (reading only: never creates the file)."""
        if self._lock_path is None:
            return False
        try:
            fd = os.open(self._lock_path, os.O_RDONLY)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    def close(self) -> None:
        self._conn.close()


class PostgresViewDatabase(_SetupOnce):
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
        self._setup_lock_key = setup_lock_key(schema or "public")
        self._rebuild_lock_key = rebuild_lock_key(schema or "public")
        self._env = env

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._conn.transaction():
            yield

    @contextmanager
    def setup_transaction(self) -> Iterator[None]:
        """A transaction holding the schema's setup lock (the same key the event recorder takes)."""
        with self._conn.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._setup_lock_key,))
            yield

    def has_table(self, name: str) -> bool:
        return self.query("SELECT to_regclass(?)", (name,))[0][0] is not None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._conn.execute(_pg(sql), params)

    def executemany(self, sql: str, rows: Sequence[Row]) -> None:
        with self._conn.cursor() as cursor:
            cursor.executemany(_pg(sql), rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._conn.execute(_pg(sql), params).fetchall()

    def iterate(self, sql: str, params: Sequence[Any] = (), size: int = 5_000) -> Iterator[Row]:
        """A server-side cursor, in a transaction of its own (the rows are fetched `size` at a time)."""
        with self._conn.transaction(), self._conn.cursor(name="tenge_ledger_iterate") as cursor:
            cursor.itersize = size
            cursor.execute(_pg(sql), params)
            yield from cursor

    def hold_rebuild_lock(self) -> Any:
        """The rebuild lock on a connection of its own (it dies with the process); None if taken."""
        holder = PostgresViewDatabase(self._env)
        if not holder.query("SELECT pg_try_advisory_lock(?)", (self._rebuild_lock_key,))[0][0]:
            holder.close()
            return None
        return holder

    def release_rebuild_lock(self, handle: Any) -> None:
        handle.query("SELECT pg_advisory_unlock(?)", (self._rebuild_lock_key,))  # now, not when the server
        handle.close()  # notices the session ended (a killed holder's lock ends with its session)

    def rebuild_lock_held(self) -> bool:
        key = self._rebuild_lock_key
        if not self.query("SELECT pg_try_advisory_lock(?)", (key,))[0][0]:
            return True
        self.query("SELECT pg_advisory_unlock(?)", (key,))
        return False

    def close(self) -> None:
        self._conn.close()


def _pg(sql: str) -> str:
    assert "%" not in sql, "portable SQL uses ? placeholders only"
    return sql.replace("?", "%s")


def open_view_database(config: StoreConfig) -> SQLiteViewDatabase | PostgresViewDatabase:
    if config.kind == "sqlite":
        return SQLiteViewDatabase(config.env["SQLITE_DBNAME"], read_only_uri=config.read_only)
    if config.kind == "postgresql":
        return PostgresViewDatabase(config.env)
    assert config.kind == "memory", config.kind
    return SQLiteViewDatabase(":memory:")
