"""F04 — Circular flow (RULES.md; pilots: all).

RULES.md: colored money comes back, within ≤ 4 hops and ≤ 90 days, to a party that already held it
in the same chain, or is spent to a payee that is an official of the paying administrator or
owned/directed by one; returned amount ≥ 2 % of the first hop

How this module reads it:
The first hop is the payment by which the party that gets the money back passed it on (for a spend:
the administrator's payment that started the chain, or the spend itself when the administrator
spends directly); hops and days run from that payment to the one closing the loop, both counted. A
reservation is a hop when it is released (by the reservation's id, at the release's time); a void
gives the money back to its payer unchanged. One flag per closing transaction and first hop.
- business time is the event's own `at`; windows are inclusive (`≤ 72 h`, `≤ 30 days`, …);
- "lot provenance" is the `consumed` list of an outgoing movement: (lot, tiyn) pairs naming the
  incoming transfer, release, void or allocation each tiyn came from;
- ratios are compared exactly (integer tiyn against `Fraction` thresholds), never with floats.

Source: FFIEC app. F, FATF.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from typing import Any, NamedTuple

from domain import events as e
from projections.rules.common import at_least, time_of
from projections.rules.engine import Rule, RuleContext, state_record
from projections.rules.thresholds import fraction, whole
from projections.rules.wording import decimal_text, duration_days, kzt, named, percent


@state_record
class Hop(NamedTuple):
    """One payment the money took."""

    transaction: str
    payer: str
    payee: str
    at: str  # ISO business time
    amount_tiyn: int
    contract: str | None


@state_record
class Portion(NamedTuple):
    """Part of a lot with one provenance: the last hops that carried that money (at most
    hops_max − 1 of them, none older than the window), oldest first. A lot is a list of portions;
    outgoing movements take them first-in first-out, like the ledger takes lots."""

    amount_tiyn: int
    route: tuple[Hop, ...]


@dataclass
class Loop:
    """Money found coming back (transient, never saved): how much, its first hop, the hops on the
    way by transaction, and the longest path length."""

    returned_tiyn: int
    first: Hop
    steps: dict[str, Hop]
    hops: int


@dataclass(frozen=True)
class Thresholds:
    """F04's thresholds for one pilot (RULES.md defaults; `--rules FILE` overrides them)."""

    hops_max: int = whole(4)
    window_days: int = whole(90)
    share_min: Fraction = fraction("0.02")


