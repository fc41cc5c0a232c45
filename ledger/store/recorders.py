"""The recorders behind a store URL: eventsourcing's own persistence modules (POPO, SQLite,
PostgreSQL) with one addition:
a *keys* table written in the same transaction as the events. A key is a name that must be unique
in the whole ledger — `command:<id>` (with the command's content digest, for idempotency, SPEC §2.3)
and `contract:<id>`, `color:<color>`, `party:<id>` (the stream that owns the name). Because a key
and the events it stands for commit together, there is no moment where one exists without the other,
and a second writer claiming the same key fails the whole transaction.

Each store also has a *snapshots* table (eventsourcing's aggregate-recorder shape: stream id,
version, topic, state) created with the others in the same setup group. Snapshots are derived data
written after a batch commits (`ledger.app`); `snapshot_recorder()` gives eventsourcing's own
aggregate recorder over that table, and `snapshot_streams()` lists the streams that have one.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent
from psycopg.errors import DuplicateObject
from eventsourcing.persistence import AggregateRecorder
from eventsourcing.popo import POPOAggregateRecorder, POPOApplicationRecorder, POPOFactory
from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder, PostgresFactory
from eventsourcing.sqlite import SQLiteAggregateRecorder, SQLiteApplicationRecorder, SQLiteCursor, SQLiteFactory
from psycopg.errors import LockNotAvailable
from psycopg.sql import SQL, Identifier, Literal

from ledger.store.chain import ChainRow, chain_rows
from ledger.store.lean import sqlite_insert_batch, sqlite_select_for_load, sqlite_stream_versions
from ledger.store.setup import SETUP_TABLE, SETUP_TABLE_DDL, setup_lock_key, statements_digest

CHAIN_TABLE = "ledger_chain"
LOOKUP_CHUNK_MAX = 500
STREAM_LOCKS_MAX = 100_000
INSERT_ATTEMPTS_MAX = 10
INSERT_RETRY_PAUSE_SECONDS = 0.2


class StreamsBusy(Exception):
    """Another writer held a stream this batch needs for longer than the wait (SPEC §5, exit 75)."""

    def __init__(self, wait_seconds: float) -> None:
        self.wait_seconds = wait_seconds
        super().__init__(f"lock timeout: a color this batch needs was held by another writer for more than {wait_seconds:g} s")


@contextmanager
def no_stream_locks(streams: Sequence[UUID], wait_seconds: float) -> Iterator[None]:
    """The SQLite and memory stores: writes are serialised by the store itself (SQLite's one write
    lock, waited for up to the busy timeout; the memory store's mutex), and a writer that decided on
    state another writer changed meanwhile fails its save and decides again (`Ledger.execute_batch`)."""
    assert wait_seconds > 0 and len(streams) <= STREAM_LOCKS_MAX
    yield


def stream_lock_key(schema: str, stream: UUID) -> int:
    """The PostgreSQL advisory lock key of a stream: 64 bits of a hash of the schema and the stream id
    (advisory locks are database-wide; two stores in two schemas never wait for each other's colors)."""
    digest = hashlib.blake2b(f"{schema}/{stream.hex}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)

# (key, digest or b"", stream id as text)
KeyRow = tuple[str, bytes, str]


def _expected(kwargs: dict[str, Any]) -> dict[UUID, int]:
    """Streams the batch read but does not write, with the versions it read (0: empty)."""
    return kwargs.get("read_versions") or {}


def _check_read_versions(expected: dict[UUID, int], found: dict[UUID, int]) -> None:
    """Another writer changed a stream this batch decided on: fail, so the batch is decided again."""
    for stream, version in expected.items():
        if found.get(stream, 0) != version:
            raise IntegrityError(f"stream {stream} moved from version {version} to {found.get(stream, 0)} since it was read")


def _absent(kwargs: dict[str, Any]) -> list[str]:
    """Keys the batch found missing and decided on ("unknown contract"): still missing at save?"""
    return list(kwargs.get("absent_keys") or ())


def _check_absent(present: Sequence[str]) -> None:
    if present:
        raise IntegrityError(f"keys {sorted(present)[:3]} were created by another writer since they were looked up")


def _key_rows(kwargs: dict[str, Any]) -> Sequence[KeyRow]:
    rows = kwargs.get("keys") or ()
    assert all(len(row) == 3 for row in rows)
    return rows


def _array(elements: Iterable[str]) -> str:
    """A PostgreSQL array literal of elements that need no quoting (digits, hex): for `%s::bigint[]`, `%s::uuid[]`."""
    return "{" + ",".join(elements) + "}"


def _bytea_array(values: Iterable[bytes]) -> str:
    """A PostgreSQL `bytea[]` literal (hex format), for `%s::bytea[]`."""
    return "{" + ",".join([f'"\\\\x{bytes(value).hex()}"' for value in values]) + "}"


# --- SQLite ---------------------------------------------------------------------------------

class LedgerSQLiteRecorder(SQLiteApplicationRecorder):
    keys_table = "ledger_keys"
    chain_table = CHAIN_TABLE
    chained = True  # False only in bench/ to measure what the hash chain costs
    lean = True  # the lean write path (`ledger.store.lean`); False: eventsourcing's row-by-row inserts
    stream_locks = staticmethod(no_stream_locks)

    @property
    def snapshots_table(self) -> str:
        return self.events_table_name.removesuffix("_events") + "_snapshots"

    def snapshot_recorder(self) -> AggregateRecorder:
        """eventsourcing's recorder over this store's snapshots table (created with the others)."""
        return SQLiteAggregateRecorder(self.datastore, events_table_name=self.snapshots_table)

    def put_snapshots(self, snapshots: Sequence[StoredEvent]) -> None:
        """Store the snapshots and drop their streams' older ones (only the latest is ever loaded),
        in one transaction; one already stored by another writer is kept."""
        with self.datastore.transaction(commit=True) as c:
            c.executemany(f"INSERT OR IGNORE INTO {self.snapshots_table} VALUES (?,?,?,?)",
                          [(s.originator_id.hex, s.originator_version, s.topic, s.state) for s in snapshots])
            c.executemany(f"DELETE FROM {self.snapshots_table} WHERE originator_id = ? AND originator_version < ?",
                          [(s.originator_id.hex, s.originator_version) for s in snapshots])

    def select_for_load(self, snapshot_streams: Sequence[UUID], streams: Sequence[UUID]
                        ) -> tuple[dict[UUID, StoredEvent], dict[UUID, list[StoredEvent]]]:
        """The latest snapshots of `snapshot_streams` and the events of `streams` from them on, in
        one read transaction (`ledger.store.lean.sqlite_select_for_load`; `Ledger.prefetch`)."""
        with self.datastore.transaction(commit=False) as c:
            return sqlite_select_for_load(c, self.events_table_name, self.snapshots_table, snapshot_streams, streams)

    def snapshot_streams(self) -> list[UUID]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT DISTINCT originator_id FROM {self.snapshots_table} ORDER BY originator_id")
            return [UUID(row[0]) for row in c.fetchall()]

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {self.snapshots_table} (originator_id TEXT, originator_version INTEGER, "
            "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version)) WITHOUT ROWID",
            f"CREATE TABLE IF NOT EXISTS {self.keys_table} "
            "(key TEXT PRIMARY KEY, digest BLOB NOT NULL, stream TEXT NOT NULL) WITHOUT ROWID",
            f"CREATE TABLE IF NOT EXISTS {self.chain_table} (position INTEGER PRIMARY KEY, "
            "leaf_index INTEGER NOT NULL UNIQUE, leaf_hash BLOB NOT NULL, chain_hash BLOB NOT NULL)",
        ]

    def create_table(self) -> None:
        """The tables, once (`ledger.store.setup`): a store whose tables are current runs no DDL."""
        digest = statements_digest(self.create_table_statements)
        if "immutable=1" in self.datastore.pool.db_name or self._setup_current(digest):
            return  # a store opened read-only (`StoreConfig.as_read_only`) can have nothing created
        with self.datastore.transaction(commit=True) as c:
            self._create_table(c)
            c.execute(SETUP_TABLE_DDL)
            c.execute(f"INSERT INTO {SETUP_TABLE} (name, digest) VALUES (?, ?) "
                      "ON CONFLICT (name) DO UPDATE SET digest = excluded.digest", (self.events_table_name, digest))

    def _setup_current(self, digest: str) -> bool:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (SETUP_TABLE,))
            if c.fetchone() is None:
                return False
            c.execute(f"SELECT digest FROM {SETUP_TABLE} WHERE name = ?", (self.events_table_name,))
            row = c.fetchone()
        return row is not None and row[0] == digest

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if self.lean:
            return sqlite_insert_batch(self, c, stored_events, _key_rows(kwargs), _expected(kwargs), _absent(kwargs))
        rows = _key_rows(kwargs)
        if rows:
            c.executemany(f"INSERT INTO {self.keys_table} VALUES (?,?,?)", rows)
        positions = super()._insert_events(c, stored_events, **kwargs)
        assert positions is not None
        expected = _expected(kwargs)
        if expected:  # the write lock is held now: what we read is what others committed
            _check_read_versions(expected, self._versions(c, list(expected)))
        absent = _absent(kwargs)
        for start in range(0, len(absent), LOOKUP_CHUNK_MAX):
            chunk = absent[start:start + LOOKUP_CHUNK_MAX]
            c.execute(f"SELECT key FROM {self.keys_table} WHERE key IN ({','.join('?' * len(chunk))})", chunk)
            _check_absent([row[0] for row in c.fetchall()])
        if not self.chained:
            return positions
        c.execute(f"SELECT leaf_index, chain_hash FROM {self.chain_table} ORDER BY position DESC LIMIT 1")
        last = c.fetchone()
        chained = chain_rows((last[0], bytes(last[1])) if last else None, positions, stored_events)
        c.executemany(f"INSERT INTO {self.chain_table} VALUES (?,?,?,?)", chained)
        return positions

    def _versions(self, c: SQLiteCursor, streams: Sequence[UUID]) -> dict[UUID, int]:
        return sqlite_stream_versions(c, self.events_table_name, streams)

    def stream_versions(self, streams: Sequence[UUID]) -> dict[UUID, int]:
        """Each stream's last version (streams without events are left out)."""
        with self.datastore.transaction(commit=False) as c:
            return self._versions(c, streams)

    def position_of_leaf(self, leaf_index: int) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT position FROM {self.chain_table} WHERE leaf_index = ?", (leaf_index,))
            row = c.fetchone()
        assert row is not None, f"no chain leaf {leaf_index}"
        return int(row[0])

    def raw_positions(self, start: int, limit: int) -> list[int]:
        """Positions of stored rows from `start`, read without decoding anything (for verify)."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT rowid FROM {self.events_table_name} WHERE rowid >= ? ORDER BY rowid LIMIT ?", (start, limit))
            return [int(row[0]) for row in c.fetchall()]

    def noncanonical_positions(self) -> list[int]:
        """Rows whose stream id is not in the canonical form the ledger writes (32 lower-case hex digits)."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT rowid FROM {self.events_table_name} WHERE length(originator_id) != 32 "
                      "OR originator_id GLOB '*[^0-9a-f]*' ORDER BY rowid")
            return [int(row[0]) for row in c.fetchall()]

    def select_chain(self, after: int, limit: int) -> list[ChainRow]:
        """Chain rows with position > after, in order."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT position, leaf_index, leaf_hash, chain_hash FROM {self.chain_table} "
                      "WHERE position > ? ORDER BY position LIMIT ?", (after, limit))
            return [(row[0], row[1], bytes(row[2]), bytes(row[3])) for row in c.fetchall()]

    def lookup_keys(self, keys: Sequence[str]) -> dict[str, tuple[bytes, str]]:
        found: dict[str, tuple[bytes, str]] = {}
        with self.datastore.transaction(commit=False) as c:
            for start in range(0, len(keys), LOOKUP_CHUNK_MAX):
                chunk = keys[start:start + LOOKUP_CHUNK_MAX]
                marks = ",".join("?" * len(chunk))
                c.execute(f"SELECT key, digest, stream FROM {self.keys_table} WHERE key IN ({marks})", chunk)
                found.update((row[0], (bytes(row[1]), row[2])) for row in c.fetchall())
        return found


class LedgerSQLiteFactory(SQLiteFactory):
    application_recorder_class = LedgerSQLiteRecorder


# --- PostgreSQL -----------------------------------------------------------------------------

class LedgerPostgresRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: Any, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.keys_table = events_table_name.removesuffix("_events") + "_keys"
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{table} "
                "(key text PRIMARY KEY, digest bytea NOT NULL, stream text NOT NULL)"
            ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.keys_table))
        )
        self._keys_relation = SQL("{schema}.{table}").format(
            schema=Identifier(self.datastore.schema), table=Identifier(self.keys_table)
        )
        self._chain_relation = SQL("{schema}.{table}").format(
            schema=Identifier(self.datastore.schema), table=Identifier(CHAIN_TABLE)
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (position bigint PRIMARY KEY, leaf_index bigint NOT NULL UNIQUE, "
                "leaf_hash bytea NOT NULL, chain_hash bytea NOT NULL)"
            ).format(self._chain_relation)
        )
        self.snapshots_table = events_table_name.removesuffix("_events") + "_snapshots"
        self._snapshots_relation = SQL("{schema}.{table}").format(
            schema=Identifier(self.datastore.schema), table=Identifier(self.snapshots_table)
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (originator_id uuid NOT NULL, originator_version bigint NOT NULL, "
                "topic text, state bytea, PRIMARY KEY (originator_id, originator_version))"
            ).format(self._snapshots_relation)
        )

    def snapshot_recorder(self) -> AggregateRecorder:
        """eventsourcing's recorder over this store's snapshots table (created with the others)."""
        return PostgresAggregateRecorder(self.datastore, events_table_name=self.snapshots_table)

    def put_snapshots(self, snapshots: Sequence[StoredEvent]) -> None:
        """Store the snapshots and drop their streams' older ones (only the latest is ever loaded),
        in one transaction; one already stored by another writer is kept."""
        insert = SQL("INSERT INTO {} VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING").format(self._snapshots_relation)
        delete = SQL("DELETE FROM {} WHERE originator_id = %s AND originator_version < %s").format(self._snapshots_relation)
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            curs.executemany(insert, [(s.originator_id, s.originator_version, s.topic, s.state) for s in snapshots])
            curs.executemany(delete, [(s.originator_id, s.originator_version) for s in snapshots])

    def select_for_load(self, snapshot_streams: Sequence[UUID], streams: Sequence[UUID]
                        ) -> tuple[dict[UUID, StoredEvent], dict[UUID, list[StoredEvent]]] | None:
        """The latest snapshots of `snapshot_streams` and the events of `streams` from them on, in
        two statements of one read transaction (`Ledger.prefetch`); None on a store whose stream ids
        are text, not uuid (the caller loads one by one then)."""
        if self.datastore.originator_id_type != "uuid":
            return None
        snapshots: dict[UUID, StoredEvent] = {}
        events: dict[UUID, list[StoredEvent]] = {stream: [] for stream in streams}
        latest = SQL("SELECT DISTINCT ON (originator_id) originator_id, originator_version, topic, state FROM {} "
                     "WHERE originator_id = ANY(%s::uuid[]) ORDER BY originator_id, originator_version DESC").format(
            self._snapshots_relation)
        select = SQL("SELECT e.originator_id, e.originator_version, e.topic, e.state "
                     "FROM unnest(%s::uuid[], %s::bigint[]) AS w(i, v) JOIN {}.{} AS e "
                     "ON e.originator_id = w.i AND e.originator_version >= w.v "
                     "ORDER BY e.originator_id, e.originator_version").format(
            Identifier(self.datastore.schema), Identifier(self.events_table_name))
        with self.datastore.transaction(commit=False) as curs:
            if snapshot_streams:
                curs.execute(latest, (_array(stream.hex for stream in snapshot_streams),))
                for row in curs.fetchall():
                    stream = UUID(str(row["originator_id"]))
                    snapshots[stream] = StoredEvent(stream, row["originator_version"], row["topic"], bytes(row["state"]))
            if streams:
                froms = [snapshots[s].originator_version if s in snapshots else 0 for s in streams]
                curs.execute(select, (_array(stream.hex for stream in streams), _array(map(str, froms))))
                for row in curs.fetchall():
                    stream = UUID(str(row["originator_id"]))
                    events[stream].append(StoredEvent(stream, row["originator_version"], row["topic"], bytes(row["state"])))
        return snapshots, events

    def snapshot_streams(self) -> list[UUID]:
        statement = SQL("SELECT DISTINCT originator_id FROM {} ORDER BY originator_id").format(self._snapshots_relation)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement)
            return [UUID(str(row["originator_id"])) for row in curs.fetchall()]

    def create_table(self) -> None:
        """The schema, once (`ledger.store.setup`), under the schema's advisory lock.

        eventsourcing runs every statement (CREATE OR REPLACE FUNCTION included) on every open,
        and concurrent opens then fail with "tuple concurrently updated". Here a store whose
        schema is current runs no DDL at all; otherwise one process sets it up while the others wait.
        """
        digest = statements_digest([statement.as_string() for statement in self.sql_create_statements])
        setup = SQL("{}.{}").format(Identifier(self.datastore.schema), Identifier(SETUP_TABLE))
        with self.datastore.transaction(commit=False) as curs:
            current = self._setup_current(curs, setup, digest)
        if not current:
            with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
                curs.execute("SELECT pg_advisory_xact_lock(%s)", (setup_lock_key(self.datastore.schema),))
                if not self._setup_current(curs, setup, digest):
                    self._create_all(conn, curs)
                    curs.execute(SQL(SETUP_TABLE_DDL.replace(SETUP_TABLE, "{}", 1)).format(setup))
                    curs.execute(SQL("INSERT INTO {} (name, digest) VALUES (%s, %s) ON CONFLICT (name) "
                                     "DO UPDATE SET digest = excluded.digest").format(setup), (self.events_table_name, digest))
        self.datastore.register_type_adapters()

    def _setup_current(self, curs: Any, setup: Any, digest: str) -> bool:
        curs.execute("SELECT to_regclass(%s) AS found", (setup.as_string(),))
        if curs.fetchone()["found"] is None:
            return False
        curs.execute(SQL("SELECT digest FROM {} WHERE name = %s").format(setup), (self.events_table_name,))
        row = curs.fetchone()
        return row is not None and row["digest"] == digest

    def _create_all(self, conn: Any, curs: Any) -> None:
        """eventsourcing's statements in one transaction; a type that exists is kept (savepoint)."""
        for statement in self.sql_create_statements:
            if "CREATE TYPE" in statement.as_string():
                try:
                    with conn.transaction():
                        curs.execute(statement, prepare=False)
                except DuplicateObject:
                    pass
        self._create_table(curs)

    def position_of_leaf(self, leaf_index: int) -> int:
        statement = SQL("SELECT position FROM {} WHERE leaf_index = %s").format(self._chain_relation)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (leaf_index,))
            row = curs.fetchone()
        assert row is not None, f"no chain leaf {leaf_index}"
        return int(row["position"])

    def select_chain(self, after: int, limit: int) -> list[ChainRow]:
        statement = SQL("SELECT position, leaf_index, leaf_hash, chain_hash FROM {} WHERE position > %s "
                        "ORDER BY position LIMIT %s").format(self._chain_relation)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (after, limit))
            return [(r["position"], r["leaf_index"], bytes(r["leaf_hash"]), bytes(r["chain_hash"])) for r in curs.fetchall()]

    @contextmanager
    def stream_locks(self, streams: Sequence[UUID], wait_seconds: float) -> Iterator[None]:
        """Hold the streams' advisory locks (taken in sorted key order, so two writers never deadlock)
        until the block ends; a writer that finds one held waits its turn, up to `wait_seconds`, then
        raises `StreamsBusy` having written nothing.

        The locks live in a transaction of their own connection from the datastore's pool: the
        batch reads and saves through other connections meanwhile, and every writer takes the locks
        of the streams it will decide on before deciding, so deciders of one color take turns while
        deciders of different colors run side by side."""
        assert wait_seconds > 0 and len(streams) <= STREAM_LOCKS_MAX
        keys = sorted({stream_lock_key(self.datastore.schema, stream) for stream in streams})
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            if keys:
                curs.execute(SQL("SET LOCAL lock_timeout = {}").format(Literal(f"{max(1, round(wait_seconds * 1000))}ms")))
                try:
                    curs.execute("SELECT count(pg_advisory_xact_lock(k)) AS n FROM "
                                 "(SELECT k FROM unnest(%s::bigint[]) AS k ORDER BY k) AS sorted", (keys,))
                except LockNotAvailable as held:
                    raise StreamsBusy(wait_seconds) from held
                curs.execute("SET LOCAL lock_timeout = 0")
            yield

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """`_insert_all`, tried again after a lost connection (nothing of a failed try was committed);
        a lock waited for past the lock timeout is not tried again: the writer has waited its `--wait`."""
        for attempt in range(INSERT_ATTEMPTS_MAX):
            try:
                return self._insert_all(stored_events, **kwargs)
            except (InterfaceError, OperationalError) as problem:
                if "lock timeout" in str(problem).lower() or attempt == INSERT_ATTEMPTS_MAX - 1:
                    raise
                time.sleep(INSERT_RETRY_PAUSE_SECONDS)
        raise AssertionError("unreachable")

    def _insert_all(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """Keys, events, read-version checks and chain rows in one transaction (any failure rolls back all).

        Replaces eventsourcing's pipelined insert, which commits when an exception is raised after
        the insert; the table lock still orders notification ids by commit. From `LOCK TABLE` to
        the commit every writer of the store takes its turn, whatever its colors (notification ids
        gap-free in commit order, one hash chain), so the critical section holds only what needs
        the lock, in two round trips to the server (psycopg's pipeline mode): the lock, the events
        (one statement, their columns built as arrays before), the read checks and the chain's last
        row; then the chain rows (one statement) with the commit. The keys go in before the lock.
        """
        if not stored_events:
            if _key_rows(kwargs):
                with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
                    self._insert_events(curs, stored_events, **kwargs)
            return []
        columns = self._event_columns(stored_events)
        expected, absent = _expected(kwargs), _absent(kwargs)
        with self.datastore.get_connection() as conn, conn.pipeline(), conn.transaction():
            before, curs, reads, present, tail = (conn.cursor() for _ in range(5))  # one result each
            self._insert_events(before, stored_events, **kwargs)
            self._lock_table(before)
            self._notify_channel(before)
            curs.execute(self._insert_columns, columns)
            if expected:
                self._select_versions(reads, list(expected))
            if absent:
                present.execute(SQL("SELECT key FROM {} WHERE key = ANY(%s)").format(self._keys_relation), (absent,))
            tail.execute(SQL("SELECT leaf_index, chain_hash FROM {} ORDER BY position DESC LIMIT 1").format(self._chain_relation))
            positions = [row["notification_id"] for row in curs.fetchall()]  # the first round trip
            assert len(positions) == len(stored_events) and positions == sorted(positions), "ids in input order"
            if expected:
                _check_read_versions(expected, {row["originator_id"]: int(row["version"]) for row in reads.fetchall()})
            if absent:
                _check_absent([row["key"] for row in present.fetchall()])
            last = tail.fetchone()
            chained = chain_rows((last["leaf_index"], bytes(last["chain_hash"])) if last else None, positions, stored_events)
            numbers, indexes, leaves, hashes = zip(*chained)
            curs.execute(SQL("INSERT INTO {} SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bytea[], %s::bytea[])")
                         .format(self._chain_relation), [_array(map(str, numbers)), _array(map(str, indexes)),
                                                         _bytea_array(leaves), _bytea_array(hashes)])
            return positions  # the second round trip: the chain rows and the commit

    @property
    def _insert_columns(self) -> Any:
        """One INSERT of the events given as four arrays, numbered in the arrays' order."""
        return SQL("INSERT INTO {}.{} (originator_id, originator_version, topic, state) SELECT i, v, t, s "
                   "FROM unnest(%s::{}[], %s::bigint[], %s::text[], %s::bytea[]) WITH ORDINALITY AS e(i, v, t, s, n) "
                   "ORDER BY n RETURNING notification_id").format(
            Identifier(self.datastore.schema), Identifier(self.events_table_name), SQL(self.datastore.originator_id_type))

    def _event_columns(self, stored_events: Sequence[StoredEvent]) -> list[Any]:
        """The events' four columns, ready to send (built before the lock: `_array` is ~5× cheaper than
        psycopg adapting a list, and eventsourcing's composite-type array costs more still)."""
        ids = [e.originator_id for e in stored_events]
        streams: Any = [str(i) for i in ids]
        if self.datastore.originator_id_type == "uuid":
            streams = _array([i.hex if isinstance(i, UUID) else UUID(str(i)).hex for i in ids])
        return [streams, _array([str(e.originator_version) for e in stored_events]), [e.topic for e in stored_events],
                _bytea_array([e.state for e in stored_events])]

    def _insert_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        """What goes in before the events (eventsourcing's hook): the batch's keys, in one statement."""
        rows = _key_rows(kwargs)
        if rows:
            names, digests, streams = zip(*rows)
            curs.execute(SQL("INSERT INTO {} SELECT * FROM unnest(%s::text[], %s::bytea[], %s::text[])").format(self._keys_relation),
                         [list(names), _bytea_array(digests), list(streams)])

    def _select_versions(self, curs: Any, streams: Sequence[UUID]) -> None:
        curs.execute(SQL("SELECT originator_id, MAX(originator_version) AS version FROM {}.{} "
                         "WHERE originator_id = ANY(%s) GROUP BY originator_id").format(
            Identifier(self.datastore.schema), Identifier(self.events_table_name)), (list(streams),))

    def _versions(self, curs: Any, streams: Sequence[UUID]) -> dict[UUID, int]:
        self._select_versions(curs, streams)
        return {row["originator_id"]: int(row["version"]) for row in curs.fetchall()}

    def stream_versions(self, streams: Sequence[UUID]) -> dict[UUID, int]:
        """Each stream's last version (streams without events are left out)."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            return self._versions(curs, streams)

    def raw_positions(self, start: int, limit: int) -> list[int]:
        statement = SQL("SELECT notification_id FROM {}.{} WHERE notification_id >= %s ORDER BY notification_id LIMIT %s").format(
            Identifier(self.datastore.schema), Identifier(self.events_table_name))
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (start, limit))
            return [int(row["notification_id"]) for row in curs.fetchall()]

    def lookup_keys(self, keys: Sequence[str]) -> dict[str, tuple[bytes, str]]:
        if not keys:
            return {}
        statement = SQL("SELECT key, digest, stream FROM {} WHERE key = ANY(%s)").format(self._keys_relation)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (list(keys),))
            return {row["key"]: (bytes(row["digest"]), row["stream"]) for row in curs.fetchall()}


class LedgerPostgresFactory(PostgresFactory):
    application_recorder_class = LedgerPostgresRecorder


# --- memory ---------------------------------------------------------------------------------

class MemoryRecorder(POPOApplicationRecorder):
    stream_locks = staticmethod(no_stream_locks)

    def __init__(self) -> None:
        super().__init__()
        self._keys: dict[str, tuple[bytes, str]] = {}
        self._chain: list[ChainRow] = []
        self._snapshots = POPOAggregateRecorder()

    def snapshot_recorder(self) -> AggregateRecorder:
        return self._snapshots

    def put_snapshots(self, snapshots: Sequence[StoredEvent]) -> None:
        """Store the snapshots and drop their streams' older ones from what is selected."""
        with self._snapshots._database_lock:  # noqa: SLF001 - the memory store's own index
            for snapshot in snapshots:
                versions = self._snapshots._stored_events_index[str(snapshot.originator_id)]  # noqa: SLF001
                if snapshot.originator_version not in versions:
                    self._snapshots.insert_events([snapshot])
                for old in [v for v in versions if v < snapshot.originator_version]:
                    del versions[old]

    def snapshot_streams(self) -> list[UUID]:
        index = self._snapshots._stored_events_index  # noqa: SLF001 - the memory store's own listing
        return sorted(UUID(stream) for stream, versions in list(index.items()) if versions)

    def _assert_uniqueness(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        super()._assert_uniqueness(stored_events, **kwargs)
        expected = _expected(kwargs)
        found = {stream: max(self._stored_events_index[str(stream)], default=0) for stream in expected}
        _check_read_versions(expected, found)
        _check_absent([key for key in _absent(kwargs) if key in self._keys])
        rows = _key_rows(kwargs)
        names = [row[0] for row in rows]
        if len(set(names)) != len(names) or any(name in self._keys for name in names):
            raise IntegrityError(f"key already recorded among {names[:5]}")

    def _update_table(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        for key, digest, stream in _key_rows(kwargs):
            self._keys[key] = (digest, stream)
        positions = super()._update_table(stored_events, **kwargs)
        assert positions is not None
        last = (self._chain[-1][1], self._chain[-1][3]) if self._chain else None
        self._chain += chain_rows(last, positions, stored_events)
        return positions

    def stream_versions(self, streams: Sequence[UUID]) -> dict[UUID, int]:
        """Each stream's last version (streams without events are left out)."""
        with self._database_lock:
            return {stream: max(self._stored_events_index[str(stream)]) for stream in streams
                    if self._stored_events_index.get(str(stream))}

    def position_of_leaf(self, leaf_index: int) -> int:
        with self._database_lock:
            return self._chain[leaf_index][0]

    def raw_positions(self, start: int, limit: int) -> list[int]:
        with self._database_lock:
            return list(range(max(start, 1), len(self._stored_events) + 1))[:limit]

    def select_chain(self, after: int, limit: int) -> list[ChainRow]:
        with self._database_lock:
            return [row for row in self._chain if row[0] > after][:limit]

    def lookup_keys(self, keys: Sequence[str]) -> dict[str, tuple[bytes, str]]:
        with self._database_lock:
            return {key: self._keys[key] for key in keys if key in self._keys}


class MemoryFactory(POPOFactory):
    def application_recorder(self) -> MemoryRecorder:
        return MemoryRecorder()
