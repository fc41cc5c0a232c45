"""The rule registry: every rule of RULES.md, one module each, in catalog order.

`CODES` is the canonical list of RULES.md's 27 codes; `MODULES` names the module of each (in
`projections/rules/`, named `<code>_<title>`). The registry is built, and checked, when this module
is imported: a code with no module, a module whose rule has another code, a module without its
docstring or its frozen `Thresholds`, or a rule not in `CODES` stops the import with
`RegistryError` — no rule can be dropped or added silently.

Adding a rule: write `projections/rules/<code>_<title>.py` (a docstring with the reading of RULES.md
it implements, `Thresholds`, the `Rule` subclass, `RULE = ThatClass`) and its test, and add its
code to `CODES` and its module to `MODULES`.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING

from projections.rules.engine import Rule

if TYPE_CHECKING:
    from projections.rules.config import RulesConfig

CODES: tuple[str, ...] = (
    "F01", "F03", "F04", "F05", "F07", "F09", "F10", "F11", "F12", "P01", "P02", "P03", "P04", "C01",
    "H01", "H03", "S01", "R01", "R02", "R03", "R04", "A01", "A03", "L01", "L02", "L03", "L04",
)
MODULES: tuple[str, ...] = (
    "f01_split_below_threshold", "f03_rapid_pass_through", "f04_circular_flow", "f05_cash_like_outflow",
    "f07_blocked_attempt", "f09_duplicate_invoice", "f10_advance_without_delivery", "f11_paid_ahead_of_acceptance",
    "f12_round_amounts", "p01_new_company", "p02_shared_identifiers", "p03_conflict_of_interest",
    "p04_mass_registration_address", "c01_supplier_dominance", "h01_price_raising_amendments", "h03_amendment_velocity",
    "s01_pass_through_subcontracting", "r01_unit_price_above_reference", "r02_road_cost_per_km", "r03_asphalt_quantity",
    "r04_machine_above_catalog", "a01_same_machine_twice", "a03_dealer_kickback", "l01_ghost_project",
    "l02_implausibly_fast_works", "l03_year_end_rush", "l04_idle_funds",
)
PACKAGE = "projections.rules"


class RegistryError(Exception):
    """The rule modules do not match the catalog's codes (a bug: raised at import)."""


@dataclasses.dataclass(frozen=True)
class Registry:
    """The rule classes by code, in catalog order, checked against the expected codes."""

    rules: tuple[type[Rule], ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(rule.code for rule in self.rules)

    def rule(self, code: str) -> type[Rule]:
        for rule in self.rules:
            if rule.code == code:
                return rule
        raise KeyError(code)


def _check_module(module: ModuleType) -> type[Rule]:
    """The module's rule, after checking what every rule module must have."""
    name = module.__name__.rsplit(".", 1)[-1]
    rule = getattr(module, "RULE", None)
    if not (isinstance(rule, type) and issubclass(rule, Rule)):
        raise RegistryError(f"{name}: no RULE (the module's Rule subclass)")
    if not name.startswith(rule.code.lower() + "_"):
        raise RegistryError(f"{name}: its rule has code {rule.code}; the module name must start with {rule.code.lower()}_")
    if not (module.__doc__ or "").strip():
        raise RegistryError(f"{name}: no docstring (the reading of RULES.md it implements)")
    thresholds = getattr(module, "Thresholds", None)
    params = getattr(thresholds, "__dataclass_params__", None)
    if params is None or not params.frozen or rule.thresholds is not thresholds:
        raise RegistryError(f"{name}: Thresholds must be a frozen dataclass, and the rule's `thresholds`")
    if not (rule.title and rule.definition and rule.reads):
        raise RegistryError(f"{name}: {rule.code} needs a title, a definition and the events it reads")
    return rule


def build_registry(modules: Sequence[ModuleType], expected: Sequence[str] = CODES) -> Registry:
    """Check `modules` against the `expected` codes, in that order; RegistryError names what differs."""
    found = [_check_module(module) for module in modules]
    codes = [rule.code for rule in found]
    duplicates = sorted({code for code in codes if codes.count(code) > 1})
    missing = [code for code in expected if code not in codes]
    extra = [code for code in codes if code not in expected]
    if duplicates or missing or extra:
        raise RegistryError(f"rule modules do not match the catalog: missing {missing or 'none'}, "
                            f"not in the catalog {extra or 'none'}, twice {duplicates or 'none'}")
    by_code = {rule.code: rule for rule in found}
    return Registry(tuple(by_code[code] for code in expected))


def _load() -> Registry:
    if len(MODULES) != len(CODES):
        raise RegistryError(f"{len(CODES)} codes but {len(MODULES)} modules")
    return build_registry([importlib.import_module(f"{PACKAGE}.{name}") for name in MODULES])


REGISTRY = _load()
CATALOG_ORDER = REGISTRY.codes


def rule_classes() -> list[type[Rule]]:
    """Every rule class, in catalog order."""
    return list(REGISTRY.rules)


def all_rules(config: RulesConfig) -> list[Rule]:
    """One instance of every rule, with these thresholds."""
    return [cls(config) for cls in REGISTRY.rules]
