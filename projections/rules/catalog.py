"""Every rule of RULES.md, in catalog order."""

from __future__ import annotations

from projections.rules import assets, contracts, flows, parties, payments
from projections.rules.config import RulesConfig
from projections.rules.engine import Rule

CATALOG_ORDER = (
    "F01", "F03", "F04", "F05", "F07", "F09", "F10", "F11", "F12", "P01", "P02", "P03", "P04", "C01",
    "H01", "H03", "S01", "R01", "R02", "R03", "R04", "A01", "A03", "L01", "L02", "L03", "L04",
)


def rule_classes() -> list[type[Rule]]:
    classes = {cls.code: cls for module in (flows, payments, parties, contracts, assets) for cls in module.RULES}
    return [classes[code] for code in CATALOG_ORDER if code in classes]


def all_rules(config: RulesConfig) -> list[Rule]:
    return [cls(config) for cls in rule_classes()]
