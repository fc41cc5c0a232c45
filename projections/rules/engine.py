"""The rule engine: feeds events to the anomaly rules of RULES.md, in log order, incrementally.

Each rule is a small class (`Rule`, one module per rule, see `registry`) with its code, title,
pilots, the event types it reads, its thresholds (`limits(pilot)`), and its own state in plain
containers and registered NamedTuples. The engine keeps a shared `World` (parties, colors,
contracts, prices) and a business clock: rules may *schedule* a deadline ("no acceptance within 90
days"), and a deadline closes when an event whose business time is past it arrives. The engine
never reads the wall clock: `flags` judged as of a time T (`--as-of T`, or the current time the
face reads when no `--as-of` is given) closes the deadlines up to T on a copy
(`close_windows_until`). Where a rule turns an instant into a date it uses the ledger's time zone
(`Rule.time_zone`, from the configuration; SPEC §2.5).

For each event, in order: deadlines strictly before the event's time fire (oldest first); the world
learns the event; state whose window the event's color has closed expires (below); every rule
reading that event type (and covering its pilot) sees it.

Closed windows expire (issue 11: rule state must not grow with history). A rule that keeps a key
only for a window — a lot's recent hops (F04), a payer's same-amount payments (F09) — registers the
key with `ctx.expire(rule, color, moment, key)`: after `moment` the key can no longer change any
flag. Within one color business time never goes back (SPEC §2.5, `out_of_order_time`), so once an
event of that *color* is later than `moment`, every future event that could read the key is too:
the engine then calls `rule.on_expire(ctx, key)`, which deletes the key if (and only if) it is
still expired — so results are the same with and without expiry, only the state is smaller. The
pending expiries live in the keyed state too (per color and UTC day), so they are saved, restored
and bounded like the rest.

Everything is deterministic: the same events give the same flags, in the same order, with the same
ids (`rule:key`), whether processed in one run or in chunks with the state saved and restored in
between. That is what makes incremental flags equal rebuilt flags.
"""

from __future__ import annotations

import bisect
import heapq
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Protocol, TypeVar

import msgpack

from domain import events as e
from domain.identifiers import PILOTS
from projections.rules.state import ABSENT, Backing, KeyedState, LazySection
from projections.rules.world import World

if TYPE_CHECKING:
    from projections.rules.config import RulesConfig

ABSENT_VALUE = ABSENT  # a deleted key, in `KeyedState.changes`
SEVERITIES = ("low", "medium", "high")
# The shape of saved engine state: a store whose saved state has another version replays the log.
STATE_VERSION = 3  # 3: keyed sections (`projections.rules.state`), saved per key

_RECORDS: dict[str, type[Any]] = {}
Record = TypeVar("Record", bound=type[NamedTuple])  # type: ignore[valid-type]


def state_record(cls: Record) -> Record:
    """Register a NamedTuple that rules keep in their state, so it is saved and restored as itself."""
    assert issubclass(cls, tuple) and hasattr(cls, "_fields"), cls
    name = f"{cls.__module__.rsplit('.', 1)[-1]}.{cls.__name__}"
    assert _RECORDS.get(name, cls) is cls, name
    _RECORDS[name] = cls
    return cls


@dataclass(frozen=True)
class Flag:
    """One anomaly flag (SPEC §6.2)."""

    flag_id: str
    rule: str
    title: str
    severity: str
    pilot: str | None
    color: str | None
    transactions: tuple[str, ...]
    parties: tuple[str, ...]
    contracts: tuple[str, ...]
    at: str  # RFC 3339, business time of what raised it
    explanation: str
    evidence: dict[str, Any]
    position: int

    def __post_init__(self) -> None:
        assert self.severity in SEVERITIES, self.severity
        assert self.explanation and self.flag_id.startswith(self.rule + ":")

    def document(self) -> dict[str, Any]:
        return {
            "rule": self.rule, "title": self.title, "severity": self.severity, "pilot": self.pilot,
            "color": self.color, "transactions": list(self.transactions), "parties": list(self.parties),
            "contracts": list(self.contracts), "at": self.at, "explanation": self.explanation,
            "evidence": self.evidence, "id": self.flag_id, "position": self.position,
        }