class CircularFlow(Rule):
    """F04: colored money comes back, within ≤ `hops_max` hops and ≤ `window_days` days, to a party
    that already held it in the same chain; or is spent to a payee who is an official of the
    color's administrator, or owned/directed by one (`World.controllers`). The returned amount must
    be ≥ `share_min` of the first hop.

    The first hop is the payment by which the party that gets the money back passed it on (for a
    spend: the administrator's payment that started the chain, or the spend itself when the
    administrator spends directly); hops and days run from that payment to the one closing the
    loop, both counted. A reservation is a hop when it is released (by the reservation's id, at the
    release's time); a void gives the money back to its payer unchanged. One flag per closing
    transaction and first hop.
    """

    code = "F04"
    title = "Circular flow"
    definition = (
        "colored money comes back, within ≤ 4 hops and ≤ 90 days, to a party that already held it in the same"
        " chain, or is spent to a payee that is an official of the paying administrator or owned/directed by "
        "one; returned amount ≥ 2 % of the first hop"
    )
    thresholds = Thresholds
    severity = "high"
    reads = (e.FundsAllocated, e.FundsTransferred, e.FundsReserved, e.ReservationReleased, e.ReservationVoided,
             e.FundsSpent, e.FundsReturned)

    def on_event(self, ctx: RuleContext, event: Any) -> None:
        if ctx.pilot is None:
            return
        lots = self.state.setdefault("lots", {})
        reserved = self.state.setdefault("reserved", {})
        if isinstance(event, e.FundsAllocated):
            lots[event.command_id] = [Portion(event.amount_tiyn, ())]
        elif isinstance(event, e.FundsTransferred):
            hop = Hop(event.command_id, event.payer, event.payee, event.at.isoformat(), event.amount_tiyn, event.contract)
            self._arrive(ctx, event, self._take(event.consumed), hop, event.command_id, [event.command_id])
        elif isinstance(event, e.FundsReserved):
            reserved[event.command_id] = self._take(event.consumed)
        elif isinstance(event, e.ReservationReleased):
            hop = Hop(event.reservation, event.payer, event.payee, event.at.isoformat(), event.amount_tiyn, event.contract)
            portions = reserved.pop(event.reservation, [Portion(event.amount_tiyn, ())])
            self._arrive(ctx, event, portions, hop, event.command_id, [event.reservation, event.command_id])
        elif isinstance(event, e.ReservationVoided):
            portions = reserved.pop(event.reservation, [Portion(event.amount_tiyn, ())])
            lots[event.command_id] = portions
            self._expire_later(ctx, event.color, event.command_id, portions)
        elif isinstance(event, e.FundsSpent):
            portions = self._take(event.consumed)
            if event.payee:
                self._spent(ctx, event, portions)
        elif isinstance(event, e.FundsReturned):
            self._take(event.consumed)

    def _take(self, consumed: e.Consumed) -> list[Portion]:
        """The provenance portions an outgoing movement took, lot by lot, first-in first-out."""
        lots = self.state["lots"]
        taken: list[Portion] = []
        for lot, amount in consumed:
            portions = lots.get(lot) or [Portion(amount, ())]  # an unknown lot: money of unknown origin
            while amount > 0 and portions:
                head = portions[0]
                use = min(amount, head.amount_tiyn)
                taken.append(Portion(use, head.route))
                amount -= use
                if head.amount_tiyn == use:
                    portions.pop(0)
                else:
                    portions[0] = head._replace(amount_tiyn=head.amount_tiyn - use)
            if not portions:
                lots.pop(lot, None)
        return taken

    def _limits(self, ctx: RuleContext) -> tuple[int, timedelta]:
        return self.limits(ctx.pilot).hops_max, timedelta(days=self.limits(ctx.pilot).window_days)

    def _recent(self, ctx: RuleContext, route: tuple[Any, ...]) -> tuple[Any, ...]:
        """The hops of a route that can still close a loop at `ctx.at`."""
        hops_max, window = self._limits(ctx)
        kept = tuple(hop for hop in route if ctx.at - time_of(hop.at) <= window)
        return kept[-(hops_max - 1):] if hops_max > 1 else ()

    def _arrive(self, ctx: RuleContext, event: Any, portions: list[Portion], hop: Hop,
                lot: str, closing: list[str]) -> None:
        """Money reaches `hop`'s payee as lot `lot`: check for a loop, then record its provenance."""
        loops: dict[str, Loop] = {}
        merged: dict[tuple[Hop, ...], int] = {}
        for amount, route in portions:
            route = self._recent(ctx, tuple(route))
            back = [i for i, step in enumerate(route) if step.payer == hop.payee]
            if back:
                self._add_loop(loops, amount, route[back[-1]:] + (hop,))
            longer = self._recent(ctx, route + (hop,))
            merged[longer] = merged.get(longer, 0) + amount
        portions = self.state["lots"][lot] = [Portion(amount, route) for route, amount in merged.items()]
        self._expire_later(ctx, event.color, lot, portions)
        for first in sorted(loops):
            self._raise(ctx, event, hop.payee, loops[first], closing, None)

    def _expire_later(self, ctx: RuleContext, color: str, lot: str, portions: list[Portion]) -> None:
        """Once the color's time is past the window of the lot's newest hop, no route of the lot
        can close a loop (`_recent` keeps none of its hops): the lot then reads exactly like an
        unknown lot (money of unknown origin), so it can be forgotten."""
        newest = max((time_of(hop.at) for portion in portions for hop in portion.route), default=None)
        if newest is not None:
            ctx.expire(self, color, newest + self._limits(ctx)[1], lot)

    def on_expire(self, ctx: RuleContext, key: Any) -> None:
        lots = self.state["lots"]
        portions = lots.peek(key)
        _, window = self._limits(ctx)
        if portions is not None and all(ctx.at - time_of(hop.at) > window for portion in portions for hop in portion.route):
            lots.pop(key)

    @staticmethod
    def _add_loop(loops: dict[str, Loop], amount: int, path: tuple[Hop, ...]) -> None:
        entry = loops.setdefault(path[0].transaction, Loop(0, path[0], {}, 0))
        entry.returned_tiyn += amount
        for step in path:
            entry.steps.setdefault(step.transaction, step)
        entry.hops = max(entry.hops, len(path))

    def _spent(self, ctx: RuleContext, event: e.FundsSpent, portions: list[Portion]) -> None:
        admin = (ctx.world.colors.get(event.color) or {}).get("administrator")
        officials = set((ctx.world.party(admin) or {}).get("officials", ()))
        payee = event.payee
        people = sorted({payee} & officials) or sorted(ctx.world.controllers(payee) & officials)
        if not people:
            return
        link = (f"an official of administrator {named(ctx.world, admin)}" if payee in officials else
                f"owned or directed by {', '.join(people)}, official of administrator {named(ctx.world, admin)}")
        spend = Hop(event.command_id, event.holder, payee, event.at.isoformat(), event.amount_tiyn, event.contract)
        loops: dict[str, Loop] = {}
        if event.holder == admin:  # the administrator pays its own people: the spend is the first hop
            portions = []
            self._add_loop(loops, event.amount_tiyn, (spend,))
        for amount, route in portions:
            route = self._recent(ctx, tuple(route))
            back = [i for i, step in enumerate(route) if step.payer == admin]
            if back:
                self._add_loop(loops, amount, route[back[-1]:] + (spend,))
        for first in sorted(loops):
            self._raise(ctx, event, payee, loops[first], [event.command_id], link)

    def _raise(self, ctx: RuleContext, event: Any, party: str, loop: Loop, closing: list[str], link: str | None) -> None:
        returned, first, steps, hops = loop.returned_tiyn, loop.first, loop.steps, loop.hops
        hops_max, window = self._limits(ctx)
        share_min = self.limits(ctx.pilot).share_min
        if hops > hops_max or not at_least(returned, share_min, first.amount_tiyn):
            return
        share, days = Fraction(returned, first.amount_tiyn), duration_days(time_of(first.at), ctx.at)
        path = list(steps) + [tx for tx in closing if tx not in steps]
        limits = f"(threshold ≥ {percent(share_min)} of the first hop within {hops_max} hops and {window.days} days)"
        later = f"{hops} hops and {days} days later via {' → '.join(path)}"
        if link is None:
            explanation = (f"{named(ctx.world, party)} got back {kzt(returned)} ({percent(share, share_min)}) of the "
                           f"{kzt(first.amount_tiyn)} it paid in {first.transaction}, {later} {limits}.")
        elif hops == 1:
            explanation = (f"{named(ctx.world, event.holder)} spent {kzt(returned)} in {event.command_id} directly to "
                           f"{named(ctx.world, party)}, {link} {limits}.")
        else:
            explanation = (f"{named(ctx.world, event.holder)} spent {kzt(returned)} ({percent(share, share_min)} of the "
                           f"{kzt(first.amount_tiyn)} paid in {first.transaction}) to {named(ctx.world, party)}, {link}, "
                           f"{later} {limits}.")
        ctx.flag(
            self, f"{event.command_id}:{first.transaction}", color=event.color, transactions=path,
            parties=[p for step in steps.values() for p in (step.payer, step.payee)] + [party],
            contracts=[step.contract for step in steps.values() if step.contract],
            explanation=explanation,
            evidence={
                "returned_to": party, "returned_tiyn": returned, "first_hop": first.transaction, "first_hop_tiyn": first.amount_tiyn,
                "share": decimal_text(share, 4), "hops": hops, "days": days, "share_min": self.text(ctx.pilot, "share_min"),
                "hops_max": hops_max, "window_days": window.days, "official_link": link is not None,
            },
        )


RULE = CircularFlow
