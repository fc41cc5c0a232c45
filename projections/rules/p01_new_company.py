"""P01 — New company, large money (RULES.md; pilots: all).

RULES.md: a supplier's first contract or first colored inflow comes < 365 days after its
`registered_on`, amount ≥ 50 000 000 KZT

How this module reads it:
P01: a supplier's first contract or first colored inflow, large, soon after registration.
- P01 looks at each supplier's very first contract as supplier and its very first colored inflow
  (transfer or release), once each; one flag per supplier, raised by whichever qualifies first. The age in days runs from
  `registered_on` to the date of the contract or inflow in the ledger's time zone (SPEC §2.5).

Source: GTI / DIGIWHIST NewCompany.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from domain import events as e
from projections.rules.common import INFLOWS, local_date
from projections.rules.engine import Rule, RuleContext
from projections.rules.thresholds import money, whole
from projections.rules.wording import kzt, named


@dataclass(frozen=True)
class Thresholds:
    """P01's thresholds for one pilot (RULES.md defaults; `--rules FILE` overrides them)."""

    age_days: int = whole(365)
    amount_min_tiyn: int = money("50000000")


class NewCompany(Rule):
    """P01: a supplier's first contract or first colored inflow, large, soon after registration."""

    code = "P01"
    title = "New company, large money"
    definition = (
        "a supplier's first contract or first colored inflow comes < 365 days after its `registered_on`, "
        "amount ≥ 50 000 000 KZT"
    )
    thresholds = Thresholds
    severity = "medium"
    reads = (e.ContractSigned, *INFLOWS)

    def on_event(self, ctx: RuleContext, event: Any) -> None:
        if isinstance(event, e.ContractSigned):
            kind, party, payer, what = "contracted", event.supplier, event.customer, f"its first contract {event.contract}"
        else:
            kind, party, payer, what = "paid", event.payee, event.payer, f"its first colored inflow {event.command_id}"
        first = self.state.setdefault(kind, set())
        if party in first:
            return
        first.add(party)
        info = ctx.world.party(party)
        if not info or not info["registered_on"]:
            return  # no registration date: nothing to measure
        registered = date.fromisoformat(info["registered_on"])
        age_days = (local_date(ctx.at, self.time_zone) - registered).days
        age_max, amount_min = self.limits(ctx.pilot).age_days, self.limits(ctx.pilot).amount_min_tiyn
        if age_days >= age_max or event.amount_tiyn < amount_min:
            return
        ctx.flag(
            self, party, color=event.color, transactions=[event.command_id], parties=[party, payer],
            contracts=[event.contract],
            explanation=(f"Supplier {named(ctx.world, party)} got {what} of {kzt(event.amount_tiyn)} "
                         f"{age_days} days after its registration on {registered.isoformat()} "
                         f"(threshold: ≥ {kzt(amount_min)} within < {age_max} days)."),
            evidence={"trigger": "contract" if kind == "contracted" else "inflow", "amount_tiyn": event.amount_tiyn,
                      "registered_on": registered.isoformat(), "age_days": age_days,
                      "age_days_max": age_max, "amount_min_tiyn": amount_min},
        )


RULE = NewCompany
