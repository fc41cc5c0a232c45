"""The `Ledger` application: decides commands against aggregates and records events atomically.

Commands are applied in order, in batches. A batch loads (and caches) the aggregates it touches
(those it can foresee in a few queries before deciding: `Ledger.prefetch`), lets each decide, and
saves every new event of the batch in one transaction together with the batch's keys (command
ids with their content digests, contract and color names; see `ledger.store`). When the cache is
full, the least recently used half is dropped between batches. A batch is all or nothing; a
stale aggregate or a key claimed by another writer fails the save with `IntegrityError`, and the
batch is re-run from fresh state. Events are saved in command order, so the store's position
order is the order commands were applied.

Roles are enforced here, not in a face: every batch, every read-side question and every policy
change is checked against the roles policy recorded in the ledger (`domain.roles`), or the
bootstrap policy the face passes when none is recorded. A refusal raises `NotAllowed` before
anything is written.
The ledger's time zone (SPEC §2.5) is a row of the keys table, `meta:time_zone` = `+05:00`,
written in the transaction of the store's first events and never changed: a ledger opened with
another `time_zone` than its store's refuses (`TimeZoneMismatch`). A store with events but no such
row (older than the row) is in the default zone, UTC+05:00.

Snapshots (issue 11): after a batch commits, each color it touched whose stream grew enough since
its last snapshot gets a new one (`AllocationSnapshot` in the store's snapshot table, encoded and
encrypted like events), and the older ones of that color are dropped. "Enough" is
`SNAPSHOT_EVENTS_MIN` events, or a quarter of the state's entries if more (`Allocation.snapshot_entries`,
mostly open lots): a snapshot costs about one entry's encoding per entry, so writing them costs at
most a few entries per event imported, and loading a color costs its state plus fewer events than
that (issue 11: 15.9 ms to replay 1 001 events, 0.10 ms from a snapshot; taking them inside the
batch's transaction cut imports from 72 000 to 28 000 events/s). Loading a color starts from its
latest snapshot and replays only the events after it; a missing, unreadable or inconsistent
snapshot is ignored and the whole stream replayed, so a snapshot never changes a decision.
A color dropped from a full cache is snapshotted too if it grew by `EVICTION_SNAPSHOT_EVENTS_MIN`
events since its last one, so loading it again costs its state, not its history. Taking one is best
effort and outside the batch's transaction; `verify` checks every snapshot against the replay of its
stream (`ledger.integrity.snapshots`).

A blocked command's id key is written with a `blocked:<id>` key naming the stream of its
`CommandBlocked` event, so that submitting it again answers `blocked` with its original rule and
sentence (the same attempt, recorded once), not `duplicate`.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import random
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from dataclasses import dataclass, fields
from datetime import datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from uuid import NAMESPACE_URL, UUID, uuid5

import orjson
from eventsourcing.application import Application, Recording
from eventsourcing.persistence import IntegrityError, Transcoder

from domain import commands as c
from domain import events as e
from domain.aggregate import Aggregate, Attempt
from domain.allocation import Allocation, AllocationSnapshot
from domain.errors import LedgerError, StoreError
from ledger.store.cipher import CIPHER_MARKER, Encryption
from domain.party import Party, ReferencePrice
from domain.policy import LEDGER_TIME_ZONE_DEFAULT, Rejection, parse_time_zone, time_zone_text
from domain.identifiers import parse_command_id
from domain.cases import DISPOSE_FLAG, FlagCase, parse_comment, parse_disposition, parse_flag_id
from domain.roles import ROLES_STREAM, SET_ROLES, RolesPolicy, policy_problem
from ledger.interchange import command_digest, command_to_record
from ledger.read import ReadSide
from ledger.roles import EVERYONE, InvalidRoles, Policy, check_actor
from projections.rules.config import RulesConfig
from ledger.store.errors import BUSY, StoreFailure, store_failure
from ledger.store.recorders import StreamsBusy
from ledger.store.url import StoreConfig, parse_store_url
from ledger.store.transcoder import MsgpackTranscoder

NAMESPACE = uuid5(NAMESPACE_URL, "https://tenge-ledger/streams")
BATCH_SIZE_DEFAULT = 1_000
WAIT_SECONDS_DEFAULT = 60  # SPEC §5 `--wait`: how long a writer waits for what others hold
CACHE_AGGREGATES_MAX = int(os.environ.get("TENGE_LEDGER_CACHE_AGGREGATES", "50000"))  # the variable: measurements only
SNAPSHOT_EVENTS_MIN = 200  # a color is snapshotted again once its stream grew by this many events ...
SNAPSHOT_ENTRIES_PER_EVENT = 4  # ... or by a quarter of its state's entries, if more
EVICTION_SNAPSHOT_EVENTS_MIN = 8  # a color dropped from the cache is snapshotted if it grew by this many events

APPLIED, DUPLICATE, BLOCKED, CONFLICT = "applied", "duplicate", "blocked", "conflict"
TIME_ZONE_KEY = "meta:time_zone"  # stored as is (not hidden when encrypted): it is no personal data


@lru_cache(maxsize=100_000)
def color_stream(color: str) -> UUID:
    return uuid5(NAMESPACE, "color:" + color)


@lru_cache(maxsize=100_000)
def party_stream(party: str) -> UUID:
    return uuid5(NAMESPACE, "party:" + party)


def price_stream(code: str, region: str | None) -> UUID:
    return uuid5(NAMESPACE, f"price:{code}|{region or ''}")


def flag_stream(flag_id: str) -> UUID:
    return uuid5(NAMESPACE, "flag:" + flag_id)


def disposition_digest(command_id: str, at: datetime, flag_id: str, disposition: str, comment: str) -> bytes:
    """The content digest of a disposition's transaction key (idempotency: same id, same content)."""
    record = {"type": DISPOSE_FLAG, "id": command_id, "at": at.isoformat(), "flag": flag_id,
              "disposition": disposition, "comment": comment}
    return hashlib.sha256(orjson.dumps(record, option=orjson.OPT_SORT_KEYS)).digest()


