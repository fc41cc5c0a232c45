"""The auditors' read side: projections kept beside the events, and the questions they answer.

Every query first catches up (applies events recorded since the last query), unless a projection
worker (`tenge-ledger project --follow`, `ledger.worker`) is alive and close behind: then the query
waits, within a deadline, for the worker to reach the head it saw, and catches up itself only if
the worker does not get there. Answers are never older than the store the query started on. The SQL lives in the
projection that owns each table; this module asks those projections, never a table. Every question
is checked against the ledger's roles policy (`read`; `rebuild` for a rebuild) before it is answered.

`--as-of` takes a store position `@N` or a business time T (SPEC §2.5). `@N` answers with the
store's first N positions. A time T answers, color by color, with exactly the events dated at or
before T: the position `resolve_as_of` gives is the last one dated ≤ T (an upper bound), and
`balances`, `color_events` and `trace` also drop what is dated after T (another color's late event,
or a blocked attempt dated earlier than a movement recorded before it). Within a color, recorded
movements never go back in business time (`out_of_order_time`), so the movements dated ≤ T are a
prefix of the color's stream and its balances as of T are ones it really had.

With `TENGE_LEDGER_KEY` the projections seal every personal value they store (`projections.sealing`,
sub-keys of the ledger key); an encrypted store opened without its key has no read side at all.
"""

from __future__ import annotations

import re
import time as clock
from collections.abc import Callable, Sequence
from datetime import date, datetime, time
from typing import Any
from uuid import UUID

from domain import events as e
from domain.errors import InvalidValue, LedgerError, StoreError
from projections.balances import Balances, balances_as_of, balances_dated, colors_of_holder
from projections.base import Projection, ViewDatabase
from projections.dispositions import Dispositions, dispositions_as_of
from projections.flags import Flags, flags_between, stored_flag, stored_flags
from projections.rules.config import RulesConfig, default_config
from domain.cases import CLOSED, CONFIRMED, DISPOSITIONS, FALSE_POSITIVE, OPEN
from domain.roles import READ
from projections import index
from projections.index import LogIndex, party_names_as_of, utc_text
from projections.runner import OnProgress, ProjectionRunner
from projections.sealing import PLAIN, Sealer
from projections.trace import build_trace
from ledger.interchange import parse_business_time
from ledger.store.views import open_view_database


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# A worker is live when it beat within WORKER_STALE_MS (it beats about once a second, and after
# every chunk it applies); a query leaves the catch-up to a live worker only when the projections
# are at most WORKER_LAG_EVENTS behind the head, and waits for it at most WORKER_WAIT_S.
WORKER_STALE_MS = 5_000
WORKER_LAG_EVENTS = 20_000
WORKER_WAIT_S = 10.0
WORKER_POLL_S = 0.02  # between two looks at the worker's progress while waiting


def wall_clock_ms() -> int:
    return int(clock.time() * 1000)


class UnknownColor(LedgerError):
    """A well-formed color that was never allocated (as of the question's position)."""


def all_projections(rules: RulesConfig, sealer: Sealer = PLAIN) -> list[Projection]:
    return [LogIndex(sealer), Balances(sealer), Flags(rules, sealer), Dispositions(sealer)]


def sealer_of(ledger: Any) -> Sealer:
    """What the ledger's projections seal personal values with: sub-keys of its key, or nothing
    (also for stand-ins of a ledger that only offer its log)."""
    if getattr(ledger, "sealed", False):
        raise StoreError("this store is encrypted: set TENGE_LEDGER_KEY to its key to read it")
    encryption = getattr(ledger, "encryption", None)
    return encryption.sealer() if encryption is not None else PLAIN


