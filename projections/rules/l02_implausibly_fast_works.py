"""L02 — Implausibly fast works (RULES.md; pilots: LOCAL, ROAD).

RULES.md: `final` acceptance < 60 days after a works contract was signed, contract ≥ 20 000 000 KZT

How this module reads it:
L02: final acceptance < `days` after a works contract ≥ `amount_min_kzt` was signed.
- L02: every contract under a ROAD or LOCAL color is a works contract (as in H01). A `final`
  acceptance less than `days` × 24 h after signing, on a contract whose current amount is ≥
  `amount_min_kzt`, raises the flag.

Source: SASU sas24-3-7.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from domain import events as e
from projections.rules.common import WORKS_PILOTS
from projections.rules.engine import Rule, RuleContext
from projections.rules.thresholds import money, whole
from projections.rules.wording import decimal_text, duration_days, kzt


@dataclass(frozen=True)
class Thresholds:
    """L02's thresholds for one pilot (RULES.md defaults; `--rules FILE` overrides them)."""

    days: int = whole(60)
    amount_min_tiyn: int = money("20000000")


class ImplausiblyFastWorks(Rule):
    """L02: final acceptance < `days` after a works contract ≥ `amount_min_kzt` was signed."""

    code = "L02"
    title = "Implausibly fast works"
    definition = (
        "`final` acceptance < 60 days after a works contract was signed, contract ≥ 20 000 000 KZT"
    )
    thresholds = Thresholds
    severity = "medium"
    pilots = WORKS_PILOTS
    reads = (e.DeliveryAccepted,)

    def on_event(self, ctx: RuleContext, event: e.DeliveryAccepted) -> None:
        if not event.final:
            return
        contract = ctx.world.contracts[event.contract]
        signed = datetime.fromisoformat(contract["signed_at"])
        days, minimum = self.limits(ctx.pilot).days, self.limits(ctx.pilot).amount_min_tiyn
        amount = contract["amount_tiyn"]
        if amount < minimum or event.at - signed >= timedelta(days=days):
            return
        elapsed = duration_days(signed, event.at, days)
        ctx.flag(
            self, event.contract, color=event.color, transactions=[event.command_id],
            parties=[contract["customer"], contract["supplier"]], contracts=[event.contract],
            explanation=(f"Works contract {event.contract} of {kzt(amount)} got its final acceptance "
                         f"{event.command_id} {elapsed} days after signing (threshold: under {days} days "
                         f"for contracts of {kzt(minimum)} or more)."),
            evidence={"amount_tiyn": amount, "days": decimal_text(Fraction((event.at - signed) // timedelta(microseconds=1), 86_400_000_000), 1), "threshold_days": days,
                      "amount_min_tiyn": minimum, "signed_at": contract["signed_at"],
                      "accepted_at": event.at.isoformat()},
        )


RULE = ImplausiblyFastWorks
