"""Check a store before opening it, so an environment failure is one clear line (SPEC §5).

eventsourcing's connection pool hides the cause of a failed PostgreSQL connection behind a
timeout, and SQLite creates any file it is asked to open; both are wrong for an operator. So the
store is probed first with a single plain connection: a server that refuses, an unknown database,
user or schema, a missing file when nothing may be created, or a file that is not a SQLite
database each raise `StoreFailure` with the cause and nothing is created.
"""

from __future__ import annotations

import os

from ledger.store.errors import DAMAGED, IO, UNAVAILABLE, StoreFailure
from ledger.store.url import StoreConfig

SQLITE_HEADER = b"SQLite format 3\x00"


def check_store(config: StoreConfig, *, create: bool) -> StoreConfig:
    """The config to open the store with; raises `StoreFailure` unless the store can be opened.

    `create`: the command writes (a missing SQLite file may be made). A SQLite store this process
    cannot write is refused to a writer (74) and opened read-only and immutable for a reader.
    """
    if config.kind == "sqlite":
        return _check_sqlite(config, create)
    if config.kind == "postgresql":
        _check_postgres(config)
    return config


def _check_sqlite(config: StoreConfig, create: bool) -> StoreConfig:
    path = config.env["SQLITE_DBNAME"]
    directory = os.path.dirname(path)
    if not os.path.exists(path):
        if not create:
            raise StoreFailure(UNAVAILABLE, config.url, f"no store file {path} (a read command never creates one)")
        if not os.path.isdir(directory):
            raise StoreFailure(UNAVAILABLE, config.url, f"the store directory {directory} does not exist")
        if not os.access(directory, os.W_OK):
            raise StoreFailure(IO, config.url, f"the store directory {directory} is read-only")
        return config
    if not os.path.isfile(path):
        raise StoreFailure(UNAVAILABLE, config.url, f"{path} is not a file")
    try:
        with open(path, "rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except OSError as problem:
        raise StoreFailure(IO, config.url, f"cannot read {path}: {problem.strerror}") from problem
    if header and header != SQLITE_HEADER:
        raise StoreFailure(DAMAGED, config.url, "not a tenge-ledger store: the file is not a SQLite database")
    if os.access(path, os.W_OK) and os.access(directory, os.W_OK):
        return config
    if create:
        raise StoreFailure(IO, config.url, f"the store is read-only ({path} or its directory cannot be written)")
    if os.path.getsize(path + "-wal") if os.path.exists(path + "-wal") else 0:
        return config  # recent commits still sit in the write-ahead log: never read around them
    return config.as_read_only()


def _check_postgres(config: StoreConfig) -> None:
    import psycopg

    env = config.env
    schema = env.get("POSTGRES_SCHEMA") or "public"
    try:
        with psycopg.connect(
            dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"], password=env.get("POSTGRES_PASSWORD") or None,
            connect_timeout=int(env.get("POSTGRES_CONNECT_TIMEOUT", "10")), autocommit=True,
        ) as conn:
            found = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
    except psycopg.Error as problem:
        raise StoreFailure(UNAVAILABLE, config.url, _first_line(problem)) from problem
    if found is None:
        raise StoreFailure(UNAVAILABLE, config.url, f'schema "{schema}" does not exist')


def _first_line(problem: BaseException) -> str:
    """psycopg's message without its multi-line hints."""
    lines = [line.strip() for line in str(problem).splitlines() if line.strip()]
    return "; ".join(lines[:2]) if lines else type(problem).__name__
