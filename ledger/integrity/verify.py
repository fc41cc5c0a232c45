"""`tenge-ledger verify`: recompute everything from the stored rows and say where it breaks (SPEC §7).

Four passes, each naming the first bad store position it finds:
1. the hash chain — every event's canonical bytes against its chained leaf, in position order
   (altered, removed, reordered or inserted events);
2. the Merkle log and every checkpoint — stored tree nodes against a tree recomputed from the
   leaves, every checkpoint's signature and root (a rewritten log contradicts what was signed);
3. the domain — every stream replayed through its aggregate, whose invariants (conservation per
   color, no negative balance, consecutive versions) are asserted after every event;
   — and, on the way, the keys table rebuilt from the events (`ledger.integrity.keys`): every
   transaction id once among the events, every key the events imply present and unaltered, no other;
4. the projections — rebuilt from the events into a scratch database and compared row by row with
   the live ones, up to the position the live ones reached.
What is recomputed (leaves, Merkle nodes, implied keys, rebuilt projections) goes to a temporary
SQLite file (`ledger.integrity.scratch`, deleted when verify ends), and tables are compared in SQL,
so memory stays bounded however large the store (issue 11); the events stream in chunks.
Checkpoints the auditor kept outside the store (`--checkpoint FILE`, C2SP tlog-checkpoint notes) must
each match a prefix of the log; with the auditor's public key, a store with events and no checkpoint
signed by that key is a finding. Every finding names the position, and where the event can still be
read its transaction id and color, and says what is wrong in a sentence. Nothing is written.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import groupby
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from eventsourcing.persistence import StoredEvent

from domain import events as e
from domain.aggregate import Aggregate, Attempt
from domain.allocation import Allocation
from domain.party import Party, ReferencePrice
from domain.cases import FlagCase
from domain.roles import RolesPolicy
from domain.tokens import ApiTokens
from ledger.integrity.checkpoints import Checkpoint, key_id
from ledger.integrity.keys_scratch import ScratchKeys, iter_stored_keys
from ledger.integrity.merkle import leaf_hash
from ledger.integrity.merkle_log import NODES_TABLE
from ledger.integrity.merkle_scratch import ScratchTree
from ledger.integrity.scratch import LIVE, Scratch, plain
from ledger.integrity.snapshots import check_snapshots
from ledger.store.chain import GENESIS, chain_hash, encode_leaf
from ledger.store.views import open_view_database

CHUNK_EVENTS = 5_000
MISSING = ("the event recorded at this position is missing: its row was deleted from the events table, "
           "though the hash chain still lists it")
OnProgress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass(frozen=True)
class Finding:
    position: int
    check: str
    message: str
    transaction: str | None = None
    color: str | None = None

    def __str__(self) -> str:
        about = ", ".join(part for part in (
            f"transaction {self.transaction}" if self.transaction else "",
            f"color {self.color}" if self.color else "") if part)
        return f"position {self.position}{f' ({about})' if about else ''}: {self.check}: {self.message}"

    def document(self) -> dict[str, Any]:
        return {"position": self.position, "check": self.check, "transaction": self.transaction,
                "color": self.color, "message": self.message}


@dataclass(frozen=True)
class HeldCheckpoint:
    """A checkpoint note the auditor kept outside the store (`checkpoint --out`), and where from."""

    source: str
    checkpoint: Checkpoint
    signatures: tuple[Any, ...] = ()


class Verifier:
    def __init__(self, ledger: Any, on_progress: OnProgress | None = None,
                 public_key: Ed25519PublicKey | None = None, held: Sequence[HeldCheckpoint] = ()) -> None:
        """`public_key`: the ledger's key as the auditor holds it; without it, the keys stored
        beside the checkpoints are trusted (which a rewrite of the whole file could replace).
        `held`: checkpoints the auditor kept outside the store; each must match a prefix of the log.
        Refuses (`NotAllowed`) an actor who may not read under the ledger's roles policy."""
        ledger.authorize("read")
        self.ledger = ledger
        self.public_key = public_key
        self.held = list(held)
        self.on_progress = on_progress or (lambda phase, done, total: None)
        self.last_position = ledger.position()
        self.log_end = self.last_position  # the last position the events or the chain know of
        self.unreadable: dict[int, str] = {}  # position -> why the stored row cannot be read
        # read-only access to the Merkle nodes and checkpoints, without setting projections up
        self.views = ledger.read_side().db if ledger.store.kind == "memory" else open_view_database(ledger.store)

    def run(self) -> list[Finding]:
        """Every check; the findings sorted by position (empty when the store is intact)."""
        try:
            with Scratch() as self.scratch:
                return self._run()
        finally:
            if self.ledger.store.kind != "memory":
                self.views.close()

    def _run(self) -> list[Finding]:
        findings, tree = self.check_chain()
        findings += self.check_merkle(tree)
        if not self.ledger.sealed:  # without the key only the stored bytes can be checked
            findings += self.check_domain()
            findings += check_snapshots(self.ledger, self.log_end)  # snapshots equal their streams' replay
            if not findings:  # projections of bad events cannot be rebuilt meaningfully
                findings += self.check_projections()
        return sorted((self._named(finding) for finding in findings), key=lambda finding: finding.position)

    def _named(self, finding: Finding) -> Finding:
        """The finding with the transaction id and color of the event at its position, where readable
        (the keys checks name their own: a key no event implies is about no event)."""
        if finding.transaction is not None or finding.check in ("keys", "transaction") or self.ledger.sealed:
            return finding
        try:
            [note] = self.ledger.recorder.select_notifications(start=finding.position, limit=1)
            if note.id != finding.position:
                return finding
            event = self.ledger.mapper.to_domain_event(note)
        except Exception:  # noqa: BLE001 - the row is gone or unreadable: the message says so
            return finding
        transaction, color = getattr(event, "command_id", None), getattr(event, "color", None)
        return replace(finding, transaction=transaction if isinstance(transaction, str) else None,
                       color=color if isinstance(color, str) else None)

    # --- 1. chain -------------------------------------------------------------------------

    def _notifications(self) -> Iterator[Any]:
        start = 1
        while True:
            try:
                batch = self.ledger.recorder.select_notifications(start=start, limit=CHUNK_EVENTS)
            except Exception:  # noqa: BLE001 - a row the store cannot even parse: find it
                batch = self._readable(start)
            if not batch:
                return
            yield from batch
            start = batch[-1].id + 1
            self.on_progress("chain", batch[-1].id, self.last_position)

    def _readable(self, start: int) -> list[Any]:
        """The next rows from `start` that can be read one by one; the others become findings."""
        recorder = self.ledger.recorder
        while True:
            positions = recorder.raw_positions(start, CHUNK_EVENTS)
            if not positions:
                return []
            readable = []
            for position in positions:
                try:
                    readable += recorder.select_notifications(start=position, limit=1)
                except Exception as error:  # noqa: BLE001
                    self.unreadable[position] = f"the stored event row cannot be read ({error}): it was altered outside the ledger"
            if readable:
                return readable
            start = positions[-1] + 1

    def _chain_rows(self) -> Iterator[tuple[int, int, bytes, bytes]]:
        after = 0
        while True:
            rows = self.ledger.recorder.select_chain(after, CHUNK_EVENTS)
            if not rows:
                return
            yield from rows
            after = rows[-1][0]

    def check_chain(self) -> tuple[list[Finding], ScratchTree]:
        """Findings, and the Merkle tree recomputed from the events' leaves, in order."""
        findings: list[Finding] = []
        tree = ScratchTree(self.scratch)
        chain = self._chain_rows()
        row = next(chain, None)
        previous = GENESIS
        for position in getattr(self.ledger.recorder, "noncanonical_positions", list)():
            findings.append(Finding(position, "chain", "the row's stream id is not in the canonical form the ledger writes "
                                    "(32 lower-case hex digits): it was altered outside the ledger"))
        for note in self._notifications():
            while row is not None and row[0] < note.id:
                findings.append(Finding(row[0], "chain", self.unreadable.get(row[0], MISSING)))
                previous, row = row[3], next(chain, None)
            leaf = leaf_hash(encode_leaf(note.id, note.originator_id, note.originator_version, note.topic, note.state))
            tree.append(note.id, leaf)
            if row is None or row[0] > note.id:
                findings.append(Finding(note.id, "chain", "this event has no chain entry: it was written outside the ledger "
                                        "(inserted behind its back) and is not part of the recorded history"))
                continue
            if row[1] != tree.size - 1:
                findings.append(Finding(note.id, "chain", f"the chain entry says this event is leaf {row[1]}, but it is leaf "
                                        f"{tree.size - 1} of the log: chain rows were renumbered or removed"))
            if row[2] != leaf:
                findings.append(Finding(note.id, "chain", "the event's stored bytes no longer hash to the leaf chained when it "
                                        "was written: it was altered afterwards (or another event's row was moved here)"))
            elif chain_hash(previous, row[2]) != row[3]:
                findings.append(Finding(note.id, "chain", "the hash chain breaks here: this chain entry does not follow from "
                                        "the one before, so chain rows were edited"))
            previous, row = row[3], next(chain, None)
        while row is not None:
            findings.append(Finding(row[0], "chain", self.unreadable.get(row[0], MISSING)))
            self.log_end = max(self.log_end, row[0])
            row = next(chain, None)
        tree.flush()
        return findings, tree

    # --- 2. Merkle log and checkpoints ------------------------------------------------------

    def check_merkle(self, tree: ScratchTree) -> list[Finding]:
        findings: list[Finding] = []
        db = self.views
        mismatch = None
        if _has_table(db, NODES_TABLE):
            stored = db.iterate(f"SELECT level, idx, hash FROM {NODES_TABLE} ORDER BY level, idx")
            try:
                mismatch = tree.first_mismatch(stored)
            finally:
                stored.close()
        if mismatch is not None:
            level, index = mismatch
            position = tree.position_of(index << level)
            findings.append(Finding(self.last_position if position is None else position, "merkle",
                                    f"stored Merkle node (level {level}, index {index}) disagrees with the events "
                                    f"from here on: the Merkle log or the events it covers were rewritten"))
        checkpoints = _checkpoints(db)
        for expected_number, checkpoint in enumerate(checkpoints, start=1):
            if checkpoint.number != expected_number:
                findings.append(Finding(self.last_position, "checkpoint", f"checkpoint #{expected_number} is missing from the store "
                                        f"(numbering jumps to #{checkpoint.number}): its row was deleted"))
                break
        verified: list[Checkpoint] = []
        for checkpoint in checkpoints:
            problems = self._check_checkpoint(checkpoint, tree)
            findings += problems
            if not problems:
                verified.append(checkpoint)
        findings += self.check_held(tree, checkpoints)
        if self.public_key is not None and tree.size and not verified and not self._held_by_key():
            findings.append(Finding(self.last_position, "checkpoint", f"the store holds {tree.size} events but no checkpoint "
                                    f"signed by the given public key (key ID {key_id(self.public_key)}): its checkpoints were "
                                    "deleted or signed by another key; check the log against a checkpoint you kept "
                                    "(`verify --checkpoint FILE`)"))
        return findings

    def _end_of(self, size: int, tree: ScratchTree) -> int:
        """The store position of the last event a tree of `size` leaves covers."""
        position = tree.position_of(size - 1) if 0 < size <= tree.size else None
        return self.last_position if position is None else position

    def _check_checkpoint(self, checkpoint: Checkpoint, tree: ScratchTree) -> list[Finding]:
        last = self._end_of(checkpoint.tree_size, tree)
        public = self.public_key or _public_key(self.views, checkpoint)
        if not _signed_by(checkpoint, public):
            whose = "the given public key" if self.public_key else "the ledger key stored beside it"
            return [Finding(last, "checkpoint", f"checkpoint #{checkpoint.number}: the signature does not verify with {whose}: "
                            "the checkpoint row (or the stored key) was altered, or it was signed by another key")]
        return self._prefix_findings(f"checkpoint #{checkpoint.number}", checkpoint, tree)

    def _prefix_findings(self, name: str, checkpoint: Checkpoint, tree: ScratchTree) -> list[Finding]:
        """The signed size and root must be those of a prefix of the log as it is now."""
        if checkpoint.tree_size > tree.size:
            return [Finding(self.last_position, "checkpoint", f"{name} signs {checkpoint.tree_size} events but only {tree.size} "
                            f"remain: events from leaf {tree.size} on were removed (the log was truncated)")]
        if base64.b64encode(tree.root(checkpoint.tree_size)).decode() != checkpoint.root_hash:
            return [Finding(self._end_of(checkpoint.tree_size, tree), "checkpoint", f"the first {checkpoint.tree_size} events no "
                            f"longer have the root signed in {name}: the log was rewritten at or before this position")]
        return []

    def check_held(self, tree: ScratchTree, stored: list[Checkpoint]) -> list[Finding]:
        """Checkpoints the auditor kept outside the store: signed, a prefix of the log, and still in the store."""
        findings: list[Finding] = []
        for held in self.held:
            checkpoint, name = held.checkpoint, f"the checkpoint held in {held.source}"
            last = self._end_of(checkpoint.tree_size, tree)
            public = self.public_key or _public_key(self.views, checkpoint)
            if not _signed_by(checkpoint, public):
                why = ("is not signed by the given public key" if self.public_key else
                       "cannot be checked with the ledger keys stored in the store: the stored key was replaced or removed, "
                       "or the file is not this ledger's; give the ledger's public key with --public-key")
                findings.append(Finding(last, "checkpoint", f"{name} {why}"))
                continue
            problems = self._prefix_findings(name, checkpoint, tree)
            findings += problems
            if not problems and not any(_same(checkpoint, kept) for kept in stored):
                findings.append(Finding(last, "checkpoint", f"{name} (size {checkpoint.tree_size}) is no longer among the store's "
                                        "checkpoints: checkpoint rows were deleted (the log itself still matches it)"))
        return findings

    def _held_by_key(self) -> bool:
        return any(_signed_by(held.checkpoint, self.public_key) for held in self.held)

    # --- 3. domain replay and the keys table ------------------------------------------------

    def check_domain(self) -> list[Finding]:
        """Decode every event in position order (the keys table's facts on the way), then replay the
        streams one at a time from the scratch copy (`ReplayedStreams`): memory holds one aggregate,
        however many streams the store has. The findings are those of a replay of all streams side
        by side in position order: the first event that cannot be decoded (or is not well-formed),
        the first replay failure before it, and — only with neither — the first color whose
        invariants fail after all its events."""
        expected = ScratchKeys(self.scratch, self.ledger.stored_key)
        replay = ReplayedStreams(self.scratch)
        findings: list[Finding] = []
        decoded_all = True
        to_event = self.ledger.mapper.to_domain_event
        for note in self._notifications():
            try:
                event = to_event(note)
            except Exception as error:  # noqa: BLE001 - any failure to decode is a finding
                findings.append(Finding(note.id, "domain", f"the stored payload cannot be read as a {note.topic} event "
                                        f"({error or type(error).__name__}): it was altered outside the ledger"))
                decoded_all = False
                break
            try:
                expected.observe(note.id, note.originator_id, event)
            except Exception as error:  # noqa: BLE001 - fields of the wrong type: the payload was edited
                findings.append(Finding(note.id, "domain", f"the stored {note.topic} event is not well-formed ({type(error).__name__}: "
                                        f"{error}): it was altered outside the ledger"))
                decoded_all = False
                break
            replay.add(note)
        replayed = replay.findings(to_event, check_colors=not findings)
        findings += replayed
        if decoded_all:  # otherwise the keys the unread events imply are unknown
            findings += self.check_keys(expected)
        return findings

    def check_keys(self, expected: ScratchKeys) -> list[Finding]:
        """The keys table against the one the events imply (and every transaction id once)."""
        from ledger.app import TIME_ZONE_KEY
        from ledger.store.cipher import CIPHER_MARKER

        problems = expected.problems(iter_stored_keys(self.ledger.recorder), {CIPHER_MARKER, TIME_ZONE_KEY})
        return [Finding(problem.position or self.log_end, problem.check, problem.message, problem.transaction, problem.color)
                for problem in problems]

    # --- 4. projections ---------------------------------------------------------------------

    def check_projections(self) -> list[Finding]:
        read = self.ledger.read_side()
        live = read.runner
        positions = live.positions()
        if not positions:
            return []
        reached = min(positions.values())
        rebuilt = read.fresh_runner(self.scratch.db)
        projections = list(rebuilt.projections.values())
        rebuilt.catch_up(until=reached)
        tables = [(projection.name, table) for projection in projections for table in projection.compared_tables or projection.tables]
        copied = not self.scratch.attach_live(self.ledger.store)
        if copied:
            self.scratch.attach_copy()
        for name, table in tables:
            columns, types = zip(*[(row[1], row[2]) for row in self.scratch.db.query(f"PRAGMA main.table_info({table})")])
            if copied:
                self.scratch.copy_in(read.db, table, columns, types)
            finding = _compare_table(self.scratch, table, list(columns), name, reached)
            if finding:
                return [finding]
        return []


