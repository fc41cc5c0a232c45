"""H01 — Price-raising amendments (RULES.md; pilots: all).

RULES.md: contract amount raised by ≥ 15 % (works, i.e. ROAD and LOCAL) or ≥ 10 % (goods) over the
signed amount, or any single amendment > 50 %

How this module reads it:
H01: the amount raised ≥ raise_ratio over the signed amount, or one amendment > single_raise_ratio.
- H01 raises one flag per contract, on the first amendment that meets either trigger (the total
  raise over the signed amount, or one amendment's own raise over the amount before it); the
  explanation and evidence give both measures.

Source: EU72, OCP R069.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from domain import events as e
from projections.rules.common import contract_parties
from projections.rules.engine import Rule, RuleContext
from projections.rules.thresholds import fraction
from projections.rules.wording import decimal_text, kzt, percent


@dataclass(frozen=True)
class Thresholds:
    """H01's thresholds for one pilot (RULES.md defaults; `--rules FILE` overrides them)."""

    raise_ratio: Fraction = fraction("0.15", AGRO="0.10")
    single_raise_ratio: Fraction = fraction("0.50")


class PriceRaisingAmendments(Rule):
    """H01: the amount raised ≥ raise_ratio over the signed amount, or one amendment > single_raise_ratio."""

    code = "H01"
    title = "Price-raising amendments"
    definition = (
        "contract amount raised by ≥ 15 % (works, i.e. ROAD and LOCAL) or ≥ 10 % (goods) over the signed "
        "amount, or any single amendment > 50 %"
    )
    thresholds = Thresholds
    severity = "medium"
    reads = (e.ContractAmended,)

    def on_event(self, ctx: RuleContext, event: e.ContractAmended) -> None:
        info = ctx.world.contracts.get(event.contract)
        amendments = self.state.setdefault("amendments", {}).setdefault(event.contract, [])
        amendments.append(event.command_id)
        previous, amount = event.previous_amount_tiyn, event.amount_tiyn
        if info is None or amount <= previous or previous <= 0 or info["signed_amount_tiyn"] <= 0:
            return
        signed = info["signed_amount_tiyn"]
        total = Fraction(amount - signed, signed)
        single = Fraction(amount - previous, previous)
        total_min = self.limits(ctx.pilot).raise_ratio
        single_max = self.limits(ctx.pilot).single_raise_ratio
        if total < total_min and single <= single_max:
            return
        ctx.flag(
            self, event.contract, color=event.color, transactions=[info["transaction"], *amendments],
            parties=contract_parties(info), contracts=[event.contract],
            explanation=(
                f"Contract {event.contract} was amended by {event.command_id} from {kzt(previous)} to {kzt(amount)}, "
                f"{percent(abs(total), total_min)} {'over' if total >= 0 else 'below'} the signed {kzt(signed)} "
                f"(threshold {percent(total_min)} over), a raise of {percent(single, single_max)} in this one amendment "
                f"(threshold above {percent(single_max)})."
            ),
            evidence={
                "signed_amount_tiyn": signed, "previous_amount_tiyn": previous, "amount_tiyn": amount,
                "raise_ratio": decimal_text(total, 6, strip=True, against=total_min), "raise_ratio_threshold": decimal_text(total_min, 6, strip=True),
                "single_raise_ratio": decimal_text(single, 6, strip=True, against=single_max), "single_raise_ratio_threshold": decimal_text(single_max, 6, strip=True),
                "amendments_count": len(amendments),
            },
        )


RULE = PriceRaisingAmendments