def attempt_stream(command_id: str) -> UUID:
    return uuid5(NAMESPACE, "attempt:" + command_id)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one command (SPEC §5 report line)."""

    command_id: str
    status: str
    reason: str | None = None
    detail: str | None = None


class TimeZoneMismatch(LedgerError):
    """A time zone was asked for that differs from the one the store was created with (usage, exit 2)."""


class UnknownFlag(LedgerError):
    """A disposition of a flag the ledger has not raised (nothing written; usage, exit 2)."""


class BatchFailed(LedgerError):
    """A batch could not be saved after several attempts (another writer kept winning)."""


class NotAllApplied(LedgerError):
    """An all-or-nothing batch in which some command would be blocked or conflict: nothing of it was
    written; `outcomes` says what each command would have been."""

    def __init__(self, outcomes: list[Outcome]) -> None:
        self.outcomes = outcomes
        refused = [o for o in outcomes if o.status not in (APPLIED, DUPLICATE)]
        super().__init__(f"{len(refused)} of {len(outcomes)} command(s) would not apply; nothing was written")


class BatchBusy(StoreFailure):
    """Other writers held what a batch needed past the wait (SPEC §5, exit 75); nothing of the batch
    was written (earlier batches of the same import were: the importer says how many)."""

    def __init__(self, store_url: str, wait_seconds: float, commands: int) -> None:
        self.wait_seconds = wait_seconds
        super().__init__(BUSY, store_url, f"busy: other writers held what a batch of {commands} command(s) needed "
                                          f"for more than --wait {wait_seconds:g} s; nothing of that batch was written")


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def with_actor(command: c.Command, actor: str) -> c.Command:
    """`dataclasses.replace(command, actor=actor)` for a frozen, slotted command, in half its time
    (no keyword arguments, no `__init__`: every field is copied as it is, then the actor set)."""
    if command.actor == actor:
        return command
    cls = type(command)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    copy = object.__new__(cls)
    for name in names:
        object.__setattr__(copy, name, getattr(command, name))
    object.__setattr__(copy, "actor", actor)
    return copy


def _back_off(attempt: int) -> None:
    """A short random pause before deciding again, so writers that lost a race do not collide in step."""
    time.sleep(random.uniform(0, min(0.2, 0.005 * 2 ** min(attempt, 10))))


class _Batch:
    """Hands eventsourcing the batch's events in command order (CollectEventsProtocol)."""

    def __init__(self, events: list[e.LedgerEvent]) -> None:
        self.id = NAMESPACE
        self._events = events

    def collect_events(self) -> list[e.LedgerEvent]:
        return self._events