class ReplayedStreams:
    """The domain replay of `verify`, one stream at a time, in bounded memory.

    `add` copies each decodable event's stored row (stream, position, version, topic, payload) to
    the scratch file as the events stream past in position order; `findings` then reads them back
    stream by stream (sorted by stream, then position: SQLite sorts on disk, `temp_store = FILE`), decodes each again and applies it to
    its stream's aggregate, which is dropped when the stream ends. Streams are independent, so the
    first failure of every stream, and the earliest of those, are what one replay of all streams
    in position order finds; `aggregates_made` counts the aggregates built (tests).
    """

    TABLE = "verify_events"

    def __init__(self, scratch: Scratch) -> None:
        self.scratch = scratch
        scratch.db.execute(f"CREATE TABLE {self.TABLE} (stream BLOB NOT NULL, position INTEGER NOT NULL, version INTEGER NOT NULL, "
                           "topic TEXT NOT NULL, state BLOB NOT NULL)")
        self._rows: list[tuple[bytes, int, int, str, bytes]] = []
        self.aggregates_made = 0

    def add(self, note: Any) -> None:
        stream = note.originator_id if isinstance(note.originator_id, UUID) else UUID(str(note.originator_id))
        self._rows.append((stream.bytes, note.id, note.originator_version, note.topic, bytes(note.state)))
        if len(self._rows) >= CHUNK_EVENTS:
            self._flush()

    def _flush(self) -> None:
        self.scratch.insert(self.TABLE, self._rows, 5)
        self._rows = []

    def findings(self, to_event: Callable[[Any], e.LedgerEvent], check_colors: bool) -> list[Finding]:
        """The first replay failure (by position) of all streams; with none and `check_colors`, the
        first color (by its last event's position) whose invariants fail after all its events."""
        self._flush()
        failure: Finding | None = None
        broken: Finding | None = None  # the first color failing its end-of-stream check
        rows = self.scratch.rows(f"SELECT stream, position, version, topic, state FROM {self.TABLE} ORDER BY stream, position")
        for stream, notes in groupby(rows, key=lambda row: row[0]):
            found, unbalanced = self._replay(UUID(bytes=bytes(stream)), notes, to_event)
            if found is not None and (failure is None or found.position < failure.position):
                failure = found
            if unbalanced is not None and (broken is None or unbalanced.position < broken.position):
                broken = unbalanced
        if failure is not None:
            return [failure]
        return [broken] if broken is not None and check_colors else []

    def _replay(self, stream: UUID, notes: Iterator[tuple[Any, ...]],
                to_event: Callable[[Any], e.LedgerEvent]) -> tuple[Finding | None, Finding | None]:
        """(the stream's first replay failure, its color's end-of-stream finding), either None."""
        aggregate: Aggregate | None = None
        blocked = 0  # versions taken by CommandBlocked events before the stream's aggregate exists
        last = 0  # the stream's last replayed position: where a whole-history invariant is judged
        for _, position, version, topic, state in notes:
            event = to_event(StoredEvent(stream, version, topic, bytes(state)))
            try:
                if aggregate is None and isinstance(event, e.CommandBlocked):
                    assert version == blocked + 1, (version, blocked)
                    blocked = version
                    continue
                if aggregate is None:
                    aggregate = _aggregate_for(event)
                    self.aggregates_made += 1
                    aggregate.version = blocked
                aggregate.apply(event)
                last = position
            except Exception as error:  # noqa: BLE001 - any failure to replay is a finding
                return Finding(position, "domain", _replay_problem(event, error), event.command_id, getattr(event, "color", None)), None
        if isinstance(aggregate, Allocation):
            try:
                aggregate.check()
            except AssertionError as error:
                # Named at the stream's last event, where the breach shows: an altered event that
                # replays cleanly is at or before it, and a check that pins it (the hash chain)
                # names it earlier, so the findings sorted by position lead with the precise one.
                return None, Finding(last, "domain", f"color {aggregate.color} breaks an invariant after replaying all its "
                                     f"events up to position {last} ({error or 'conservation, lots or balances'}): an "
                                     "event of this color was altered or removed", color=aggregate.color)
        return None, None


