"""Store failures (SPEC §5): the environment, not the input and not a bug.

Every failure of the store itself — a server that cannot be reached, an unknown database, user or
schema, a missing file for a read, a read-only store, a full disk, a file that is not a database —
becomes one `StoreFailure` naming the store (never its password) and the cause, with the exit code
SPEC §5 gives it: 69 unavailable, 74 I/O error, 75 busy (a lock held by others past the wait). A store whose bytes are not a database is `damaged`:
`verify` reports that as a finding (exit 3), every other command as unavailable (69).

`store_failure(exc, url)` is the one place that recognizes the low-level exceptions (sqlite3,
psycopg, eventsourcing's wrappers, OSError) so the command line maps them centrally.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from urllib.parse import urlsplit, urlunsplit

from domain.errors import HistoryInconsistent, StoreBusy, StoreError

EXIT_UNAVAILABLE = 69
EXIT_IO = 74
EXIT_BUSY = 75

UNAVAILABLE, IO, DAMAGED, BUSY = "unavailable", "io", "damaged", "busy"


class StoreFailure(StoreError):
    """The store failed (not the input, not a bug): one line naming the store and the cause."""

    def __init__(self, kind: str, store: str, cause: str) -> None:
        assert kind in (UNAVAILABLE, IO, DAMAGED, BUSY), kind
        self.kind = kind
        self.store = redact(store)
        self.cause = " ".join(str(cause).split()) or "unknown cause"
        super().__init__(f"store {self.store}: {self.cause}")

    @property
    def exit_code(self) -> int:
        return {IO: EXIT_IO, BUSY: EXIT_BUSY}.get(self.kind, EXIT_UNAVAILABLE)


def redact(url: str) -> str:
    """The store URL without its password (`postgresql://user:***@host/db`)."""
    if "://" not in url or "@" not in url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


_IO_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG, errno.EDQUOT, errno.EIO}
_IO_PHRASES = ("readonly database", "read-only", "disk is full", "disk i/o error", "database or disk is full",
               "no space left", "permission denied", "file too large", "could not extend file", "could not write")
_BUSY_PHRASES = ("database is locked", "lock timeout", "could not obtain lock")
_DAMAGED_PHRASES = ("file is not a database", "database disk image is malformed", "not a tenge-ledger store")
_UNAVAILABLE_PHRASES = ("unable to open database file", "connection refused", "could not connect",
                        "couldn't get a connection", "does not exist", "authentication failed",
                        "could not translate host name", "timeout expired", "connection failed",
                        "server closed the connection", "no pg_hba.conf entry")


def store_failure(exc: BaseException, url: str) -> StoreFailure | None:
    """The store failure `exc` stands for, or None when it is not one (then it is a bug)."""
    if isinstance(exc, StoreFailure):
        return exc
    if isinstance(exc, StoreBusy):
        return StoreFailure(BUSY, url, str(exc))
    if isinstance(exc, HistoryInconsistent):
        return StoreFailure(DAMAGED, url, str(exc))
    for link in _chain(exc):
        found = _classify(link, url)
        if found is not None:
            return found
    return None


def _chain(exc: BaseException) -> list[BaseException]:
    links: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in links and len(links) < 10:
        links.append(current)
        current = current.__cause__ or current.__context__
    return links


def _classify(exc: BaseException, url: str) -> StoreFailure | None:
    if isinstance(exc, OSError) and not _is_database_error(exc):
        if exc.errno in _IO_ERRNOS and _names_the_store(exc, url):
            return StoreFailure(IO, url, exc.strerror or str(exc))
        return None  # some other file (a report, a key): not the store
    if not _is_database_error(exc):
        return None
    text = str(exc).lower()
    if any(phrase in text for phrase in _DAMAGED_PHRASES):
        return StoreFailure(DAMAGED, url, f"not a tenge-ledger store or damaged ({exc})")
    if any(phrase in text for phrase in _IO_PHRASES):
        return StoreFailure(IO, url, str(exc))
    if any(phrase in text for phrase in _BUSY_PHRASES):
        return StoreFailure(BUSY, url, f"busy: other writers held the store too long ({exc})")
    if any(phrase in text for phrase in _UNAVAILABLE_PHRASES) or _is_connection_error(exc):
        return StoreFailure(UNAVAILABLE, url, str(exc))
    return None


def _names_the_store(exc: OSError, url: str) -> bool:
    """Is the file of this OS error the store (or its journal)?"""
    filename = str(exc.filename or "")
    path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else url
    return bool(filename) and "://" not in path and os.path.abspath(filename).startswith(os.path.abspath(path))


def _is_database_error(exc: BaseException) -> bool:
    """sqlite3, psycopg, or eventsourcing's persistence errors (which wrap both)."""
    if isinstance(exc, sqlite3.Error):
        return True
    module = type(exc).__module__ or ""
    return module.startswith(("psycopg", "psycopg_pool", "eventsourcing.persistence"))


def _is_connection_error(exc: BaseException) -> bool:
    """psycopg's OperationalError at connect time, and the pool's timeout."""
    name = type(exc).__name__
    module = type(exc).__module__ or ""
    return name in ("PoolTimeout", "ConnectionTimeout") or (module.startswith("psycopg") and name == "OperationalError")