class ReadSide:
    """Projections of one ledger and the queries over them."""

    def __init__(self, ledger: Any, rules: RulesConfig | None = None) -> None:
        self.ledger = ledger
        self.sealer = sealer_of(ledger)
        self.db = open_view_database(ledger.store)
        if self.sealer.keyed and self.db.kind == "sqlite":
            # rows a rebuild drops (plain ones written before the key sealed them) are zeroed, not
            # left readable in free pages of the file
            self.db.execute("PRAGMA secure_delete = ON")
        # the rules judge day windows and fiscal years in the store's own zone (SPEC §2.5)
        projections = all_projections((rules or default_config()).with_time_zone(ledger.time_zone), self.sealer)
        self.flags_projection = next(p for p in projections if isinstance(p, Flags))
        try:
            self.runner = ProjectionRunner(self.db, projections, self.read_log)
        except BaseException:
            self.db.close()  # busy (another process is rebuilding) or failed: nothing left open
            raise
        self.clock_ms: Callable[[], int] = wall_clock_ms
        self.caught_up_by = ""  # "", "current", "worker" or "self": who brought the last query up to date

    def read_log(self, after: int, limit: int) -> list[tuple[int, e.LedgerEvent]]:
        """The events after store position `after` (at most `limit`), as (position, event): the log the
        projections follow, for a runner of their own (`verify` rebuilds them into a scratch store)."""
        notifications = self.ledger.recorder.select_notifications(start=after + 1, limit=limit)
        to_event = self.ledger.mapper.to_domain_event
        return [(n.id, to_event(n)) for n in notifications]

    def fresh_runner(self, db: ViewDatabase) -> ProjectionRunner:
        """Fresh copies of this side's projections over another database `db`, following the same log:
        what `verify` rebuilds from the events to compare with the read models the store holds."""
        return ProjectionRunner(db, [projection.fresh() for projection in self.runner.projections.values()], self.read_log)

    def _authorize(self, action: str = READ) -> None:
        """Refuse (`ledger.roles.NotAllowed`) unless the ledger's actor may do `action`."""
        self.ledger.authorize(action)

    def catch_up(self, on_progress: OnProgress | None = None) -> int:
        """Bring the projections up to the store's current head (returned): by a live worker when
        one is close behind, else here; `on_progress` hears only this process's own catch-up."""
        self._authorize()
        last = self.ledger.position()
        reached = self.runner.reached()
        if reached >= last:
            self.caught_up_by = "current"
        elif last - reached <= WORKER_LAG_EVENTS and self.worker_alive() and self._wait_for_workers(last):
            self.caught_up_by = "worker"
        else:
            self.runner.catch_up(until=last, last_position=last, on_progress=on_progress)
            self.caught_up_by = "self"
        return last

    def worker_alive(self) -> bool:
        """Is some projection worker alive (beat within WORKER_STALE_MS)?"""
        return bool(self.runner.live_workers(self.clock_ms(), WORKER_STALE_MS))

    def _wait_for_workers(self, last: int) -> bool:
        """Wait (at most WORKER_WAIT_S) until the projections reach `last`; False if they did not,
        or the workers died meanwhile."""
        deadline = clock.monotonic() + WORKER_WAIT_S
        while clock.monotonic() < deadline:
            if self.runner.reached() >= last:
                return True
            if not self.worker_alive():
                return False
            clock.sleep(WORKER_POLL_S)
        return self.runner.reached() >= last

    def rebuild(self, names: Sequence[str] | None = None, on_progress: OnProgress | None = None) -> None:
        self._authorize("rebuild")
        self.runner.rebuild(names, on_progress=on_progress, last_position=self.ledger.position())

    # --- as-of ------------------------------------------------------------------------------

    def resolve_as_of(self, text: str | None, now: int) -> int:
        """The store position an `--as-of` value stands for (`now` when absent)."""
        self._authorize()
        if text is None:
            return now
        if text.startswith("@"):
            digits = text[1:]
            if not digits.isascii() or not digits.isdigit():
                raise InvalidValue(f"--as-of @N needs a store position like @1200, got {text!r}")
            return min(int(digits), now)
        moment = self.business_time(text)
        return index.position_at_time(self.db, utc_text(moment), now)

    def business_time(self, as_of: str | None) -> datetime | None:
        """The business time an `--as-of` value names, or None (absent, or a position `@N`).

        A bare date `YYYY-MM-DD` is the end of that day in the ledger's time zone (SPEC §2.5).
        """
        if as_of is None or as_of.startswith("@"):
            return None
        if _DATE.fullmatch(as_of):
            try:
                day = date.fromisoformat(as_of)
            except ValueError as problem:
                raise InvalidValue(f"--as-of {as_of!r} is not a calendar date") from problem
            return datetime.combine(day, time.max, tzinfo=self.ledger.time_zone)
        return parse_business_time(as_of)

    # --- questions --------------------------------------------------------------------------

    def balances(self, position: int | None, color: str | None = None, party: str | None = None,
                 as_of: str | None = None) -> list[tuple[str, str, int]]:
        """(color, holder, balance_tiyn) now, at `position`, or (`as_of` a time) from the events dated ≤ it."""
        self._authorize()
        moment = self.business_time(as_of)
        if moment is None:
            return balances_as_of(self.db, self.sealer, position, color, party)
        return balances_dated(self.db, self.sealer, utc_text(moment), position, color, party)

    def color_events(self, color: str, position: int, as_of: str | None = None) -> list[tuple[int, e.LedgerEvent]]:
        """The color's events recorded up to `position` (and dated ≤ `as_of` if it is a time), in order."""
        self._authorize()
        moment = self.business_time(as_of)
        events = self._color_events(color, position)
        if moment is None:
            return events
        dated = [(p, event) for p, event in events if event.at <= moment]
        if not any(isinstance(event, e.FundsAllocated) for _, event in dated):
            raise UnknownColor(f"color {color} was not allocated as of {as_of}")
        return dated

    def _color_events(self, color: str, position: int) -> list[tuple[int, e.LedgerEvent]]:
        stream = index.color_stream(self.db, color, position)
        if stream is None:
            raise UnknownColor(f"color {color} was never allocated")
        positions = index.stream_positions(self.db, stream, position)
        if not positions:
            return []
        last_version = positions[-1][0]
        assert len(positions) == last_version, "a stream's versions are consecutive"
        events = list(self.ledger.events.get(UUID(stream), lte=last_version))
        assert len(events) == last_version
        return [(p, ev) for (_, p), ev in zip(positions, events, strict=True)]

    def colors(self) -> list[str]:
        """Every allocated color, in order (caught up first)."""
        self.catch_up()
        return index.all_colors(self.db)

    def transaction_positions(self, transaction: str) -> list[int]:
        """The store positions of a transaction's events (caught up first), in order."""
        self.catch_up()
        return index.transaction_positions(self.db, self.sealer, transaction)

    def party_names(self, position: int | None = None) -> dict[str, str]:
        """Party names now, or as they were at `position`."""
        self._authorize()
        if position is None:
            return index.party_names_now(self.db, self.sealer)
        return party_names_as_of(self.db, self.sealer, position)

    def parties(self, position: int) -> dict[str, tuple[str, str, str | None]]:
        """(name, kind, region) of every party registered at or before `position`, its name as it was then."""
        self._authorize()
        names = party_names_as_of(self.db, self.sealer, position)
        kinds = index.party_kinds_as_of(self.db, self.sealer, position)
        assert kinds.keys() <= names.keys(), "every registered party has a name"
        return {party: (names[party], kind, region) for party, (kind, region) in sorted(kinds.items())}

    def trace(self, color: str, position: int, as_of: str | None) -> dict[str, Any]:
        events = [event for _, event in self.color_events(color, position, as_of)]
        return build_trace(events, self.party_names(position), as_of, position)

    def flags(self, position: int, now: int, as_of: str | None, wall_time: datetime | None = None) -> list[dict[str, Any]]:
        """Flag documents as of a position (`@N`) or a business time (windows evaluated at T); with
        no `as_of`, every stored flag, and those of windows and deadlines `wall_time` (the current
        time, which the face reads) has passed (SPEC §5)."""
        self._authorize()
        if as_of is None or as_of.startswith("@"):
            documents = stored_flags(self.db, self.sealer, position=None if position == now else position)
            if as_of is None and wall_time is not None:
                documents += [flag.document() for flag in self.flags_projection.pending_until(self.db, wall_time)]
            return documents
        moment = self.business_time(as_of)
        documents = stored_flags(self.db, self.sealer, at_utc=utc_text(moment))
        pending = self.flags_projection.pending_until(self.db, moment)
        return documents + [flag.document() for flag in pending]

    # --- case work on flags (`domain.cases`) ---------------------------------------------------

    def flag(self, flag_id: str, moment: datetime | None = None) -> dict[str, Any] | None:
        """One flag's document by id: stored, or (with `moment`) pending: raised by a window or
        deadline `moment` has passed. None when there is no such flag (caught up first)."""
        self.catch_up()
        found = stored_flag(self.db, self.sealer, flag_id)
        if found is None and moment is not None:
            found = next((flag.document() for flag in self.flags_projection.pending_until(self.db, moment)
                          if flag.flag_id == flag_id), None)
        return found

    def dispositions(self, position: int, now: int, as_of: str | None,
                     flag_id: str | None = None) -> list[dict[str, Any]]:
        """Dispositions recorded up to `position` (dated ≤ `as_of` if it is a time), in order."""
        self._authorize()
        moment = self.business_time(as_of)
        return dispositions_as_of(self.db, self.sealer, None if position == now else position,
                                  None if moment is None else utc_text(moment), flag_id)

    def with_status(self, documents: list[dict[str, Any]], position: int, now: int,
                    as_of: str | None) -> list[dict[str, Any]]:
        """The flag documents, each with its `status` (open, or its latest disposition) and that
        `disposition` ({disposition, comment, actor, at, transaction, position} or None), as of the
        same moment the flags were judged."""
        latest = {item["flag"]: item for item in self.dispositions(position, now, as_of)}
        result = []
        for document in documents:
            disposition = latest.get(document["id"])
            status = disposition["disposition"] if disposition else OPEN
            result.append({**document, "status": status,
                           "disposition": {k: v for k, v in disposition.items() if k not in ("flag", "rule")}
                           if disposition else None})
        return result

    def colors_allocated(self, position: int) -> list[dict[str, Any]]:
        """Every color allocated at or before `position`, with its allocation's facts, in color order."""
        self._authorize()
        return index.colors_allocated(self.db, self.sealer, position)

    def holder_colors(self, party: str, position: int) -> list[str]:
        """The colors `party` ever held a balance of, up to `position`."""
        self._authorize()
        return colors_of_holder(self.db, self.sealer, party, position)

    def flags_between(self, after: int, upto: int) -> list[tuple[int, dict[str, Any]]]:
        """(position, flag document) of the flags raised at positions in (after, upto]."""
        self._authorize()
        return flags_between(self.db, self.sealer, after, upto)

    def close(self) -> None:
        self.db.close()