def _aggregate_for(event: e.LedgerEvent) -> Aggregate:
    if isinstance(event, (e.PartyRegistered, e.PartyUpdated)):
        return Party(event.originator_id)
    if isinstance(event, e.ReferencePriceSet):
        return ReferencePrice(event.originator_id)
    if isinstance(event, e.RolesPolicySet):
        return RolesPolicy(event.originator_id)
    if isinstance(event, e.FlagDisposed):
        return FlagCase(event.originator_id)
    if isinstance(event, (e.ApiTokenIssued, e.ApiTokenRevoked)):
        return ApiTokens(event.originator_id)
    if isinstance(event, e.ColorEvent):
        return Allocation(event.originator_id)
    return Attempt(event.originator_id)


def _replay_problem(event: e.LedgerEvent, error: BaseException) -> str:
    """What a failed replay means, in a sentence (not the bare assertion)."""
    what = f"replaying this {type(event).__name__} fails"
    detail = error.args[0] if isinstance(error, AssertionError) and error.args else None
    if isinstance(detail, tuple) and len(detail) == 2 and all(isinstance(v, int) for v in detail):
        return (f"{what}: it is version {detail[0]} of its stream, but the stream is at version {detail[1]}: an event of "
                "this stream is missing, repeated or out of order")
    if isinstance(error, AssertionError):
        return (f"{what}: it breaks the ledger's invariants ({detail or 'conservation, lots or a balance below zero'}): "
                "this event or an earlier one of the same stream was altered")
    return f"{what} ({type(error).__name__}: {error}): the event does not fit the state its stream reached"