class Rule:
    """Base of every rule. Subclasses set the class attributes and implement `on_event`.

    Determinism is what makes incremental flags equal rebuilt flags, so a rule:
    - keeps all its memory in `self.state`: named sections (`self.state.setdefault("lots", {})`
      gives the rule's section "lots", a `LazySection`), each used key by key and never iterated
      whole — a section lives in the store and only the keys an event touches are loaded and
      saved; values are plain containers (dict, list, tuple, set, str, int,
      bool, None) and NamedTuples registered with `@state_record`: times as ISO strings, ratios as
      integers or strings — it is saved and restored between chunks;
    - never lets the iteration order of a set reach its output (sort first);
    - names each flag with a key unique to what it is about (`ctx.flag(self, key, ...)`; a key
      raises once);
    - compares money exactly (integer tiyn, `Fraction` for ratios), never with floats.
    """

    code: ClassVar[str] = ""
    title: ClassVar[str] = ""
    definition: ClassVar[str] = ""  # RULES.md's definition, word for word
    thresholds: ClassVar[type] = type(None)  # the module's frozen `Thresholds` dataclass
    severity: ClassVar[str] = "medium"
    pilots: ClassVar[frozenset[str]] = frozenset(PILOTS)
    reads: ClassVar[tuple[type[e.LedgerEvent], ...]] = ()

    def __init__(self, config: RulesConfig) -> None:
        assert self.code and self.title and self.reads, type(self).__name__
        self.config = config
        self.state: Any = RuleState(KeyedState(), self.code)  # the engine hands it its own

    def on_event(self, ctx: RuleContext, event: Any) -> None:
        raise NotImplementedError

    def on_deadline(self, ctx: RuleContext, key: str, payload: Any) -> None:
        raise AssertionError(f"{self.code} scheduled a deadline but does not handle it")

    def on_expire(self, ctx: RuleContext, key: Any) -> None:
        """`ctx.at` is past the moment `key` was registered to expire at (`RuleContext.expire`) on
        its color: delete the key's state if no event at or after `ctx.at` can read it any more."""
        raise AssertionError(f"{self.code} registered an expiry but does not handle it")

    def limits(self, pilot: str) -> Any:
        """This rule's `Thresholds` for `pilot` (kept per rule: asked for on every event)."""
        cache = self.__dict__.setdefault("_thresholds_by_pilot", {})
        found = cache.get(pilot)
        if found is None:
            found = cache[pilot] = self.config.limits(self.code, pilot)
        return found

    def text(self, pilot: str, name: str) -> str:
        """A threshold as written (RULES.md or the threshold file), for evidence: "0.30"."""
        return self.config.text(self.code, pilot, name)

    @property
    def time_zone(self) -> timezone:
        """The ledger's time zone: where an instant becomes a date (SPEC §2.5)."""
        return self.config.time_zone


class RuleState(dict):  # type: ignore[type-arg]
    """A rule's sections of the engine's keyed state: `state.setdefault(name, {})`, `state.get(name,
    {})` and `state[name]` all give the section `name` (created on first use; the default is
    ignored, a section being a mapping and a set at once). A dict of the sections made so far
    (its lookups are the hot path of every rule)."""

    __slots__ = ("keyed", "scope")

    def __init__(self, keyed: KeyedState, scope: str) -> None:
        super().__init__()
        self.keyed = keyed
        self.scope = scope

    def __missing__(self, name: str) -> LazySection:
        found = self[name] = self.keyed.section(f"{self.scope}.{name}")
        return found

    def get(self, name: str, default: Any = None) -> LazySection:  # type: ignore[override]
        return self[name]

    def setdefault(self, name: str, default: Any = None) -> LazySection:  # type: ignore[override]
        return self[name]