class Ledger(Application):
    """tenge-ledger's eventsourcing application."""

    name = "Ledger"
    # a committed color is snapshotted once its stream grew by this many events (None: never)
    snapshot_interval: int | None = SNAPSHOT_EVENTS_MIN

    def __init__(self, store: str | StoreConfig = "memory://", *, batch_size: int = BATCH_SIZE_DEFAULT,
                 cipher_key: str | None = None, actor: str = "", sealed_ok: bool = False,
                 roles: Policy = EVERYONE, time_zone: str | None = None,
                 wait_seconds: int = WAIT_SECONDS_DEFAULT, lean: bool = True) -> None:
        """`cipher_key` (base64 AES key, `TENGE_LEDGER_KEY`) encrypts event payloads at rest;
        `actor` is who acts through this instance: checked against the roles policy and recorded
        on every event it writes ("" names nobody: allowed only while no policy is in force).
        `roles` is the bootstrap policy, in force only while the store has none recorded.
        `time_zone` (`+05:00`, `UTC+05:00`; default UTC+05:00) is the zone dates are judged in, for a
        new store; on an existing store it must be the store's own (else `TimeZoneMismatch`).
        `wait_seconds` (SPEC §5 `--wait`) is how long a write waits for what other writers hold
        (a color, the store's write lock) before giving up with `BatchBusy` (exit 75).
        `sealed_ok` opens an encrypted store without its key for what needs no key (checking the
        chain, tree and checkpoints): `sealed` is then True and nothing may be decoded or written.
        `lean` (the default) writes batches by the lean path (`save`, `ledger.store.lean`); False
        writes them through eventsourcing's `Application.save` and row-by-row inserts: the same rows."""
        assert 0 < batch_size <= 100_000
        self.store = store if isinstance(store, StoreConfig) else parse_store_url(store)
        self.batch_size = batch_size
        self.actor = check_actor(actor) if actor else ""
        self.bootstrap_roles = roles
        self._cache: dict[UUID, Aggregate] = {}
        self._snapshot_versions: dict[UUID, int] = {}  # color stream -> version of its latest snapshot seen
        # color stream -> (version, transaction id of the event at that version), as this process
        # committed it: what a snapshot taken when the color leaves the cache must name
        self._committed: dict[UUID, tuple[int, str]] = {}
        self._read_side: ReadSide | None = None
        self.encryption = Encryption(cipher_key) if cipher_key else None
        self.sealed_ok = sealed_ok
        self.sealed = False
        assert wait_seconds >= 1
        self.wait_seconds = wait_seconds
        waits = {"SQLITE_LOCK_TIMEOUT": str(wait_seconds), "POSTGRES_LOCK_TIMEOUT": str(wait_seconds)}
        env = {**self.store.env, **{name: value for name, value in waits.items() if name in self.store.env}}
        super().__init__(env={**env, **(self.encryption.env() if self.encryption else {})})
        self.lean = lean
        if hasattr(self.recorder, "lean"):
            self.recorder.lean = lean
        # the snapshot store: the events' mapper (transcoder, cipher) over the store's snapshots table
        self.snapshots = self.factory.event_store(mapper=self.mapper, recorder=self.recorder.snapshot_recorder())
        self._check_encryption()
        self._requested_zone = parse_time_zone(time_zone) if time_zone is not None else None
        self._time_zone: tzinfo = LEDGER_TIME_ZONE_DEFAULT
        self._time_zone_recorded = False
        self._load_time_zone()

    def _load_time_zone(self) -> None:
        """The store's zone (recorded, or the default for a store written before it was recorded)."""
        row = self.recorder.lookup_keys([TIME_ZONE_KEY]).get(TIME_ZONE_KEY)
        requested = self._requested_zone
        if row is not None:
            self._time_zone, self._time_zone_recorded = parse_time_zone(row[0].decode()), True
        elif self.position():
            self._time_zone = LEDGER_TIME_ZONE_DEFAULT
        else:
            self._time_zone = requested or LEDGER_TIME_ZONE_DEFAULT  # recorded with the first events
            return
        if requested is not None and requested.utcoffset(None) != self._time_zone.utcoffset(None):
            raise TimeZoneMismatch(
                f"this store's time zone is UTC{time_zone_text(self._time_zone)}, fixed when it was created; "
                f"--time-zone UTC{time_zone_text(requested)} cannot change it"
            )

    @property
    def time_zone(self) -> tzinfo:
        """The zone this ledger judges dates in (expiry, contract ends, fiscal years, day windows)."""
        return self._time_zone

    def time_zone_row(self) -> list[tuple[str, bytes, str]]:
        """The keys row recording the zone, for the batch that writes the store's first events."""
        return [] if self._time_zone_recorded else [(TIME_ZONE_KEY, time_zone_text(self._time_zone).encode(), "")]

    def _check_encryption(self) -> None:
        """Refuse a missing or wrong key (never decrypt into garbage); mark a new encrypted store."""
        marker = self.recorder.lookup_keys([CIPHER_MARKER]).get(CIPHER_MARKER)
        if marker is None and self.encryption is None:
            return
        if marker is None:
            assert self.encryption is not None
            if self.position():
                raise StoreError("this store was created without encryption; TENGE_LEDGER_KEY cannot be added to it")
            self.save(_Batch([]), keys=[(CIPHER_MARKER, self.encryption.check_value, "")])
        elif self.encryption is None:
            if self.sealed_ok:
                self.sealed = True
                return
            raise StoreError("this store is encrypted: set TENGE_LEDGER_KEY to its key")
        elif marker[0] != self.encryption.check_value:
            raise StoreError("TENGE_LEDGER_KEY is not the key of this store")

    def party_stream(self, party: str) -> UUID:
        """A party's stream id; keyed when encrypted, so it cannot be traced back to a BIN/IIN."""
        return self.encryption.stream_id("party:" + party) if self.encryption else party_stream(party)

    def stored_key(self, name: str) -> str:
        """The name under which a key is stored: hashed with the secret when encrypted (no plaintext ids)."""
        return self.encryption.hide(name) if self.encryption else name

    def read_side(self, rules: RulesConfig | None = None) -> ReadSide:
        """The projections beside this ledger's events (opened on first use).

        `rules` are the anomaly thresholds (default: RULES.md); flags computed under other
        thresholds are rebuilt.
        """
        if self._read_side is None:
            self._read_side = ReadSide(self, rules)
        else:
            assert rules is None or rules == self._read_side.flags_projection.config, "one rules config per ledger"
        return self._read_side

    # --- roles ------------------------------------------------------------------------------

    def roles_policy(self) -> RolesPolicy | None:
        """The policy recorded in the store (None if none is, or the store is sealed: encrypted
        and opened without its key, when the policy cannot be read)."""
        if self.sealed:
            return None
        aggregate = self._fresh(RolesPolicy, ROLES_STREAM)
        assert isinstance(aggregate, RolesPolicy)
        return aggregate if aggregate.actors is not None else None

    def policy(self) -> tuple[Policy, int]:
        """The policy in force and the roles stream's version it was read at (0: none recorded)."""
        recorded = self.roles_policy()
        if recorded is None:
            return self.bootstrap_roles, 0
        assert recorded.actors is not None
        source = f"the ledger's roles policy (recorded by {recorded.set_by or 'nobody named'} at {recorded.set_at})"
        return Policy(recorded.actors, source), recorded.version

    def authorize(self, *actions: str) -> int:
        """Raise `NotAllowed` unless the actor may do every action; the policy version checked."""
        policy, version = self.policy()
        for action in sorted(set(actions)):
            policy.check(self.actor, action)
        return version

    def set_roles(self, actors: Mapping[str, str], command_id: str, at: datetime) -> bool:
        """Record `actors` (name -> role) as the roles policy; False if it is the policy already.

        Needs the admin role under the policy in force (anyone while none is, as ever). A policy
        naming no admin is refused (`InvalidRoles`): nobody could ever change it again. Writes one
        `RolesPolicySet` event on the roles stream, with its actor, and the transaction's key.
        """
        assert not self.sealed, "an encrypted store opened without its key is read-only"
        assert at.tzinfo is not None, "business time has an offset"
        self.authorize(SET_ROLES)
        problem = policy_problem(actors)
        if problem is not None:
            raise InvalidRoles(f"the roles policy {problem}; nothing was written")
        current = self._fresh(RolesPolicy, ROLES_STREAM)
        assert isinstance(current, RolesPolicy)
        if current.actors == dict(actors):
            return False
        event = current.record(actors, command_id, at, self.actor)
        record = {"type": SET_ROLES, "id": command_id, "at": at.isoformat(), "actors": event.actors}
        digest = hashlib.sha256(orjson.dumps(record, option=orjson.OPT_SORT_KEYS)).digest()
        try:
            self.save(_Batch([event]), keys=[(self.stored_key("command:" + command_id), digest, str(ROLES_STREAM))])
        except IntegrityError as clash:
            raise BatchFailed(f"the roles policy changed meanwhile, or transaction {command_id} exists; "
                              "nothing was written: look again with `roles show`") from clash
        return True

    # --- case work on flags ----------------------------------------------------------------

    def flag_stream(self, flag_id: str) -> UUID:
        """A flag's case stream; keyed when encrypted (a flag id may name a party)."""
        return self.encryption.stream_id("flag:" + flag_id) if self.encryption else flag_stream(flag_id)

    def flag_case(self, flag_id: str) -> FlagCase:
        """A flag's case as recorded (no disposition yet: an empty history)."""
        case = self._fresh(FlagCase, self.flag_stream(flag_id))
        assert isinstance(case, FlagCase)
        return case

    def dispose_flag(self, flag_id: str, disposition: str, comment: str, command_id: str, at: datetime) -> Outcome:
        """Record an auditor's disposition of a flag (`domain.cases`): one `FlagDisposed` event
        with its actor on the flag's case stream, and its transaction key.

        Needs the `dispose_flag` action (the auditor role) under the policy in force. The flag must
        exist: stored, or raised by a window or deadline `at` has passed (`UnknownFlag` otherwise).
        The id is the idempotency key: the same id with the same content answers `duplicate`, with
        other content `conflict`; nothing is written then. Bad values raise `InvalidValue`.
        """
        assert not self.sealed, "an encrypted store opened without its key is read-only"
        assert at.tzinfo is not None, "business time has an offset"
        policy_version = self.authorize(DISPOSE_FLAG)
        parse_flag_id(flag_id)
        parse_disposition(disposition)
        parse_comment(comment)
        parse_command_id(command_id)
        digest = disposition_digest(command_id, at, flag_id, disposition, comment)
        key = "command:" + command_id
        previous = self.recorder.lookup_keys([self.stored_key(key)]).get(self.stored_key(key))
        if previous is not None:
            if previous[0] == digest:
                return Outcome(command_id, DUPLICATE)
            return Outcome(command_id, CONFLICT, "id_reused_with_different_content",
                           f"command id {command_id} was used before for different content")
        if self.read_side().flag(flag_id, at) is None:
            raise UnknownFlag(f"no flag {flag_id} (as of {at.isoformat()}); nothing was written")
        case = self.flag_case(flag_id)
        event = case.dispose(flag_id, disposition, comment, command_id, at, self.actor)
        try:
            self.save(_Batch([event]), keys=[(self.stored_key(key), digest, str(case.id))],
                      read_versions={ROLES_STREAM: policy_version})
        except IntegrityError as clash:
            raise BatchFailed(f"flag {flag_id} was disposed of meanwhile, the roles policy changed, or transaction "
                              f"{command_id} exists; nothing was written: look again") from clash
        return Outcome(command_id, APPLIED)

    def close(self) -> None:
        if self._read_side is not None:
            self._read_side.close()
            self._read_side = None
        super().close()

    def construct_transcoder(self) -> Transcoder:
        return MsgpackTranscoder()

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording]:
        """Record a batch's events (with the batch's keys and checks in `kwargs`) in one transaction.

        The lean path (issue 11): each event is encoded once by the application's mapper
        (transcoder, then cipher) and the stored events go straight to the recorder, which on
        SQLite writes them with `executemany` at explicit positions (`ledger.store.lean`).
        eventsourcing's `Application.save` does the same encoding, then wraps every stored event
        in a `Recording` that nothing here reads, and notifies no one; it still serves anything
        that is not one batch, and every batch when `lean` is off."""
        if not self.lean or len(objs) != 1 or not isinstance(objs[0], _Batch):
            return super().save(*objs, **kwargs)
        to_stored_event = self.mapper.to_stored_event
        self.recorder.insert_events([to_stored_event(event) for event in objs[0].collect_events()], **kwargs)
        return []

    # --- writing ----------------------------------------------------------------------------

    def execute(self, commands: Iterable[c.Command]) -> list[Outcome]:
        """Apply commands in order, batch by batch; one outcome per command.

        Every command's type is checked against the roles policy first: if the actor may not
        do one of them, `NotAllowed` is raised and nothing is written."""
        self._cache.clear()  # see others' writes since the last call
        commands = list(commands)
        self.authorize(*(command.TYPE for command in commands))
        outcomes: list[Outcome] = []
        batch: list[c.Command] = []
        for command in commands:
            batch.append(command)
            if len(batch) == self.batch_size:
                outcomes.extend(self.execute_batch(batch))
                batch = []
        if batch:
            outcomes.extend(self.execute_batch(batch))
        return outcomes

    def execute_batch(self, commands: Sequence[c.Command], all_or_nothing: bool = False) -> list[Outcome]:
        """Apply `commands` in one transaction: all of them, or none on failure (or on a refusal:
        `NotAllowed` when the roles policy does not let the actor do one of them). `all_or_nothing`:
        if any command would be blocked or conflict, write nothing (not even the blocked attempts)
        and raise `NotAllApplied` with the outcomes.

        Many writers (SPEC §5): the streams the batch will decide on are locked first (on
        PostgreSQL, advisory locks per color; see `LedgerPostgresRecorder.stream_locks`), so a
        writer that needs a color another writer holds waits its turn. A save that still finds a
        stream moved (one the batch could not foresee, or the SQLite store, where the store's one
        write lock orders writers) fails with `IntegrityError` and the batch is decided again, from
        fresh state, with the streams that attempt used locked as well, until `wait_seconds` have
        passed: then `BatchBusy` (exit 75), nothing of this batch written."""
        assert 0 < len(commands) <= 100_000
        assert not self.sealed, "an encrypted store opened without its key is read-only"
        if len(self._cache) >= CACHE_AGGREGATES_MAX:
            self._evict()  # between batches only: a batch's aggregates hold its unsaved events
        actions = {command.TYPE for command in commands}
        deadline = time.monotonic() + self.wait_seconds
        used: set[UUID] = set()  # streams earlier attempts decided on: locked too when deciding again
        for attempt in itertools.count():
            policy_version = self.authorize(*actions)
            run = _BatchRun(self, commands, policy_version, all_or_nothing)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BatchBusy(self.store.url, self.wait_seconds, len(commands))
            try:
                locked = sorted(run.streams_to_lock() | used)
                with self.recorder.stream_locks(locked, remaining):
                    self._forget_stale(locked)
                    self.prefetch(run.streams_to_prefetch())
                    outcomes = run.run()
                self._used_last(run.streams_used())
                return outcomes
            except IntegrityError:
                self._cache.clear()  # somebody else wrote: decide again from fresh state
                self._load_time_zone()  # ... maybe the store's first events, with its zone
                used |= run.streams_used()
                _back_off(attempt)
            except StreamsBusy as busy:
                self._cache.clear()
                raise BatchBusy(self.store.url, self.wait_seconds, len(commands)) from busy
            except BaseException as problem:
                self._cache.clear()  # cached aggregates may hold unsaved events
                failure = store_failure(problem, self.store.url) if isinstance(problem, Exception) else None
                if failure is not None and failure.kind == BUSY:
                    raise BatchBusy(self.store.url, self.wait_seconds, len(commands)) from problem
                raise
        raise AssertionError("unreachable")

    def _evict(self) -> None:
        """Drop the least recently used half of the cached aggregates (the cache is kept in order
        of last use: `_used_last`), with what is remembered of their snapshots. Clearing it whole
        made an import at scale (more active colors and parties than the cache holds) reload almost
        every stream it decided on. A dropped color whose stream grew by
        `EVICTION_SNAPSHOT_EVENTS_MIN` events since its last snapshot is snapshotted first, so
        that loading it again reads its state and not its history (at 10^7 events every color is
        active all year and is dropped and loaded again many times: without these snapshots each
        load replayed the color's whole stream, and import at scale spent 60 % of its time there)."""
        cache = self._cache
        due = []
        for stream in list(itertools.islice(cache, len(cache) - CACHE_AGGREGATES_MAX // 2)):
            aggregate = cache.pop(stream)
            since = self._snapshot_versions.pop(stream, 0)
            committed = self._committed.pop(stream, None)
            if (committed is not None and committed[0] == aggregate.version and isinstance(aggregate, Allocation)
                    and _worth_a_snapshot(aggregate, since, EVICTION_SNAPSHOT_EVENTS_MIN)):
                due.append(AllocationSnapshot.take(aggregate, committed[1]))
        self._put_snapshots(due)

    def _used_last(self, streams: Iterable[UUID]) -> None:
        """Move the streams a batch used to the end of the cache's order (most recently used)."""
        cache = self._cache
        for stream in streams:
            aggregate = cache.pop(stream, None)
            if aggregate is not None:
                cache[stream] = aggregate

    def _forget_stale(self, streams: Sequence[UUID]) -> None:
        """Drop the cached aggregates among `streams` that another writer moved since they were
        cached (one query of their versions): deciding on them would fail the save and cost a whole
        attempt. Called with the streams locked, so what is kept stays current until the save."""
        cached = [stream for stream in streams if stream in self._cache]
        if not cached:
            return
        versions = self.recorder.stream_versions(cached)
        for stream in cached:
            if versions.get(stream, 0) != self._cache[stream].version:
                del self._cache[stream]

    # --- reading ----------------------------------------------------------------------------

    def prefetch(self, wanted: Mapping[UUID, type[Aggregate]]) -> None:
        """Load into the cache the aggregates among `wanted` (stream -> class) it does not hold, as
        `load` would one by one, but in a few queries (issue: imports at scale reloaded almost every
        color, one or two read transactions each): the colors' latest snapshots, then every
        stream's events after them. A color whose snapshot cannot be trusted is loaded by `_fresh`
        (the whole stream replayed), so the aggregates are the ones `load` gives. A store without
        `select_for_load` (memory) loads nothing here: `load` does it as the batch decides."""
        select = getattr(self.recorder, "select_for_load", None)
        missing = [stream for stream in wanted if stream not in self._cache]
        if select is None or not missing:
            return
        found = select([stream for stream in missing if wanted[stream] is Allocation], missing)
        if found is None:
            return
        snapshots, events = found
        to_domain_event = self.mapper.to_domain_event
        for stream in missing:
            cls = wanted[stream]
            rows = events[stream]
            snapshot = snapshots.get(stream)
            if snapshot is not None:
                restored = self._restore(stream, snapshot, rows)
                self._cache[stream] = restored if restored is not None else self._fresh(cls, stream)
                continue
            if cls is Allocation:
                self._snapshot_versions[stream] = 0
            aggregate = cls(stream)
            for row in rows:
                aggregate.apply(to_domain_event(row))
            self._cache[stream] = aggregate

    def _restore(self, stream: UUID, stored: Any, rows: Sequence[Any]) -> Allocation | None:
        """`_from_snapshot` from rows already read: the stored snapshot and the stream's stored
        events from its version on."""
        to_domain_event = self.mapper.to_domain_event
        try:
            snapshot = to_domain_event(stored)
            assert isinstance(snapshot, AllocationSnapshot) and snapshot.originator_id == stream
            allocation = snapshot.restore()
            assert rows and rows[0].originator_version == snapshot.originator_version
            at_snapshot = to_domain_event(rows[0])
            assert at_snapshot.originator_version == snapshot.originator_version
            assert at_snapshot.command_id == snapshot.last_command_id, "the snapshot belongs to another history"
            for row in rows[1:]:
                allocation.apply(to_domain_event(row))
        except Exception:  # noqa: BLE001 - a bad snapshot is derived data: ignore it (verify reports it)
            return None
        self._snapshot_versions[stream] = snapshot.originator_version
        return allocation

    def load(self, cls: type[Aggregate], stream: UUID) -> Aggregate:
        """The aggregate's current state, from the batch cache or the store."""
        aggregate = self._cache.get(stream)
        if aggregate is None:
            aggregate = self._cache[stream] = self._fresh(cls, stream)
        assert isinstance(aggregate, cls), (type(aggregate), cls)
        return aggregate

    def loaded(self, stream: UUID) -> Aggregate | None:
        """The stream's aggregate as this ledger last loaded or changed it (after `execute_batch`:
        the state its commands left), or None if it is not cached."""
        return self._cache.get(stream)

    def allocation(self, color: str) -> Allocation | None:
        aggregate = self._fresh(Allocation, color_stream(color))
        assert isinstance(aggregate, Allocation)
        return aggregate if aggregate.allocated else None

    def party(self, party: str) -> Party | None:
        aggregate = self._fresh(Party, self.party_stream(party))
        return aggregate if aggregate.registered else None

    def colors(self) -> list[str]:
        """Every allocated color, in order (the read side's answer)."""
        return self.read_side().colors()

    def history(self, color: str) -> list[e.LedgerEvent]:
        return list(self.events.get(color_stream(color)))

    def position(self) -> int:
        return self.recorder.max_notification_id() or 0

    def _fresh(self, cls: type[Aggregate], stream: UUID) -> Aggregate:
        """The stream's state as stored: from the color's latest snapshot when a good one exists."""
        if cls is Allocation:
            restored = self._from_snapshot(stream)
            if restored is not None:
                return restored
            self._snapshot_versions[stream] = 0
        aggregate = cls(stream)
        for event in self.events.get(stream):
            aggregate.apply(event)
        return aggregate

    # --- snapshots ----------------------------------------------------------------------------

    def _from_snapshot(self, stream: UUID) -> Allocation | None:
        """The color from its latest snapshot plus the events after it; None when there is no
        snapshot or it cannot be trusted (unreadable, not this stream's history: its version's event
        is not the one it names, or the events after it do not apply), so the caller replays all."""
        try:
            found = list(self.snapshots.get(stream, desc=True, limit=1))
            if not found:
                return None
            [snapshot] = found
            assert isinstance(snapshot, AllocationSnapshot) and snapshot.originator_id == stream
            allocation = snapshot.restore()
            events = iter(self.events.get(stream, gt=snapshot.originator_version - 1))
            at_snapshot = next(events, None)
            assert at_snapshot is not None and at_snapshot.originator_version == snapshot.originator_version
            assert at_snapshot.command_id == snapshot.last_command_id, "the snapshot belongs to another history"
            for event in events:
                allocation.apply(event)
        except Exception:  # noqa: BLE001 - a bad snapshot is derived data: ignore it (verify reports it)
            return None
        self._snapshot_versions[stream] = snapshot.originator_version
        return allocation

    def _snapshot_after_commit(self, touched: Iterable[Aggregate], events: Sequence[e.LedgerEvent]) -> None:
        """Snapshot the committed colors whose streams grew enough since their last snapshot (by
        `snapshot_interval` events, or a quarter of the state's entries if more), all in one
        transaction after the batch's. Best effort: a failure (a read-only store, a full disk)
        loses nothing but speed."""
        interval = self.snapshot_interval
        if interval is None:
            return
        assert interval > 0
        last_command = {event.originator_id: event.command_id for event in events}
        if len(self._snapshot_versions) >= 2 * CACHE_AGGREGATES_MAX:  # loads outside batches (reads) add some
            self._snapshot_versions = {stream: version for stream, version in self._snapshot_versions.items()
                                       if stream in self._cache}
        if len(self._committed) >= 2 * CACHE_AGGREGATES_MAX:  # after a cleared cache
            self._committed = {stream: found for stream, found in self._committed.items() if stream in self._cache}
        due = []
        for aggregate in touched:
            if not isinstance(aggregate, Allocation) or not aggregate.allocated or aggregate.id not in last_command:
                continue
            self._committed[aggregate.id] = (aggregate.version, last_command[aggregate.id])
            if _worth_a_snapshot(aggregate, self._snapshot_versions.get(aggregate.id, 0), interval):
                due.append(AllocationSnapshot.take(aggregate, last_command[aggregate.id]))
        self._put_snapshots(due)

    def _put_snapshots(self, due: Sequence[AllocationSnapshot]) -> None:
        """Store `due` in one transaction, best effort: a failure (a read-only store, a full disk)
        loses nothing but speed."""
        if not due:
            return
        try:
            self.recorder.put_snapshots([self.mapper.to_stored_event(snapshot) for snapshot in due])
        except Exception:  # noqa: BLE001 - derived data: the next batch may try again
            return
        for snapshot in due:
            self._snapshot_versions[snapshot.originator_id] = snapshot.originator_version


def _worth_a_snapshot(allocation: Allocation, since_version: int, events_min: int) -> bool:
    """The stream grew by `events_min` events since its snapshot at `since_version` (0: none), and
    by a quarter of the state's entries if more: writing snapshots then costs a few entries' encoding
    per event."""
    grown = allocation.version - since_version
    return grown >= events_min and grown * SNAPSHOT_ENTRIES_PER_EVENT >= allocation.snapshot_entries()

# the command fields naming a party whose kind, status or registration a decision may read
_PARTY_FIELDS = ("treasury", "administrator", "customer", "supplier", "payer", "payee", "holder")


class _BatchRun:
    """One attempt at one batch: decide every command, then save once."""

    def __init__(self, ledger: Ledger, commands: Sequence[c.Command], policy_version: int,
                 all_or_nothing: bool = False) -> None:
        """`policy_version`: the roles stream's version the batch was authorized at; the save
        fails (and the batch is checked again) if the policy changed since. `all_or_nothing`: save
        nothing, and raise `NotAllApplied`, unless every command applies (or is a duplicate)."""
        self.ledger = ledger
        self.all_or_nothing = all_or_nothing
        self.commands = commands
        self.events: list[e.LedgerEvent] = []
        self.touched: dict[UUID, Aggregate] = {}
        self.keys: dict[str, tuple[bytes, str]] = {}  # new in this batch
        # streams decisions relied on without writing them
        self.read_versions: dict[UUID, int] = {ROLES_STREAM: policy_version}
        self.absent_keys: set[str] = set()  # names decisions found unknown
        self.time_zone = ledger.time_zone  # PartyDirectory: the zone decisions judge dates in
        self.blocked_here: dict[str, Outcome] = {}  # command id -> its blocked outcome, this batch
        self.blocked_by_stream: dict[str, dict[str, Outcome]] = {}  # stream -> its recorded blocked attempts
        self.parties: dict[str, Party] = {}  # party id -> its aggregate, as decisions read it (`_party`)
        wanted = sorted(self._keys_to_look_up())
        stored = {ledger.stored_key(name): name for name in wanted}
        self.known = {stored[key]: value for key, value in ledger.recorder.lookup_keys(list(stored)).items()}
        self._look_up_blocked()

    def _look_up_blocked(self) -> None:
        """The `blocked:` keys of the commands already recorded (re-submissions only: a fresh import
        pays nothing for them)."""
        seen = sorted({"blocked:" + c.id for c in self.commands if "command:" + c.id in self.known})
        if seen:
            stored = {self.ledger.stored_key(name): name for name in seen}
            found = self.ledger.recorder.lookup_keys(list(stored))
            self.known.update({stored[key]: value for key, value in found.items()})

    def _keys_to_look_up(self) -> set[str]:
        wanted: set[str] = set()
        for command in self.commands:
            wanted.add("command:" + command.id)
            if isinstance(command, (c.Release, c.Void)):
                wanted.add("reservation:" + command.reservation)
            contract = getattr(command, "contract", None)
            if contract:
                wanted.add("contract:" + contract)
        return wanted

    def streams_to_lock(self) -> set[UUID]:
        """The streams the batch's commands will be decided on, as far as can be told before deciding:
        each command's color (through its contract or reservation when already recorded), party or
        price. Streams only read on the way (another party's status) are checked at save instead."""
        streams: set[UUID] = set()
        for command in self.commands:
            if isinstance(command, (c.RegisterParty, c.UpdateParty)):
                streams.add(self.ledger.party_stream(command.party))
            elif isinstance(command, c.SetReferencePrice):
                streams.add(price_stream(command.code, command.region))
            elif isinstance(command, (c.AmendContract, c.Accept, c.Release, c.Void)):
                name = "contract:" + command.contract if isinstance(command, (c.AmendContract, c.Accept)) \
                    else "reservation:" + command.reservation
                known = self.known.get(name)
                if known is not None:
                    streams.add(UUID(known[1]))
            else:
                streams.add(color_stream(command.color))  # type: ignore[attr-defined]
        return streams

    def streams_to_prefetch(self) -> dict[UUID, type[Aggregate]]:
        """The aggregates the batch's new commands (not yet recorded) will most likely load, with
        their classes: each command's color, party or price (as `streams_to_lock`) and the parties
        it names (transfers, spends, contracts ask about them). A guess is only a cost: a stream
        the batch does not need is cached as stored; one it needs but was not guessed is loaded
        as it is met."""
        wanted: dict[UUID, type[Aggregate]] = {}
        party_stream = self.ledger.party_stream
        for command in self.commands:
            if "command:" + command.id in self.known:
                continue
            if isinstance(command, (c.RegisterParty, c.UpdateParty)):
                wanted[party_stream(command.party)] = Party
                continue
            if isinstance(command, c.SetReferencePrice):
                wanted[price_stream(command.code, command.region)] = ReferencePrice
                continue
            if isinstance(command, (c.AmendContract, c.Accept, c.Release, c.Void)):
                name = "contract:" + command.contract if isinstance(command, (c.AmendContract, c.Accept)) \
                    else "reservation:" + command.reservation
                known = self.known.get(name)
                if known is not None:
                    wanted[UUID(known[1])] = Allocation
            else:
                wanted[color_stream(command.color)] = Allocation  # type: ignore[attr-defined]
            for field in _PARTY_FIELDS:
                party = getattr(command, field, None)
                if isinstance(party, str) and party:
                    wanted[party_stream(party)] = Party
        return wanted

    def streams_used(self) -> set[UUID]:
        """Every stream this attempt decided on (written or read), the roles policy aside."""
        return (set(self.touched) | set(self.read_versions)) - {ROLES_STREAM}

    def run(self) -> list[Outcome]:
        actor = self.ledger.actor
        commands = [with_actor(command, actor) for command in self.commands] if actor else self.commands
        outcomes = [self._apply(command) for command in commands]
        if self.all_or_nothing and any(outcome.status not in (APPLIED, DUPLICATE) for outcome in outcomes):
            raise NotAllApplied(outcomes)  # the caller drops the cached aggregates holding these events
        if self.events:
            for aggregate in self.touched.values():
                aggregate.pending_events.clear()
            rows = [(self.ledger.stored_key(key), digest, stream) for key, (digest, stream) in self.keys.items()]
            rows += self.ledger.time_zone_row()
            read_only = {stream: version for stream, version in self.read_versions.items() if stream not in self.touched}
            absent = sorted(self.ledger.stored_key(name) for name in self.absent_keys if name not in self.keys)
            self.ledger.save(_Batch(self.events), keys=rows, read_versions=read_only, absent_keys=absent)
            self.ledger._time_zone_recorded = True
            self.ledger._snapshot_after_commit(self.touched.values(), self.events)
        assert len(outcomes) == len(self.commands)
        return outcomes

    def _key(self, key: str) -> tuple[bytes, str] | None:
        return self.keys.get(key) or self.known.get(key)

    def _key_or_absent(self, key: str) -> tuple[bytes, str] | None:
        """A name a decision relies on; if unknown, the save checks it is still unknown then."""
        found = self._key(key)
        if found is None:
            self.absent_keys.add(key)
        return found

    def _apply(self, command: c.Command) -> Outcome:
        digest = command_digest(command)
        previous = self._key("command:" + command.id)
        if previous is not None:
            if previous[0] == digest:
                blocked = self._key("blocked:" + command.id)
                return Outcome(command.id, DUPLICATE) if blocked is None else self._blocked_before(command.id, blocked[1])
            return Outcome(command.id, CONFLICT, "id_reused_with_different_content",
                           f"command id {command.id} was used before for different content")
        aggregate, decision = self._decide(command)
        if isinstance(decision, Rejection):
            event: e.LedgerEvent = aggregate.blocked(command, decision, command_to_record(command))
        else:
            event = decision
        aggregate.trigger(event)
        self.events.append(event)
        self.touched[aggregate.id] = aggregate
        self.keys["command:" + command.id] = (digest, str(aggregate.id))
        if isinstance(decision, Rejection):
            self.keys["blocked:" + command.id] = (b"", str(aggregate.id))
            outcome = self.blocked_here[command.id] = Outcome(command.id, BLOCKED, decision.reason, decision.detail)
            return outcome
        self._claim_names(command, aggregate)
        return Outcome(command.id, APPLIED)

    def _blocked_before(self, command_id: str, stream: str) -> Outcome:
        """The outcome a command blocked earlier had: its `CommandBlocked` event's rule and sentence."""
        if command_id in self.blocked_here:
            return self.blocked_here[command_id]
        attempts = self.blocked_by_stream.get(stream)
        if attempts is None:
            attempts = self.blocked_by_stream[stream] = {
                event.command_id: Outcome(event.command_id, BLOCKED, event.reason, event.detail)
                for event in self.ledger.events.get(UUID(stream)) if isinstance(event, e.CommandBlocked)
            }
        assert command_id in attempts, f"key blocked:{command_id} names a stream without its CommandBlocked event"
        return attempts[command_id]

    def _claim_names(self, command: c.Command, aggregate: Aggregate) -> None:
        stream = str(aggregate.id)
        if isinstance(command, c.SignContract):
            self.keys["contract:" + command.contract] = (b"", stream)
        elif isinstance(command, c.Allocate):
            self.keys["color:" + command.color] = (b"", stream)
        elif isinstance(command, c.Reserve):
            self.keys["reservation:" + command.id] = (b"", stream)
        elif isinstance(command, c.RegisterParty):
            self.keys["party:" + command.party] = (b"", stream)

    def _decide(self, command: c.Command) -> tuple[Aggregate, e.LedgerEvent | Rejection]:
        if isinstance(command, (c.RegisterParty, c.UpdateParty)):
            party = self.ledger.load(Party, self.ledger.party_stream(command.party))
            return party, party.decide(command)
        if isinstance(command, c.SetReferencePrice):
            price = self.ledger.load(ReferencePrice, price_stream(command.code, command.region))
            return price, price.decide(command)
        allocation = self._allocation_for(command)
        if isinstance(allocation, Rejection):
            return Attempt(attempt_stream(command.id)), allocation
        if isinstance(command, c.SignContract):
            taken = self._key("contract:" + command.contract)
            if taken is not None and taken[1] != str(allocation.id):
                return allocation, Rejection("contract_already_exists", f"contract {command.contract} exists under another color")
        return allocation, allocation.decide(command, self)

    def _allocation_for(self, command: c.Command) -> Allocation | Rejection:
        """The color a command acts on, found through its color, contract or reservation."""
        if isinstance(command, (c.AmendContract, c.Accept)):
            known = self._key_or_absent("contract:" + command.contract)
            if known is None:
                return Rejection("unknown_contract", f"no contract {command.contract}")
            stream = UUID(known[1])
        elif isinstance(command, (c.Release, c.Void)):
            known = self._key_or_absent("reservation:" + command.reservation)
            if known is None:
                return Rejection("unknown_reservation", f"no reservation {command.reservation}")
            stream = UUID(known[1])
        else:
            stream = color_stream(command.color)  # type: ignore[attr-defined]
        allocation = self.ledger.load(Allocation, stream)
        assert isinstance(allocation, Allocation)
        self.read_versions.setdefault(allocation.id, allocation.version)
        if not allocation.allocated and not isinstance(command, c.Allocate):
            return Rejection("unknown_color", f"color {getattr(command, 'color', '?')} was never allocated")
        return allocation

    # PartyDirectory for the allocation's decisions
    def _party(self, party: str) -> Party:
        """The party's aggregate, the one object the ledger's cache holds for the whole batch (a
        registration or update later in the batch changes it in place); its version at first
        read is what the save checks. Remembered by name: a transfer asks about each of its
        parties twice, and hashing the stream id again each time was 7 % of an import."""
        aggregate = self.parties.get(party)
        if aggregate is None:
            found = self.ledger.load(Party, self.ledger.party_stream(party))
            assert isinstance(found, Party)
            self.read_versions.setdefault(found.id, found.version)
            aggregate = self.parties[party] = found
        return aggregate

    def kind_and_status(self, party: str) -> tuple[str, str] | None:
        aggregate = self._party(party)
        return (aggregate.kind, aggregate.status) if aggregate.registered else None

    def registered_at(self, party: str) -> datetime | None:
        """The business time of the party's registration (SPEC §2.5), or None if unregistered."""
        aggregate = self._party(party)
        return aggregate.registered_at if aggregate.registered else None

def authorize_without_ledger(store: StoreConfig, actor: str, bootstrap: Policy, *actions: str,
                             cipher_key: str | None = None) -> None:
    """The roles check for a command that writes no store (keygen), without creating one.

    A store that does not exist yet (a missing SQLite file, `memory://`) has no policy recorded,
    so the bootstrap policy decides; otherwise the store's policy does, as for every command.
    """
    check_actor(actor)
    path = store.sqlite_path
    if store.kind == "memory" or (path is not None and not Path(path).exists()):
        for action in sorted(set(actions)):
            bootstrap.check(actor, action)
        return
    ledger = Ledger(store, cipher_key=cipher_key, actor=actor, sealed_ok=True, roles=bootstrap)
    try:
        ledger.authorize(*actions)
    finally:
        ledger.close()
