"""R01 — Unit price above reference (RULES.md; pilots: all).

RULES.md: item `unit_price` ≥ 1.30 × the reference price for its `code` (and region, when the
reference has one); high ≥ 1.5×

How this module reads it:
R01: an item's unit price ≥ ratio × its reference price; high at ≥ high_ratio.
- R01/R04 check the items of a signed contract and the new items of an amendment (a price raised by
  amendment is what the rules are about); one flag per contract item (code and unit), so a later
  amendment of an already flagged item does not flag it again. A reference price set after the
  contract is not applied to it retroactively. R04 treats every AGRO item whose code has a reference
  (the catalog) as a machine.

Source: OCP R017, DIGIWHIST CostOverrun.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from projections.rules.engine import RuleContext
from projections.rules.item_prices import ItemPriceRule
from projections.rules.thresholds import fraction
from projections.rules.wording import times


@dataclass(frozen=True)
class Thresholds:
    """R01's thresholds for one pilot (RULES.md defaults; `--rules FILE` overrides them)."""

    ratio: Fraction = fraction("1.30")
    high_ratio: Fraction = fraction("1.50")


class UnitPriceAboveReference(ItemPriceRule):
    """R01: an item's unit price ≥ ratio × its reference price; high at ≥ high_ratio."""

    code = "R01"
    title = "Unit price above reference"
    definition = (
        "item `unit_price` ≥ 1.30 × the reference price for its `code` (and region, when the reference has "
        "one); high ≥ 1.5×"
    )
    thresholds = Thresholds
    severity = "medium"

    def severity_for(self, ctx: RuleContext, measured: Fraction) -> str:
        return "high" if measured >= self.limits(ctx.pilot).high_ratio else "medium"

    def threshold_note(self, ctx: RuleContext) -> str:
        return f", high from {times(self.limits(ctx.pilot).high_ratio)}"


RULE = UnitPriceAboveReference