@dataclass
class RuleContext:
    """What a rule sees while handling one event or deadline, and how it raises flags."""

    engine: RuleEngine
    position: int
    at: datetime
    pilot: str | None
    flags: list[Flag] = field(default_factory=list)

    @property
    def world(self) -> World:
        return self.engine.world

    def flag(self, rule: Rule, key: str, *, explanation: str, color: str | None = None,
             transactions: tuple[str, ...] | list[str] = (), parties: tuple[str, ...] | list[str] = (),
             contracts: tuple[str, ...] | list[str] = (), evidence: dict[str, Any] | None = None,
             severity: str | None = None, pilot: str | None = None, at: datetime | None = None) -> None:
        """Raise `rule`'s flag named `key`, once: the same key never raises twice."""
        flag_id = f"{rule.code}:{key}"
        if flag_id in self.engine.raised:
            return
        self.engine.raised.add(flag_id)
        moment = at or self.at
        self.flags.append(Flag(
            flag_id=flag_id, rule=rule.code, title=rule.title, severity=severity or rule.severity,
            pilot=pilot or self.pilot or self.world.pilot_of(color), color=color,
            transactions=tuple(dict.fromkeys(transactions)), parties=tuple(dict.fromkeys(parties)),
            contracts=tuple(dict.fromkeys(contracts)), at=moment.isoformat(), explanation=explanation,
            evidence=evidence or {}, position=self.position,
        ))

    def schedule(self, rule: Rule, deadline: datetime, key: str, payload: Any = None) -> None:
        """Call `rule.on_deadline(key, payload)` once business time passes `deadline`."""
        self.engine.schedule(rule, deadline, key, payload)

    def expire(self, rule: Rule, color: str, moment: datetime, key: Any) -> None:
        """Call `rule.on_expire(key)` at the first event of `color` later than `moment` (see the
        module docstring); nothing is raised by an expiry, so it never changes a flag."""
        self.engine.expire_later(rule, color, moment, key)


