"""L04 — Idle funds (RULES.md; pilots: all).

RULES.md: ≥ 50 % of an allocation is still undisbursed by the administrator 30 days before
`expires_on`

How this module reads it:
L04: ≥ `undisbursed_share` of an allocation still with its administrator `days_before_expiry` days
before `expires_on`.
- L04: undisbursed = the administrator's own balance of the color (allocated, less what it
  transferred, reserved — voids give back —, spent or returned). Evaluated at the start of the day
  `days_before_expiry` before `expires_on` (in the ledger's time zone); a color allocated after that
  moment is not evaluated.

Source: PBM expiry practice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from typing import Any

from domain import events as e
from projections.rules.common import start_of_day
from projections.rules.engine import Rule, RuleContext
from projections.rules.thresholds import fraction, whole
from projections.rules.wording import decimal_text, kzt, percent


def _movements(event: Any) -> list[tuple[str, int]]:
    """How a movement changes holders' balances of its color: (party, +1 in / −1 out)."""
    if isinstance(event, e.FundsTransferred):
        return [(event.payer, -1), (event.payee, +1)]
    if isinstance(event, e.FundsReserved):
        return [(event.payer, -1)]
    if isinstance(event, e.ReservationReleased):
        return [(event.payee, +1)]
    if isinstance(event, e.ReservationVoided):
        return [(event.payer, +1)]
    return [(event.holder, -1)]  # FundsSpent, FundsReturned


@dataclass(frozen=True)
class Thresholds:
    """L04's thresholds for one pilot (RULES.md defaults; `--rules FILE` overrides them)."""

    undisbursed_share: Fraction = fraction("0.50")
    days_before_expiry: int = whole(30)


class IdleFunds(Rule):
    """L04: ≥ `undisbursed_share` of an allocation still with its administrator
    `days_before_expiry` days before `expires_on`."""

    code = "L04"
    title = "Idle funds"
    definition = (
        "≥ 50 % of an allocation is still undisbursed by the administrator 30 days before `expires_on`"
    )
    thresholds = Thresholds
    severity = "medium"
    reads = (e.FundsAllocated, e.FundsTransferred, e.FundsReserved, e.ReservationReleased, e.ReservationVoided,
             e.FundsSpent, e.FundsReturned)

    def on_event(self, ctx: RuleContext, event: Any) -> None:
        colors = self.state.setdefault("colors", {})
        if isinstance(event, e.FundsAllocated):
            days = self.limits(ctx.pilot).days_before_expiry
            moment = start_of_day(event.expires_on - timedelta(days=days), self.time_zone)
            if moment > event.at:
                colors[event.color] = {"allocation": event.command_id, "balance": event.amount_tiyn}
                ctx.schedule(self, moment, event.color)
            return
        info = colors.get(event.color)
        if info is None:
            return
        admin = ctx.world.colors[event.color]["administrator"]
        for party, sign in _movements(event):
            if party == admin:
                info["balance"] += sign * event.amount_tiyn

    def on_deadline(self, ctx: RuleContext, key: str, payload: Any) -> None:
        info = self.state["colors"].pop(key)
        color = ctx.world.colors[key]
        pilot, allocated, balance = color["pilot"], color["allocated_tiyn"], info["balance"]
        share, threshold = Fraction(balance, allocated), self.limits(color["pilot"]).undisbursed_share
        if share < threshold:
            return
        days = self.limits(pilot).days_before_expiry
        ctx.flag(
            self, key, color=key, transactions=[info["allocation"]], parties=[color["administrator"]],
            explanation=(f"Administrator {color['administrator']} still held {kzt(balance)}, {percent(share, threshold)} of the "
                         f"{kzt(allocated)} allocation of {key}, {days} days before it expires on "
                         f"{color['expires_on']} (threshold {percent(threshold)} undisbursed)."),
            evidence={"undisbursed_tiyn": balance, "allocated_tiyn": allocated, "undisbursed_share": decimal_text(share, 4),
                      "threshold_share": self.text(pilot, "undisbursed_share"), "days_before_expiry": days,
                      "expires_on": color["expires_on"]},
        )


RULE = IdleFunds
