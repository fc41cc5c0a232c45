"""The rule catalog as data and as markdown, generated from the registry and a configuration.

What `tenge-ledger rules` prints and what the repository's docs show: each rule's code, title,
severity, pilots, RULES.md definition, and the thresholds in force for a configuration, per pilot
(the defaults of RULES.md unless a threshold file changes them).
"""

from __future__ import annotations

from typing import Any

from domain.identifiers import PILOTS
from projections.rules.config import RulesConfig
from projections.rules.engine import Rule
from projections.rules.registry import CATALOG_ORDER, REGISTRY, all_rules, rule_classes

# Kept importable from here for code written before the registry: the codes in catalog order, the
# rule classes, and one instance of each.
__all__ = ["CATALOG_ORDER", "all_rules", "catalog_entries", "catalog_markdown", "rule_classes", "thresholds_in_force"]
from projections.rules.thresholds import fields_of, setting_name


def pilots_text(rule: type[Rule]) -> str:
    """"all", or the rule's pilots in catalog order ("ROAD, LOCAL")."""
    if set(rule.pilots) == set(PILOTS):
        return "all"
    return ", ".join(pilot for pilot in PILOTS if pilot in rule.pilots)


def thresholds_in_force(config: RulesConfig, rule: type[Rule]) -> dict[str, dict[str, Any]]:
    """Pilot -> setting name -> value as written, for each pilot the rule covers."""
    names = [setting_name(field) for field in fields_of(rule.thresholds)]
    return {pilot: {name: config.raw(rule.code, pilot, name) for name in names}
            for pilot in PILOTS if pilot in rule.pilots}


def catalog_entries(config: RulesConfig) -> list[dict[str, Any]]:
    """One document per rule, in catalog order."""
    return [{
        "code": rule.code, "title": rule.title, "severity": rule.severity,
        "pilots": [pilot for pilot in PILOTS if pilot in rule.pilots], "definition": rule.definition,
        "thresholds": thresholds_in_force(config, rule),
    } for rule in REGISTRY.rules]


def thresholds_text(per_pilot: dict[str, dict[str, Any]], separator: str = "\n") -> str:
    """`name = value` per setting, one per `separator`; where pilots differ,
    `name = v (ROAD, LOCAL), w (AGRO)`."""
    if not per_pilot or not next(iter(per_pilot.values())):
        return "none"
    parts = []
    for name in next(iter(per_pilot.values())):
        by_value: dict[str, list[str]] = {}
        for pilot, values in per_pilot.items():
            by_value.setdefault(str(values[name]), []).append(pilot)
        if len(by_value) == 1:
            parts.append(f"{name} = {next(iter(by_value))}")
        else:
            parts.append(f"{name} = " + ", ".join(f"{value} ({', '.join(pilots)})" for value, pilots in by_value.items()))
    return separator.join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def catalog_markdown(config: RulesConfig) -> str:
    """The rule catalog as a markdown document (one table, catalog order)."""
    lines = [
        "# Anomaly rules",
        "",
        "Generated from the rule registry (`projections/rules/`): each rule's code, title, pilots, "
        "definition (RULES.md) and the thresholds in force. Money thresholds are in KZT, shares and "
        "ratios are decimal fractions, windows are in the unit their name gives; every threshold is "
        "inclusive unless the definition says otherwise, and can be changed per pilot with "
        "`--rules FILE` (a TOML file: `[F01]` for every pilot, `[F01.AGRO]` for one).",
        "",
        "| code | title | severity | pilots | definition | thresholds in force |",
        "|---|---|---|---|---|---|",
    ]
    for rule in REGISTRY.rules:
        cells = [rule.code, rule.title, rule.severity, pilots_text(rule), rule.definition,
                 thresholds_text(thresholds_in_force(config, rule), "<br>")]
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(lines) + "\n"
