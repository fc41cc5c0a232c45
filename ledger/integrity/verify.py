"""`tenge-ledger verify`: recompute everything from the stored rows and say where it breaks (SPEC §7).

Four passes, each naming the first bad store position it finds:
1. the hash chain — every event's canonical bytes against its chained leaf, in position order
   (altered, removed, reordered or inserted events);
2. the Merkle log and every checkpoint — stored tree nodes against a tree recomputed from the
   leaves, every checkpoint's signature and root (a rewritten log contradicts what was signed);
3. the domain — every stream replayed through its aggregate, whose invariants (conservation per
   color, no negative balance, consecutive versions) are asserted after every event;
4. the projections — rebuilt from the events into a scratch database and compared row by row with
   the live ones, up to the position the live ones reached.
Nothing is written.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from domain import events as e
from domain.aggregate import Aggregate, Attempt
from domain.allocation import Allocation
from domain.party import Party, ReferencePrice
from domain.roles import RolesPolicy
from ledger.integrity.checkpoints import Checkpoint
from ledger.store.chain import GENESIS, chain_hash, encode_leaf
from ledger.integrity.merkle import MemoryLevels, leaf_hash, root
from ledger.integrity.merkle_log import NODES_TABLE
from ledger.store.views import SQLiteViewDatabase, open_view_database
from projections.runner import ProjectionRunner

CHUNK_EVENTS = 5_000
OnProgress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass(frozen=True)
class Finding:
    position: int
    check: str
    message: str

    def __str__(self) -> str:
        return f"position {self.position}: {self.check}: {self.message}"


class Verifier:
    def __init__(self, ledger: Any, on_progress: OnProgress | None = None,
                 public_key: Ed25519PublicKey | None = None) -> None:
        """`public_key`: the ledger's key as the auditor holds it; without it, the keys stored
        beside the checkpoints are trusted (which a rewrite of the whole file could replace).
        Refuses (`NotAllowed`) an actor who may not read under the ledger's roles policy."""
        ledger.authorize("read")
        self.ledger = ledger
        self.public_key = public_key
        self.on_progress = on_progress or (lambda phase, done, total: None)
        self.last_position = ledger.position()
        self.unreadable: dict[int, str] = {}  # position -> why the stored row cannot be read
        # read-only access to the Merkle nodes and checkpoints, without setting projections up
        self.views = ledger.read_side().db if ledger.store.kind == "memory" else open_view_database(ledger.store)

    def run(self) -> list[Finding]:
        """Every check; the findings sorted by position (empty when the store is intact)."""
        try:
            return self._run()
        finally:
            if self.ledger.store.kind != "memory":
                self.views.close()

    def _run(self) -> list[Finding]:
        findings, leaves = self.check_chain()
        findings += self.check_merkle(leaves)
        if self.ledger.sealed:  # without the key only the stored bytes can be checked
            return sorted(findings, key=lambda finding: finding.position)
        findings += self.check_domain()
        if not findings:  # projections of bad events cannot be rebuilt meaningfully
            findings += self.check_projections()
        return sorted(findings, key=lambda finding: finding.position)

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
                    self.unreadable[position] = f"the stored row cannot be read ({error}): it was altered"
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

    def check_chain(self) -> tuple[list[Finding], list[tuple[int, bytes]]]:
        """Findings, and the recomputed (position, leaf hash) of every event, in order."""
        findings: list[Finding] = []
        leaves: list[tuple[int, bytes]] = []
        chain = self._chain_rows()
        row = next(chain, None)
        previous = GENESIS
        for position in getattr(self.ledger.recorder, "noncanonical_positions", list)():
            findings.append(Finding(position, "chain", "the row's stream id is not in the ledger's canonical form: it was altered"))
        for note in self._notifications():
            while row is not None and row[0] < note.id:
                findings.append(Finding(row[0], "chain", self.unreadable.get(row[0], "the event recorded at this position is missing")))
                previous, row = row[3], next(chain, None)
            leaf = leaf_hash(encode_leaf(note.id, note.originator_id, note.originator_version, note.topic, note.state))
            leaves.append((note.id, leaf))
            if row is None or row[0] > note.id:
                findings.append(Finding(note.id, "chain", "this event has no chain entry: it was written outside the ledger"))
                continue
            if row[1] != len(leaves) - 1:
                findings.append(Finding(note.id, "chain", f"chain entry says leaf {row[1]}, expected {len(leaves) - 1}"))
            if row[2] != leaf:
                findings.append(Finding(note.id, "chain", "the event's bytes no longer hash to its chained leaf: it was altered"))
            elif chain_hash(previous, row[2]) != row[3]:
                findings.append(Finding(note.id, "chain", "the hash chain breaks here"))
            previous, row = row[3], next(chain, None)
        while row is not None:
            findings.append(Finding(row[0], "chain", self.unreadable.get(row[0], "the event recorded at this position is missing")))
            row = next(chain, None)
        return findings, leaves

    # --- 2. Merkle log and checkpoints ------------------------------------------------------

    def check_merkle(self, leaves: list[tuple[int, bytes]]) -> list[Finding]:
        findings: list[Finding] = []
        tree = MemoryLevels([leaf for _, leaf in leaves])
        db = self.views
        stored = db.query(f"SELECT level, idx, hash FROM {NODES_TABLE} ORDER BY level, idx") if _has_table(db, NODES_TABLE) else []
        for level, index, value in stored:
            level, index = int(level), int(index)
            if level >= len(tree.levels) or index >= len(tree.levels[level]) or tree.levels[level][index] != bytes(value):
                first_leaf = index << level
                position = leaves[first_leaf][0] if first_leaf < len(leaves) else self.last_position
                findings.append(Finding(position, "merkle", f"stored Merkle node (level {level}, index {index}) disagrees with the events"))
                break
        checkpoints = _checkpoints(db)
        for expected_number, checkpoint in enumerate(checkpoints, start=1):
            if checkpoint.number != expected_number:
                findings.append(Finding(self.last_position, "checkpoint", f"checkpoint #{expected_number} is missing (numbering jumps to #{checkpoint.number})"))
                break
        for checkpoint in checkpoints:
            findings += self._check_checkpoint(checkpoint, tree, leaves)
        return findings

    def _check_checkpoint(self, checkpoint: Checkpoint, tree: MemoryLevels, leaves: list[tuple[int, bytes]]) -> list[Finding]:
        last = leaves[checkpoint.tree_size - 1][0] if 0 < checkpoint.tree_size <= len(leaves) else self.last_position
        public = self.public_key or _public_key(self.views, checkpoint)
        try:
            if public is None:
                raise InvalidSignature
            public.verify(base64.b64decode(checkpoint.signature), checkpoint.message())
        except (InvalidSignature, ValueError):
            return [Finding(last, "checkpoint", f"checkpoint #{checkpoint.number}: the signature does not verify")]
        if checkpoint.tree_size > tree.size:
            return [Finding(self.last_position, "checkpoint", f"checkpoint #{checkpoint.number} signs {checkpoint.tree_size} events but only {tree.size} remain")]
        if base64.b64encode(root(tree.perfect, checkpoint.tree_size)).decode() != checkpoint.root_hash:
            return [Finding(last, "checkpoint", f"the first {checkpoint.tree_size} events no longer have the root signed in checkpoint #{checkpoint.number}: the log was rewritten")]
        return []

    # --- 3. domain replay -------------------------------------------------------------------

    def check_domain(self) -> list[Finding]:
        streams: dict[UUID, Aggregate] = {}
        blocked_only: dict[UUID, int] = {}
        allocations: list[tuple[int, Allocation]] = []
        to_event = self.ledger.mapper.to_domain_event
        for note in self._notifications():
            try:
                event = to_event(note)
                aggregate = streams.get(note.originator_id)
                if aggregate is None and isinstance(event, e.CommandBlocked):
                    assert note.originator_version == blocked_only.get(note.originator_id, 0) + 1, "versions skip"
                    blocked_only[note.originator_id] = note.originator_version
                    continue
                if aggregate is None:
                    aggregate = streams[note.originator_id] = _aggregate_for(event)
                    aggregate.version = blocked_only.pop(note.originator_id, 0)
                    if isinstance(aggregate, Allocation):
                        allocations.append((note.id, aggregate))
                aggregate.apply(event)
            except Exception as error:  # noqa: BLE001 - any failure to replay is a finding
                return [Finding(note.id, "domain", f"replaying this event fails: {error or type(error).__name__}")]
        for position, allocation in allocations:
            try:
                allocation.check()
            except AssertionError as error:
                return [Finding(position, "domain", f"color {allocation.color} breaks an invariant: {error}")]
        return []

    # --- 4. projections ---------------------------------------------------------------------

    def check_projections(self) -> list[Finding]:
        read = self.ledger.read_side()
        live = read.runner
        positions = live.positions()
        if not positions:
            return []
        reached = min(positions.values())
        scratch = SQLiteViewDatabase(":memory:")
        try:
            projections = [projection.fresh() for projection in live.projections.values()]
            rebuilt = ProjectionRunner(scratch, projections, read._read_log)
            rebuilt.catch_up(until=reached)
            for projection in projections:
                for table in projection.compared_tables or projection.tables:
                    finding = _compare_table(read.db, scratch, table, projection.name, reached)
                    if finding:
                        return [finding]
        finally:
            scratch.close()
        return []


