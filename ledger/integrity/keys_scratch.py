"""The keys check of `verify` in bounded memory: the implied keys in the scratch database, compared in SQL.

`ledger.integrity.keys.ExpectedKeys` holds every implied key in a dict (about 1 KB per command);
`ScratchKeys` writes the same facts to the scratch file as the events stream past, copies the
stored keys table beside them a chunk at a time, and joins the two. The problems, their texts and
their order are those of `keys.compare` over `ExpectedKeys`: repeated transaction ids by position,
then the implied keys in the order they were first implied (the last event implying a name wins,
and the events of a repeated transaction imply nothing), then the stored keys no event implies,
by name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

from domain import events as e
from ledger.integrity.keys import (
    ExpectedKey,
    KeyProblem,
    duplicate_problem,
    extra_key_problem,
    key_problem,
    names_of,
)
from ledger.integrity.scratch import COPY_ROWS, Scratch

TABLES = (
    "CREATE TABLE verify_transactions (txid TEXT NOT NULL, position INTEGER NOT NULL, color TEXT)",
    ("CREATE TABLE verify_expected_keys (name TEXT NOT NULL, hidden TEXT NOT NULL, stream TEXT NOT NULL, "
     "position INTEGER NOT NULL, ordinal INTEGER NOT NULL, txid TEXT NOT NULL, color TEXT, digests BLOB)"),
    "CREATE TABLE verify_stored_keys (key TEXT PRIMARY KEY, digest BLOB NOT NULL, stream TEXT NOT NULL)",
)
INDEXES = (
    "CREATE INDEX verify_transactions_by_id ON verify_transactions (txid, position)",
    "CREATE INDEX verify_expected_keys_by_name ON verify_expected_keys (name, position)",
    "CREATE INDEX verify_expected_keys_by_hidden ON verify_expected_keys (hidden)",
)
# the implied keys of events whose transaction occurs there first (a repeat implies nothing)
FIRST_OCCURRENCES = ("FROM verify_expected_keys x WHERE x.position = "
                     "(SELECT MIN(t.position) FROM verify_transactions t WHERE t.txid = x.txid)")


class ScratchKeys:
    """Collects, event by event, the implied keys and transaction ids into the scratch database."""

    def __init__(self, scratch: Scratch, stored_name: Callable[[str], str]) -> None:
        self.scratch = scratch
        self.stored_name = stored_name
        for statement in TABLES:
            scratch.db.execute(statement)
        self._transactions: list[tuple[Any, ...]] = []
        self._keys: list[tuple[Any, ...]] = []

    def observe(self, position: int, stream: UUID, event: e.LedgerEvent) -> None:
        """As `ExpectedKeys.observe` (raises on a malformed event the same way)."""
        transaction = event.command_id
        color = getattr(event, "color", None)
        names = names_of(event)
        self._transactions.append((transaction, position, color))
        for ordinal, (name, digests) in enumerate(names):
            self._keys.append((name, self.stored_name(name), str(stream), position, ordinal, transaction, color,
                               None if digests is None else _pack(digests)))
        if len(self._keys) >= COPY_ROWS:
            self._flush()

    def _flush(self) -> None:
        self.scratch.insert("verify_transactions", self._transactions, 3)
        self.scratch.insert("verify_expected_keys", self._keys, 8)
        self._transactions, self._keys = [], []

    def problems(self, stored: Iterator[tuple[str, bytes, str]], ignore: set[str]) -> Iterator[KeyProblem]:
        """`keys.compare`'s problems, in its order; `stored`: the keys table's rows (name, digest, stream)."""
        self._flush()
        self.scratch.insert("verify_stored_keys", ((key, bytes(digest), stream) for key, digest, stream in stored), 3)
        for statement in INDEXES:
            self.scratch.db.execute(statement)
        yield from self._duplicates()
        yield from self._implied()
        yield from self._extra(ignore)

    def _duplicates(self) -> Iterator[KeyProblem]:
        rows = self.scratch.rows(
            "SELECT t.position, t.txid, t.color, f.first FROM verify_transactions t JOIN (SELECT txid, MIN(position) AS first "
            "FROM verify_transactions GROUP BY txid) f ON f.txid = t.txid WHERE t.position > f.first ORDER BY t.position")
        for position, transaction, color, first in rows:
            yield duplicate_problem(position, transaction, color, first)

    def _implied(self) -> Iterator[KeyProblem]:
        rows = self.scratch.rows(
            "SELECT k.name, e.hidden, e.stream, e.position, e.txid, e.color, e.digests, s.key IS NOT NULL, s.digest, s.stream "
            f"FROM (SELECT x.name AS name, MAX(x.position) AS last, MIN(x.position * 64 + x.ordinal) AS implied "
            f"{FIRST_OCCURRENCES} GROUP BY x.name) k "
            "JOIN verify_expected_keys e ON e.name = k.name AND e.position = k.last "
            "LEFT JOIN verify_stored_keys s ON s.key = e.hidden ORDER BY k.implied")
        for name, hidden, stream, position, transaction, color, digests, present, digest, stored_stream in rows:
            key = ExpectedKey(name, stream, position, transaction, color, None if digests is None else _unpack(digests))
            problem = key_problem(name, key, hidden, (digest, stored_stream) if present else None)
            if problem is not None:
                yield problem

    def _extra(self, ignore: set[str]) -> Iterator[KeyProblem]:
        rows = self.scratch.rows(
            f"SELECT s.key FROM verify_stored_keys s WHERE s.key NOT IN (SELECT x.hidden {FIRST_OCCURRENCES}) ORDER BY s.key")
        for (hidden,) in rows:
            if hidden not in ignore:
                yield extra_key_problem(hidden)


def _pack(digests: frozenset[bytes]) -> bytes:
    """Digests as one blob: each prefixed with its length (one byte; the empty digest is allowed)."""
    assert all(len(digest) < 256 for digest in digests)
    return b"".join(bytes([len(digest)]) + digest for digest in sorted(digests))


def _unpack(blob: bytes) -> frozenset[bytes]:
    digests, offset = set(), 0
    while offset < len(blob):
        length = blob[offset]
        digests.add(bytes(blob[offset + 1:offset + 1 + length]))
        offset += 1 + length
    return frozenset(digests)


def iter_stored_keys(recorder: Any, size: int = COPY_ROWS) -> Iterator[tuple[str, bytes, str]]:
    """Every row of the keys table (name, digest, stream), a chunk at a time, whatever the store."""
    if hasattr(recorder, "_keys"):  # memory
        for key, (digest, stream) in list(recorder._keys.items()):
            yield key, bytes(digest), stream
        return
    if hasattr(recorder, "_keys_relation"):  # PostgreSQL
        from psycopg.sql import SQL

        with recorder.datastore.get_connection() as conn, conn.transaction(), \
                conn.cursor(name="tenge_ledger_verify_keys") as curs:
            curs.itersize = size
            curs.execute(SQL("SELECT key, digest, stream FROM {}").format(recorder._keys_relation))
            for row in curs:
                yield row["key"], bytes(row["digest"]), row["stream"]
        return
    with recorder.datastore.transaction(commit=False) as cursor:  # SQLite
        cursor.execute(f"SELECT key, digest, stream FROM {recorder.keys_table}")
        raw = getattr(cursor, "sqlite_cursor", cursor)  # eventsourcing's wrapper has no fetchmany
        while rows := raw.fetchmany(size):
            for row in rows:
                yield row[0], bytes(row[1]), row[2]