def status_matches(document: dict[str, Any], wanted: str | None) -> bool:
    """Does a flag document (with its `status`) pass a `--status` filter (`closed`: any disposition)?"""
    if wanted is None:
        return True
    if wanted == CLOSED:
        return document["status"] in DISPOSITIONS
    return document["status"] == wanted


def precision_by_rule(documents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per rule, from flag documents with their status: how many were raised, open, confirmed,
    explained and false positives, and precision on real dispositions = confirmed / (confirmed +
    false_positive) as a decimal with four places, as `simulate --evaluate` prints its precision
    ("0.7500"; None when neither was recorded)."""
    rules: dict[str, dict[str, Any]] = {}
    for document in documents:
        entry = rules.setdefault(document["rule"], {"rule": document["rule"], "raised": 0, OPEN: 0,
                                                     **{name: 0 for name in DISPOSITIONS}})
        entry["raised"] += 1
        entry[document["status"]] += 1
    for entry in rules.values():
        judged = entry[CONFIRMED] + entry[FALSE_POSITIVE]
        entry["precision"] = _four_places(entry[CONFIRMED], judged) if judged else None
    return dict(sorted(rules.items()))



def _four_places(numerator: int, denominator: int) -> str:
    """numerator / denominator as a decimal with four places, rounded half up ("0.6667")."""
    assert 0 <= numerator <= denominator and denominator > 0
    rounded = (numerator * 20_000 + denominator) // (2 * denominator)
    return f"{rounded // 10_000}.{rounded % 10_000:04d}"
