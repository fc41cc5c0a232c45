"""Read models that follow the store's notification log, and the runner that feeds them.

A projection owns a few tables in a *view database* that lives beside the events (SQLite tables
in the same file, PostgreSQL tables in the same schema, an in-memory SQLite database for
`memory://`). The runner reads the log in position order, in chunks, and for each chunk writes the
projections' rows **and** their new positions in one transaction: every event is applied exactly
once, also across crashes (a crash rolls the chunk back; the next catch-up redoes it).

SQL here is the portable subset of SQLite and PostgreSQL: `?` placeholders (the PostgreSQL adapter
translates them), `BIGINT`/`TEXT` columns, `INSERT … ON CONFLICT … DO UPDATE`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from domain import events as e
from projections.sealing import PLAIN, Sealer, sealed_version

Row = tuple[Any, ...]


class ViewDatabase(Protocol):
    """The little a projection needs from a database; implemented per store kind in `ledger`."""

    kind: str  # "sqlite" | "postgresql"

    def transaction(self) -> AbstractContextManager[None]:
        """Commit on success, roll back on error."""

    def setup_transaction(self) -> AbstractContextManager[None]:
        """A transaction that also holds the store's schema-setup lock (DDL runs only in one)."""

    def has_table(self, name: str) -> bool: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def executemany(self, sql: str, rows: Sequence[Row]) -> None: ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def hold_rebuild_lock(self) -> Any:
        """Take the store's rebuild lock (it dies with this process); None if another process holds it."""

    def release_rebuild_lock(self, handle: Any) -> None: ...

    def rebuild_lock_held(self) -> bool:
        """Whether another live process holds the rebuild lock."""


class Projection:
    """One read model: its tables, and how an event changes them.

    `version` is part of the tracked position: changing a projection's code or tables means
    bumping it, and the runner then rebuilds that projection from the start of the log.
    `sealer` seals the personal values the projection stores (`projections.sealing`; the identity
    without a key); a sealed projection's version is marked, so plain tables are rebuilt sealed.
    """

    name = ""
    version: int | str = 1
    tables: tuple[str, ...] = ()
    compared_tables: tuple[str, ...] | None = None  # what `verify` compares with a rebuild (None: all tables)

    def __init__(self, sealer: Sealer = PLAIN) -> None:
        self.sealer = sealer
        self.version = sealed_version(self.version, sealer)

    def attach(self, read_log: Any) -> None:
        """The runner hands every projection the log (most need only the events it applies)."""

    def flush(self, db: ViewDatabase) -> None:
        """Called by the runner at the end of a catch-up, in a transaction of its own."""

    def fresh(self) -> Projection:
        """A new, empty instance configured like this one (to rebuild elsewhere), sealing alike."""
        return type(self)(self.sealer)

    bulk = False  # True while a rebuild fills the tables (`begin_bulk` … `end_bulk`)

    def create(self, db: ViewDatabase) -> None:
        self.create_tables(db)
        self.create_indexes(db)

    def create_tables(self, db: ViewDatabase) -> None:
        """The tables, with their primary keys (what an `ON CONFLICT` needs), without other indexes."""
        raise NotImplementedError

    def create_indexes(self, db: ViewDatabase) -> None:
        """The secondary indexes the queries use (none by default)."""

    def begin_bulk(self, db: ViewDatabase) -> None:
        """A rebuild from the start of the log begins: empty tables without secondary indexes
        (built once at the end, much cheaper than maintained row by row). A projection may also
        defer what it can compute once from its own rows at the end (`end_bulk`)."""
        self.create_tables(db)
        self.bulk = True

    def end_bulk(self, db: ViewDatabase) -> None:
        """The rebuild reached the head: complete the tables exactly as an incremental catch-up
        would have left them (called in the transaction that marks the projection current)."""
        self.create_indexes(db)
        self.bulk = False

    def drop(self, db: ViewDatabase) -> None:
        for table in self.tables:
            db.execute(f"DROP TABLE IF EXISTS {table}")

    def apply(self, db: ViewDatabase, events: Sequence[tuple[int, e.LedgerEvent]]) -> None:
        """Apply events (position, event) in order; called inside the runner's transaction."""
        raise NotImplementedError


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    assert size > 0
    for start in range(0, len(items), size):
        yield items[start:start + size]


def as_of_where(position: int | None, at_utc: str | None, *more: tuple[str, Any]) -> tuple[str, list[Any]]:
    """A ` WHERE …` clause (or "") and its parameters for rows recorded up to `position` and dated
    ≤ `at_utc` (None: no bound), and each further (`column = ?`, value) given."""
    terms = [("position <= ?", position), ("at_utc <= ?", at_utc), *more]
    kept = [(sql, value) for sql, value in terms if value is not None]
    return (" WHERE " + " AND ".join(sql for sql, _ in kept) if kept else ""), [value for _, value in kept]
