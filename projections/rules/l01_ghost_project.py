"""L01 — Ghost project (RULES.md; pilots: LOCAL, ROAD).

RULES.md: ≥ 90 % of a contract paid and no `final` acceptance within 60 days of the payment that
crossed 90 %

How this module reads it:
L01: ≥ `paid_share` of a contract paid and no final acceptance within `window_days`.
- L01: paid = transfers and releases under the contract (a reservation is not paid until it is
  released). When the payment that makes paid ≥ `paid_share` of the contract's current amount arrives
  and the contract has no `final` acceptance yet, a deadline is set `window_days` later; a final
  acceptance at or before it keeps the rule silent.

Source: World Bank toolbox #44, Olken.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from typing import Any

from domain import events as e
from projections.rules.common import WORKS_PILOTS, local_date, time_of
from projections.rules.engine import Rule, RuleContext
from projections.rules.thresholds import fraction, whole
from projections.rules.wording import decimal_text, kzt, percent


@dataclass(frozen=True)
class Thresholds:
    """L01's thresholds for one pilot (RULES.md defaults; `--rules FILE` overrides them)."""

    paid_share: Fraction = fraction("0.90")
    window_days: int = whole(60)


class GhostProject(Rule):
    """L01: ≥ `paid_share` of a contract paid and no final acceptance within `window_days`."""

    code = "L01"
    title = "Ghost project"
    definition = (
        "≥ 90 % of a contract paid and no `final` acceptance within 60 days of the payment that crossed 90 %"
    )
    thresholds = Thresholds
    severity = "medium"
    pilots = WORKS_PILOTS
    reads = (e.FundsTransferred, e.ReservationReleased, e.DeliveryAccepted)

    def on_event(self, ctx: RuleContext, event: Any) -> None:
        if isinstance(event, e.DeliveryAccepted):
            if event.final:
                self.state.setdefault("final", {})[event.contract] = event.command_id
            return
        paid = self.state.setdefault("paid", {}).setdefault(event.contract, {"paid_tiyn": 0, "transactions": []})
        paid["paid_tiyn"] += event.amount_tiyn
        paid["transactions"].append(event.command_id)
        crossed = self.state.setdefault("crossed", {})
        amount = ctx.world.contracts[event.contract]["amount_tiyn"]
        if event.contract in crossed or Fraction(paid["paid_tiyn"], amount) < self.limits(ctx.pilot).paid_share:
            return
        crossed[event.contract] = event.command_id
        if event.contract in self.state.get("final", {}):
            return
        window = self.limits(ctx.pilot).window_days
        ctx.schedule(self, event.at + timedelta(days=window), event.contract, {
            "transaction": event.command_id, "at": event.at.isoformat(), "paid_tiyn": paid["paid_tiyn"],
            "amount_tiyn": amount, "pilot": ctx.pilot, "window_days": window,
        })

    def on_deadline(self, ctx: RuleContext, key: str, payload: Any) -> None:
        if key in self.state.get("final", {}):
            return
        contract = ctx.world.contracts[key]
        share = Fraction(payload["paid_tiyn"], payload["amount_tiyn"])
        threshold = self.text(payload["pilot"], "paid_share")
        paid_on = local_date(time_of(payload["at"]), self.time_zone).isoformat()
        ctx.flag(
            self, key, color=contract["color"], transactions=self.state["paid"][key]["transactions"],
            parties=[contract["customer"], contract["supplier"]], contracts=[key],
            explanation=(f"Contract {key} was {percent(share, Fraction(threshold))} paid ({kzt(payload['paid_tiyn'])} of "
                         f"{kzt(payload['amount_tiyn'])}) by {payload['transaction']} on {paid_on}, but no final "
                         f"acceptance followed within {payload['window_days']} days "
                         f"(threshold {percent(Fraction(threshold))} paid, {payload['window_days']} days)."),
            evidence={"paid_tiyn": payload["paid_tiyn"], "amount_tiyn": payload["amount_tiyn"],
                      "paid_share": decimal_text(share, 4), "threshold_paid_share": threshold,
                      "window_days": payload["window_days"], "crossing_transaction": payload["transaction"],
                      "crossed_at": payload["at"]},
        )


RULE = GhostProject