class RuleEngine:
    """Runs the rules over events; its whole state can be saved (`dump`) and restored (`load`)."""

    def __init__(self, config: RulesConfig, rules: list[Rule], backing: Backing | None = None, complete: bool = True) -> None:
        """`backing`: where state not in memory is read from (None: all state is in memory);
        `complete`: nothing is stored there yet (a new engine at the start of the log)."""
        codes = [rule.code for rule in rules]
        assert len(set(codes)) == len(codes), codes
        self.config = config
        self.rules = rules
        self.keyed = KeyedState(backing, complete)
        self.world = World(self.keyed)
        self.raised = self.keyed.section("engine.raised")  # flag ids raised (a set)
        # pending expiries: (color, UTC day) -> [[rule code, key], ...]; color -> sorted pending days
        self.expiries = self.keyed.section("engine.expiry")
        self.expiry_days = self.keyed.section("engine.expiry_days")
        for rule in rules:
            rule.state = RuleState(self.keyed, rule.code)
        self.deadlines: list[Deadline] = []  # heap of open windows: (utc µs, seq, code, key, payload, iso)
        # With a `DeadlineSource` (`load_deadlines_from`), only the windows up to `horizon` ((utc µs,
        # seq)) are in the heap; later ones are in the source (saved) or in `far` (not saved yet),
        # and are loaded as the clock reaches them. None: every open window is in the heap.
        self.horizon: tuple[int, int] | None = None
        self.source: DeadlineSource | None = None
        self.far: dict[int, Deadline] = {}
        self.sequence = 0
        self.scheduled: dict[int, Deadline] = {}  # since the last save, by seq
        self.fired: set[int] = set()  # seqs fired since the last save
        self._by_type: dict[type, list[Rule]] = {}
        for rule in rules:
            for event_type in rule.reads:
                self._by_type.setdefault(event_type, []).append(rule)
        self._by_code = {rule.code: rule for rule in rules}

    def schedule(self, rule: Rule, deadline: datetime, key: str, payload: Any) -> None:
        self.sequence += 1
        item = (_utc(deadline), self.sequence, rule.code, key, payload, deadline.isoformat())
        if self.horizon is None or item[:2] <= self.horizon:
            heapq.heappush(self.deadlines, item)
        else:
            self.far[self.sequence] = item
        self.scheduled[self.sequence] = item

    def load_deadlines_from(self, source: DeadlineSource) -> None:
        """Keep in memory only the open windows due within `DEADLINES_AHEAD_US` of the clock (and
        at most `DEADLINES_LOADED_AT_ONCE` at a time): the rest stay in `source` until the clock
        nears them (issue 11: windows held until a color expires grew the heap with history)."""
        assert not self.deadlines and not self.scheduled, "set the source before any window opens"
        self.source, self.horizon = source, (-(1 << 62), 0)

    def _load_deadlines(self, until_utc: int) -> None:
        """With an empty heap, load the next windows due by `until_utc` (and up to
        `DEADLINES_AHEAD_US` later): every window outside the heap is later than `horizon`, every
        one in it no later, so the heap's first is the earliest open window there is."""
        horizon = self.horizon
        if horizon is None or self.deadlines or horizon >= (until_utc, _SEQ_MAX):
            return
        upto = until_utc + DEADLINES_AHEAD_US
        loaded = self.source.load(horizon, upto, DEADLINES_LOADED_AT_ONCE) if self.source is not None else []
        assert all(item[:2] > horizon and item[0] <= upto for item in loaded), "the source returned windows out of range"
        horizon = loaded[-1][:2] if len(loaded) == DEADLINES_LOADED_AT_ONCE else (upto, _SEQ_MAX)
        reached = [seq for seq, item in self.far.items() if item[:2] <= horizon]
        self.deadlines = [tuple(item) for item in loaded] + [self.far.pop(seq) for seq in reached]  # type: ignore[misc]
        heapq.heapify(self.deadlines)
        self.horizon = horizon

    def expire_later(self, rule: Rule, color: str, moment: datetime, key: Any) -> None:
        if not EXPIRE_CLOSED_WINDOWS:
            return
        day = _utc(moment) // _DAY_US
        bucket = self.expiries.get((color, day))
        if bucket is None:
            self.expiries[(color, day)] = bucket = []
            days = self.expiry_days.get(color)
            if days is None:
                self.expiry_days[color] = days = []
            bisect.insort(days, day)
        bucket.append((rule.code, key))

    def _expire(self, ctx: RuleContext, color: str, now_utc: int) -> None:
        """Expire what `color` registered for UTC days wholly before `now_utc`."""
        days = self.expiry_days.peek(color)
        if not days or (days[0] + 1) * _DAY_US > now_utc:
            return
        days = self.expiry_days[color]  # marked changed
        while days and (days[0] + 1) * _DAY_US <= now_utc:
            for code, key in self.expiries.pop((color, days.pop(0)), ()):
                self._by_code[code].on_expire(ctx, key)
        if not days:
            del self.expiry_days[color]

    def process(self, position: int, event: e.LedgerEvent) -> list[Flag]:
        """The flags raised by one event (including deadlines it passes)."""
        at_utc = _utc(event.at)
        flags = self._fire_deadlines(position, at_utc, strictly_before=True)
        self.world.apply(event)
        color = getattr(event, "color", None)
        pilot = getattr(event, "pilot", None) or self.world.pilot_of(color)
        ctx = RuleContext(self, position, event.at, pilot)
        if color is not None and not isinstance(event, e.CommandBlocked):
            self._expire(ctx, color, at_utc)
        for rule in self._by_type.get(type(event), ()):
            if pilot is None or pilot in rule.pilots:
                rule.on_event(ctx, event)
        return flags + ctx.flags

    def close_windows_until(self, moment: datetime, position: int) -> list[Flag]:
        """Fire every deadline at or before `moment` (for `flags --as-of T`; use on a copy).

        A copy (`fork`) may fire every open deadline of the store (flags as of now, after the
        year): every `FORK_SPILL_EVERY` deadlines it moves the keys it changed out of memory, packed
        (about a quarter of their size as objects), and forgets the rest, so memory holds what the
        deadlines changed rather than everything they read (issue 11: +160 MB at 3·10^5 events)."""
        backing = self.keyed.backing
        until_utc = _utc(moment)
        flags: list[Flag] = []
        while True:
            flags += self._fire_deadlines(position, until_utc, strictly_before=False, at_most=FORK_SPILL_EVERY)
            self._load_deadlines(until_utc)
            if not self.deadlines or self.deadlines[0][0] > until_utc:
                return flags
            if isinstance(backing, _ForkBacking):
                backing.spill(self.keyed)

    def _fire_deadlines(self, position: int, until_utc: int, *, strictly_before: bool, at_most: int | None = None) -> list[Flag]:
        flags: list[Flag] = []
        fired = 0
        self._load_deadlines(until_utc)
        while self.deadlines and (self.deadlines[0][0] < until_utc or (not strictly_before and self.deadlines[0][0] == until_utc)):
            if at_most is not None and fired == at_most:
                break
            fired += 1
            _, seq, code, key, payload, iso = heapq.heappop(self.deadlines)
            if not self.deadlines:
                self._load_deadlines(until_utc)
            if self.scheduled.pop(seq, None) is None:
                self.fired.add(seq)  # saved before: delete it at the next save
            rule = self._by_code[code]
            moment = datetime.fromisoformat(iso)
            ctx = RuleContext(self, position, moment, None)
            rule.on_deadline(ctx, key, payload)
            flags += ctx.flags
        return flags

    # --- saving and restoring ---------------------------------------------------------------

    def restore_deadlines(self, deadlines: list[Deadline], sequence: int) -> None:
        """The open windows and the deadline counter, as saved (see `deadline_changes`)."""
        self.deadlines = [tuple(item) for item in deadlines]  # type: ignore[misc]
        heapq.heapify(self.deadlines)
        self.sequence = sequence
        self.scheduled, self.fired = {}, set()

    def deadline_changes(self) -> tuple[list[Deadline], list[int]]:
        """Windows opened since the last save and still open; saved windows closed since."""
        return [self.scheduled[seq] for seq in sorted(self.scheduled)], sorted(self.fired)

    def saved(self) -> None:
        """Everything changed is written: start counting changes afresh (windows beyond the
        horizon are in the source now)."""
        self.keyed.saved()
        self.scheduled, self.fired = {}, set()
        if self.source is not None:
            self.far = {}

    def fork(self) -> RuleEngine:
        """A throwaway copy reading this engine's state on demand (for `close_windows_until`):
        what the copy changes never reaches this engine or the store."""
        copy = RuleEngine(self.config, [type(rule)(self.config) for rule in self.rules], _ForkBacking(self.keyed), complete=False)
        # the heap is copied, its entries shared: they are tuples, and rules only read payloads;
        # windows beyond the horizon come from the same source, or from this engine's unsaved ones
        copy.restore_deadlines(list(self.deadlines), self.sequence)
        copy.horizon, copy.source, copy.far = self.horizon, self.source, dict(self.far)
        return copy

    def dump(self) -> bytes:
        """The whole state of an engine that holds it all in memory (no backing store)."""
        state = {"version": STATE_VERSION, "sections": self.keyed.dump(), "deadlines": self.deadlines, "sequence": self.sequence}
        return pack(state)

    def load(self, blob: bytes) -> None:
        state = unpack(blob)
        assert state.get("version") == STATE_VERSION, "saved rule state of another version: replay the log instead"
        self.keyed.load(state["sections"])
        self.restore_deadlines(state["deadlines"], state["sequence"])


