"""R04 — Machine above catalog (RULES.md; pilots: AGRO).

RULES.md: machine unit price ≥ 1.10 × catalog reference for its model code

How this module reads it:
R04: a machine's unit price ≥ ratio × the catalog reference for its model code.
- R01/R04 check the items of a signed contract and the new items of an amendment (a price raised by
  amendment is what the rules are about); one flag per contract item (code and unit), so a later
  amendment of an already flagged item does not flag it again. A reference price set after the
  contract is not applied to it retroactively. R04 treats every AGRO item whose code has a reference
  (the catalog) as a machine.

Source: OCP R017.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from projections.rules.item_prices import ItemPriceRule
from projections.rules.thresholds import fraction


@dataclass(frozen=True)
class Thresholds:
    """R04's thresholds for one pilot (RULES.md defaults; `--rules FILE` overrides them)."""

    ratio: Fraction = fraction("1.10")


class MachineAboveCatalog(ItemPriceRule):
    """R04: a machine's unit price ≥ ratio × the catalog reference for its model code."""

    code = "R04"
    title = "Machine above catalog"
    definition = (
        "machine unit price ≥ 1.10 × catalog reference for its model code"
    )
    thresholds = Thresholds
    severity = "medium"
    pilots = frozenset({"AGRO"})
    noun = "Machine"


RULE = MachineAboveCatalog
