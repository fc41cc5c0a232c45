"""F03 — Rapid pass-through (RULES.md; pilots: all).

RULES.md: a holder other than the treasury and administrators moves on ≥ 80 % of one colored inflow
(inflow ≥ 1 000 000 KZT) by `transfer`/`reserve` to other holders within 72 h of receiving it
(final spends do not count)

How this module reads it:
An inflow is a transfer or a release the holder received: its lot (named by that command's id) is
followed through `consumed`, so only what an outgoing transfer or reservation took from that very
lot counts towards it; final spends and returns never count. One flag per inflow.
- business time is the event's own `at`; windows are inclusive (`≤ 72 h`, `≤ 30 days`, …);
- "lot provenance" is the `consumed` list of an outgoing movement: (lot, tiyn) pairs naming the
  incoming transfer, release, void or allocation each tiyn came from;
- ratios are compared exactly (integer tiyn against `Fraction` thresholds), never with floats.

Source: FFIEC app. F/O, FATF.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any, NamedTuple

from domain import events as e
from projections.rules.common import at_least, time_of
from projections.rules.engine import Rule, RuleContext, state_record
from projections.rules.thresholds import fraction, money, whole
from projections.rules.wording import decimal_text, duration_hours, kzt, named, percent
from projections.rules.world import World


def _exempt(world: World, color: str, party: str) -> bool:
    """The treasury and administrators move money on by design."""
    info = world.colors.get(color) or {}
    return party in (info.get("administrator"), info.get("treasury")) or world.kind_of(party) in ("treasury", "administrator")


@state_record
class Out(NamedTuple):
    """A movement that took money from a watched inflow: transaction, payee, contract, tiyn taken."""

    transaction: str
    payee: str
    contract: str | None
    taken_tiyn: int


@dataclass(frozen=True)
class Thresholds:
    """F03's thresholds for one pilot (RULES.md defaults; `--rules FILE` overrides them)."""

    share: Fraction = fraction("0.80")
    window_hours: int = whole(72)
    inflow_min_tiyn: int = money("1000000")


class RapidPassThrough(Rule):
    """F03: a holder (not the treasury or an administrator) moves on ≥ `share` of one colored
    inflow of ≥ `inflow_min_kzt` by transfer/reserve to other holders within `window_hours` of
    receiving it.

    An inflow is a transfer or a release the holder received: its lot (named by that command's id)
    is followed through `consumed`, so only what an outgoing transfer or reservation took from that
    very lot counts towards it; final spends and returns never count. One flag per inflow.
    """

    code = "F03"
    title = "Rapid pass-through"
    definition = (
        "a holder other than the treasury and administrators moves on ≥ 80 % of one colored inflow (inflow ≥ "
        "1 000 000 KZT) by `transfer`/`reserve` to other holders within 72 h of receiving it (final spends do"
        " not count)"
    )
    thresholds = Thresholds
    severity = "medium"
    reads = (e.FundsTransferred, e.FundsReserved, e.ReservationReleased)

    def on_event(self, ctx: RuleContext, event: e.FundsTransferred | e.FundsReserved | e.ReservationReleased) -> None:
        if ctx.pilot is None:
            return
        if not isinstance(event, e.ReservationReleased):
            self._outflow(ctx, event)
        if not isinstance(event, e.FundsReserved):
            self._inflow(ctx, event)

    def _inflow(self, ctx: RuleContext, event: e.FundsTransferred | e.ReservationReleased) -> None:
        if _exempt(ctx.world, event.color, event.payee) or event.amount_tiyn < self.limits(ctx.pilot).inflow_min_tiyn:
            return
        carriers = [event.reservation, event.command_id] if isinstance(event, e.ReservationReleased) else [event.command_id]
        self.state.setdefault("lots", {})[event.command_id] = {
            "holder": event.payee, "payer": event.payer, "amount": event.amount_tiyn, "at": event.at.isoformat(),
            "contract": event.contract, "carriers": carriers, "moved": 0, "outs": [],
        }
        window = timedelta(hours=self.limits(ctx.pilot).window_hours)
        ctx.schedule(self, event.at + window, event.command_id)  # forget the lot once its window closes

    def on_deadline(self, ctx: RuleContext, key: str, payload: Any) -> None:
        self.state["lots"].forget(key)

    def _outflow(self, ctx: RuleContext, event: e.FundsTransferred | e.FundsReserved) -> None:
        lots = self.state.get("lots", {})
        for lot, taken in event.consumed:
            info = lots.get(lot)
            if info is None or info["holder"] != event.payer or event.payee == event.payer:
                continue
            received = time_of(info["at"])
            if event.at - received > timedelta(hours=self.limits(ctx.pilot).window_hours):
                continue
            info["moved"] += taken
            info["outs"].append(Out(event.command_id, event.payee, event.contract, taken))
            if at_least(info["moved"], self.limits(ctx.pilot).share, info["amount"]):
                self._raise(ctx, event, lot, info, received)
                del lots[lot]

    def _raise(self, ctx: RuleContext, event: Any, lot: str, info: dict[str, Any], received: datetime) -> None:
        pilot, share = ctx.pilot, Fraction(info["moved"], info["amount"])
        hours = duration_hours(received, event.at)
        outs = info["outs"]
        ctx.flag(
            self, lot, color=event.color,
            transactions=info["carriers"] + [out.transaction for out in outs],
            parties=[info["holder"], info["payer"]] + [out.payee for out in outs],
            contracts=[info["contract"]] + [out.contract for out in outs],
            explanation=(
                f"{named(ctx.world, info['holder'])} moved on {percent(share, self.limits(pilot).share)} of the "
                f"{kzt(info['amount'])} it received "
                f"in {lot} within {hours} h ({', '.join(out.transaction for out in outs)}) "
                f"(threshold {percent(self.limits(pilot).share)} within {self.limits(pilot).window_hours} h, "
                f"inflows from {kzt(self.limits(pilot).inflow_min_tiyn)})."
            ),
            evidence={
                "inflow": lot, "inflow_tiyn": info["amount"], "moved_on_tiyn": info["moved"], "share": decimal_text(share, 4),
                "hours": hours, "share_min": self.text(pilot, "share"), "window_hours": self.limits(pilot).window_hours,
                "inflow_min_tiyn": self.limits(pilot).inflow_min_tiyn,
            },
        )


RULE = RapidPassThrough