Deadline = tuple[int, int, str, str, Any, str]
DEADLINES_AHEAD_US = 7 * 86_400_000_000  # how far past the clock windows are loaded (one query a business week)
DEADLINES_LOADED_AT_ONCE = 5_000
_SEQ_MAX = 1 << 62


class DeadlineSource(Protocol):
    """Where saved windows wait until the clock nears them (the flags projection's table)."""

    def load(self, after: tuple[int, int], upto_utc: int, limit: int) -> list[Deadline]:
        """Up to `limit` saved windows with (utc, seq) after `after` and utc ≤ `upto_utc`, in (utc, seq) order."""


class _ForkBacking:
    """Reads another engine's state, copying each value so the fork may mutate it freely; keys the
    parent does not hold are read from the parent's backing without being kept in the parent.
    What the fork changed and moved out of memory (`spill`) is read back from `spilled`."""

    def __init__(self, parent: KeyedState) -> None:
        self.parent = parent
        self.spilled: dict[tuple[str, Any], bytes | None] = {}  # (section, key) -> packed value, None: deleted

    def fetch(self, section: str, key: Any) -> Any:
        packed = self.spilled.get((section, key), _NOT_SPILLED)
        if packed is not _NOT_SPILLED:
            return ABSENT if packed is None else unpack(packed)
        value = self.parent.section(section).peek_uncached(key)
        return ABSENT if value is ABSENT else _copied(value)

    def spill(self, keyed: KeyedState) -> None:
        """Pack the fork's changed keys into `spilled` and empty its cache."""
        for name, section in keyed.sections.items():
            cache = section.cache
            for key in section.dirty:
                value = cache[key]
                self.spilled[(name, key)] = None if value is ABSENT else pack(value)
            section.dirty.clear()
            cache.clear()