def _aggregate_for(event: e.LedgerEvent) -> Aggregate:
    if isinstance(event, (e.PartyRegistered, e.PartyUpdated)):
        return Party(event.originator_id)
    if isinstance(event, e.ReferencePriceSet):
        return ReferencePrice(event.originator_id)
    if isinstance(event, e.RolesPolicySet):
        return RolesPolicy(event.originator_id)
    if isinstance(event, e.ColorEvent):
        return Allocation(event.originator_id)
    return Attempt(event.originator_id)


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


def _compare_table(live: Any, scratch: Any, table: str, projection: str, reached: int) -> Finding | None:
    columns = [row[1] for row in scratch.query(f"PRAGMA table_info({table})")]
    select = f"SELECT {', '.join(columns)} FROM {table}"
    mine = sorted((tuple(_plain(v) for v in row) for row in live.query(select)), key=repr)
    theirs = sorted((tuple(_plain(v) for v in row) for row in scratch.query(select)), key=repr)
    if mine == theirs:
        return None
    differing = sorted(set(mine) ^ set(theirs), key=repr)
    position = reached
    if "position" in columns and differing:
        index = columns.index("position")
        position = min(int(row[index]) for row in differing if row[index] is not None)
    example = dict(zip(columns, differing[0])) if differing else {}
    shown = ", ".join(f"{k}={v!r}" for k, v in example.items() if not isinstance(v, bytes))[:200]
    return Finding(position, "projection", f"projection {projection}, table {table}, differs from a rebuild from the events "
                   f"({len(differing)} row(s) differ, e.g. {shown})")


def _plain(value: Any) -> Any:
    return bytes(value) if isinstance(value, (memoryview, bytearray)) else value
