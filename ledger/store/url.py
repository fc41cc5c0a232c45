"""The store URL (SPEC §5 `--store`): which recorders, where.

Persistence is chosen by configuration, not code: `memory://`, a SQLite file (plain path or
`sqlite:///PATH`, the embedded default) or `postgresql://user[:password]@host[:port]/db[?schema=S]`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from urllib.parse import parse_qs, quote, unquote, urlsplit

from domain.errors import LedgerError
from ledger.store.recorders import LedgerPostgresFactory, LedgerSQLiteFactory, MemoryFactory

DEFAULT_STORE_URL = "sqlite:///tenge-ledger.sqlite"
SQLITE_PATH_KEY = "TENGE_LEDGER_SQLITE_PATH"  # the file itself when SQLITE_DBNAME is a URI


class StoreUrlError(LedgerError):
    """The --store URL is not one of the accepted shapes."""


@dataclass(frozen=True)
class StoreConfig:
    url: str
    kind: str  # "memory" | "sqlite" | "postgresql"
    env: dict[str, str]
    read_only: bool = False  # a SQLite file this process cannot write: opened immutable, for reading

    @property
    def sqlite_path(self) -> str | None:
        if self.kind != "sqlite":
            return None
        return self.env.get(SQLITE_PATH_KEY) or self.env["SQLITE_DBNAME"]

    def as_read_only(self) -> StoreConfig:
        """The same SQLite store opened read-only and immutable (nobody can write it: it is not writable)."""
        assert self.kind == "sqlite" and not self.read_only
        path = self.env["SQLITE_DBNAME"]
        uri = f"file:{quote(path)}?immutable=1"
        return replace(self, env={**self.env, "SQLITE_DBNAME": uri, SQLITE_PATH_KEY: path}, read_only=True)


def parse_store_url(url: str) -> StoreConfig:
    """The eventsourcing environment for a `--store` URL (SPEC §5)."""
    if not url or not url.strip():
        raise StoreUrlError("the store URL is empty")
    if url == "memory://":
        return StoreConfig(url, "memory", {"PERSISTENCE_MODULE": _topic(MemoryFactory)})
    if url.startswith(("postgresql://", "postgres://")):
        return StoreConfig(url, "postgresql", _postgres_env(url))
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
    elif "://" in url:
        raise StoreUrlError(
            f"unsupported store URL {url!r}: use a file path, sqlite:///PATH, memory:// "
            "or postgresql://user@host:port/db"
        )
    else:
        path = url
    if not path:
        raise StoreUrlError(f"store URL {url!r} names no file")
    if path == ":memory:":
        raise StoreUrlError("use memory:// for an in-memory store")
    env = {
        "PERSISTENCE_MODULE": _topic(LedgerSQLiteFactory),
        "SQLITE_DBNAME": os.path.abspath(path),
        "SQLITE_LOCK_TIMEOUT": "30",
    }
    return StoreConfig(url, "sqlite", env)


def _postgres_env(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    database = parts.path.lstrip("/")
    if not parts.hostname or not database:
        raise StoreUrlError(f"PostgreSQL URL {url!r} needs a host and a database: postgresql://user@host:port/db")
    query = parse_qs(parts.query)
    env = {
        "PERSISTENCE_MODULE": _topic(LedgerPostgresFactory),
        "POSTGRES_DBNAME": unquote(database),
        "POSTGRES_HOST": parts.hostname,
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_LOCK_TIMEOUT": "30",
        "POSTGRES_CONNECT_TIMEOUT": "10",
        # One connection opened up front, more only while a command needs them at once (a writer
        # holds its color locks on a second one): eventsourcing's default opens 5 per process, and
        # 24 concurrent CLI runs then exhaust a stock server's 100 connections.
        "POSTGRES_POOL_SIZE": "1",
        "POSTGRES_MAX_OVERFLOW": "10",
    }
    if "schema" in query:
        env["POSTGRES_SCHEMA"] = query["schema"][0]
    return env


def _topic(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"