def _signed_by(checkpoint: Checkpoint, public: Ed25519PublicKey | None) -> bool:
    if public is None or checkpoint.key_id != key_id(public, checkpoint.origin):
        return False
    try:
        public.verify(base64.b64decode(checkpoint.signature), checkpoint.message())
    except (InvalidSignature, ValueError, AssertionError):
        return False
    return True


def _same(held: Checkpoint, kept: Checkpoint) -> bool:
    return (held.origin, held.tree_size, held.root_hash, held.key_id, held.signature) == \
        (kept.origin, kept.tree_size, kept.root_hash, kept.key_id, kept.signature)


def _has_table(db: Any, table: str) -> bool:
    try:
        db.query(f"SELECT 1 FROM {table} LIMIT 1")
    except Exception:  # noqa: BLE001 - the table does not exist (yet)
        return False
    return True


def _checkpoints(db: Any) -> list[Checkpoint]:
    if not _has_table(db, "ledger_checkpoints"):
        return []
    rows = db.query("SELECT number, origin, tree_size, root_hash, time, key_id, signature FROM ledger_checkpoints ORDER BY number")
    return [Checkpoint(int(r[0]), r[1], int(r[2]), r[3], r[4], r[5], r[6]) for r in rows]


def _public_key(db: Any, checkpoint: Checkpoint) -> Ed25519PublicKey | None:
    if not _has_table(db, "ledger_signing_keys"):
        return None
    rows = db.query("SELECT public_key FROM ledger_signing_keys WHERE key_id = ?", (checkpoint.key_id,))
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(rows[0][0])) if rows else None


