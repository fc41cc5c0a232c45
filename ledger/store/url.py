"""The store URL (SPEC §5 `--store`): which recorders, where.

Persistence is chosen by configuration, not code: `memory://`, a SQLite file (plain path or
`sqlite:///PATH`, the embedded default) or `postgresql://user[:password]@host[:port]/db[?schema=S]`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from domain.errors import LedgerError
from ledger.store.recorders import LedgerPostgresFactory, LedgerSQLiteFactory, MemoryFactory

DEFAULT_STORE_URL = "sqlite:///tenge-ledger.sqlite"


class StoreUrlError(LedgerError):
    """The --store URL is not one of the accepted shapes."""


@dataclass(frozen=True)
class StoreConfig:
    url: str
    kind: str  # "memory" | "sqlite" | "postgresql"
    env: dict[str, str]

    @property
    def sqlite_path(self) -> str | None:
        return self.env.get("SQLITE_DBNAME") if self.kind == "sqlite" else None


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
    }
    if "schema" in query:
        env["POSTGRES_SCHEMA"] = query["schema"][0]
    return env


def _topic(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"