_NOT_SPILLED: Any = object()
FORK_SPILL_EVERY = 2_000  # deadlines a fork fires between spills


def pack(value: Any) -> bytes:
    """Rule state as bytes (plain containers and registered NamedTuples, exactly)."""
    return msgpack.packb(value, default=_pack_default, strict_types=True, use_bin_type=True)


def unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, ext_hook=_unpack_ext, strict_map_key=False, raw=False)


def _copied(value: Any) -> Any:
    return unpack(pack(value))


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)
_DAY_US = 86_400_000_000
EXPIRE_CLOSED_WINDOWS = True  # False only to show (tests) that expiry changes no flag


def _utc(moment: datetime) -> int:
    """A business time as whole microseconds since the epoch (exact, cheap to compare and store)."""
    return (moment - _EPOCH) // _MICROSECOND


_EXT_SET, _EXT_TUPLE, _EXT_RECORD = 10, 11, 12


def _pack_default(obj: Any) -> msgpack.ExtType:
    if isinstance(obj, tuple) and hasattr(type(obj), "_fields"):
        name = f"{type(obj).__module__.rsplit('.', 1)[-1]}.{type(obj).__name__}"
        assert _RECORDS.get(name) is type(obj), f"rule state record {name} is not registered with @state_record"
        return msgpack.ExtType(_EXT_RECORD, msgpack.packb([name, list(obj)], default=_pack_default, strict_types=True, use_bin_type=True))
    if isinstance(obj, (set, frozenset)):
        return msgpack.ExtType(_EXT_SET, msgpack.packb(sorted(obj, key=repr), default=_pack_default, strict_types=True, use_bin_type=True))
    if isinstance(obj, tuple):
        return msgpack.ExtType(_EXT_TUPLE, msgpack.packb(list(obj), default=_pack_default, strict_types=True, use_bin_type=True))
    raise TypeError(f"rule state may hold only plain containers, not {type(obj).__name__}")


def _unpack_ext(code: int, data: bytes) -> Any:
    items = msgpack.unpackb(data, ext_hook=_unpack_ext, strict_map_key=False, raw=False)
    if code == _EXT_SET:
        return set(items)
    if code == _EXT_TUPLE:
        return tuple(items)
    if code == _EXT_RECORD:
        name, fields = items
        return _RECORDS[name](*fields)
    raise ValueError(f"unknown rule-state extension {code}")
