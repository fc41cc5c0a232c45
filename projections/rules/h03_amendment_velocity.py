"""H03 — Amendment velocity (RULES.md; pilots: all).

RULES.md: first amendment < 30 days after signing, or ≥ 3 amendments raising the amount

How this module reads it:
H03: first amendment < first_amendment_days after signing, or ≥ raises_min_count raises.
- H03 has two flags per contract, one per trigger (an early first amendment; the n-th raise).

Source: SASU RISK2-10/2-11.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from typing import Any

from domain import events as e
from projections.rules.common import contract_parties, time_of
from projections.rules.engine import Rule, RuleContext
from projections.rules.thresholds import whole
from projections.rules.wording import decimal_text, duration_days, kzt


@dataclass(frozen=True)
class Thresholds:
    """H03's thresholds for one pilot (RULES.md defaults; `--rules FILE` overrides them)."""

    first_amendment_days: int = whole(30)
    raises_min_count: int = whole(3)


class AmendmentVelocity(Rule):
    """H03: first amendment < first_amendment_days after signing, or ≥ raises_min_count raises."""

    code = "H03"
    title = "Amendment velocity"
    definition = (
        "first amendment < 30 days after signing, or ≥ 3 amendments raising the amount"
    )
    thresholds = Thresholds
    severity = "medium"
    reads = (e.ContractAmended,)

    def on_event(self, ctx: RuleContext, event: e.ContractAmended) -> None:
        info = ctx.world.contracts.get(event.contract)
        seen = self.state.setdefault("contracts", {}).setdefault(event.contract, {"amendments": [], "raises": []})
        first = not seen["amendments"]
        seen["amendments"].append(event.command_id)
        if event.amount_tiyn > event.previous_amount_tiyn:
            seen["raises"].append(event.command_id)
        if info is None:
            return
        if first:
            self._check_early(ctx, event, info)
        raises_min = self.limits(ctx.pilot).raises_min_count
        if event.amount_tiyn > event.previous_amount_tiyn and len(seen["raises"]) >= raises_min:
            ctx.flag(
                self, f"{event.contract}:raises", color=event.color,
                transactions=[info["transaction"], *seen["raises"]], parties=contract_parties(info),
                contracts=[event.contract],
                explanation=(
                    f"Contract {event.contract} has had its amount raised {len(seen['raises'])} times, from the signed "
                    f"{kzt(info['signed_amount_tiyn'])} to {kzt(event.amount_tiyn)} (threshold {raises_min} raises)."
                ),
                evidence={"raises_count": len(seen["raises"]), "raises_min_count": raises_min,
                          "signed_amount_tiyn": info["signed_amount_tiyn"], "amount_tiyn": event.amount_tiyn},
            )

    def _check_early(self, ctx: RuleContext, event: e.ContractAmended, info: dict[str, Any]) -> None:
        days_min = self.limits(ctx.pilot).first_amendment_days
        signed_at = time_of(info["signed_at"])
        elapsed = event.at - signed_at
        if elapsed >= timedelta(days=days_min):
            return
        elapsed_days = Fraction(elapsed // timedelta(microseconds=1), 86_400_000_000)
        ctx.flag(
            self, f"{event.contract}:early", color=event.color, transactions=[info["transaction"], event.command_id],
            parties=contract_parties(info), contracts=[event.contract],
            explanation=(
                f"Contract {event.contract} was first amended by {event.command_id} "
                f"{duration_days(signed_at, event.at, days_min)} days after signing, "
                f"from {kzt(event.previous_amount_tiyn)} to {kzt(event.amount_tiyn)} (threshold under {days_min} days)."
            ),
            evidence={"days_after_signing": decimal_text(elapsed_days, 6, strip=True, against=Fraction(days_min)),
                      "first_amendment_days": days_min,
                      "previous_amount_tiyn": event.previous_amount_tiyn, "amount_tiyn": event.amount_tiyn},
        )


RULE = AmendmentVelocity