def _compare_table(scratch: Scratch, table: str, columns: list[str], projection: str, reached: int) -> Finding | None:
    """The rebuilt table (`main`) against the live one (`live`), in SQL: rows in one and not the
    other (`EXCEPT` both ways); if none, the rows repeated a different number of times."""
    listed = ", ".join(columns)
    count, first, position = 0, None, None
    index = columns.index("position") if "position" in columns else None
    for ours, theirs in (("main", LIVE), (LIVE, "main")):
        for row in scratch.rows(f"SELECT {listed} FROM {ours}.{table} EXCEPT SELECT {listed} FROM {theirs}.{table}"):
            row = tuple(plain(value) for value in row)
            count += 1
            if first is None or repr(row) < repr(first):
                first = row
            if index is not None and row[index] is not None:
                position = int(row[index]) if position is None else min(position, int(row[index]))
    if not count and not _multiplicities_differ(scratch, table, listed):
        return None
    example = dict(zip(columns, first)) if first is not None else {}
    shown = ", ".join(f"{k}={v!r}" for k, v in example.items() if not isinstance(v, bytes))[:200]
    return Finding(reached if position is None else position, "projection", f"projection {projection}, table {table}, differs "
                   f"from a rebuild from the events ({count} row(s) differ, e.g. {shown}): the read model was edited; "
                   "`tenge-ledger rebuild` recomputes it from the events")


def _multiplicities_differ(scratch: Scratch, table: str, listed: str) -> bool:
    """With the same set of rows on both sides: is a row repeated more often on one side?"""
    grouped = [f"SELECT {listed}, COUNT(*) FROM {schema}.{table} GROUP BY {listed}" for schema in ("main", LIVE)]
    return bool(scratch.db.query(f"{grouped[0]} EXCEPT {grouped[1]} LIMIT 1"))
