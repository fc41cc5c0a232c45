"""The rule registry: every rule of RULES.md, one module each, in catalog order.

`CODES` is the canonical list of RULES.md's 27 codes; `MODULES` names the module of each (in
`projections/rules/`, named `<code>_<title>`). The registry is built, and checked, when this module
is imported: a code with no module, a module whose rule has another code, a module without its
docstring or its frozen `Thresholds`, or a rule not in `CODES` stops the import with
`RegistryError` — no rule can be dropped or added silently.

Adding a rule: write `projections/rules/<code>_<title>.py` (a docstring with the reading of RULES.md
it implements, `Thresholds`, the `Rule` subclass, `RULE = ThatClass`) and its test, and add its code
to `CODES` (the catalog: RULES.md's list). The module is found on disk by its name (`MODULES`); a
rule module whose code is not in `CODES`, a code with no module, or a module that defines `RULE` under
another name (`f13.py`, `F13_x.py`: it would not be found) stops the import.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from projections.rules.engine import Rule

if TYPE_CHECKING:
    from projections.rules.config import RulesConfig

CODES: tuple[str, ...] = (
    "F01", "F03", "F04", "F05", "F07", "F09", "F10", "F11", "F12", "P01", "P02", "P03", "P04", "C01",
    "H01", "H03", "S01", "R01", "R02", "R03", "R04", "A01", "A03", "L01", "L02", "L03", "L04",
)
PACKAGE = "projections.rules"
RULE_MODULE = re.compile(r"^[a-z][0-9]{2}_[a-z0-9_]+$")  # `<code>_<title>`: a rule module, found by its name


def rule_module_names() -> tuple[str, ...]:
    """The rule modules on disk (`projections/rules/<code>_<title>.py`), in catalog order (a module
    whose code is not in the catalog last, where the registry's check names it)."""
    package = importlib.import_module(PACKAGE)
    names = [info.name for info in pkgutil.iter_modules(package.__path__) if RULE_MODULE.match(info.name)]
    order = {code.lower(): index for index, code in enumerate(CODES)}
    return tuple(sorted(names, key=lambda name: (order.get(name[:3], len(CODES)), name)))


MODULES: tuple[str, ...] = rule_module_names()
_DEFINES_RULE = re.compile(r"^RULE\s*(?::[^=\n]*)?=", re.MULTILINE)  # a module-level `RULE = ...`


class RegistryError(Exception):
    """The rule modules do not match the catalog's codes (a bug: raised at import)."""


def misnamed_rule_modules(directory: Path) -> list[str]:
    """The modules in `directory` that define `RULE` but are not named `<code>_<title>`, so
    `rule_module_names` would pass them over: a rule that would be left out silently."""
    return sorted(path.stem for path in directory.glob("*.py")
                  if not RULE_MODULE.match(path.stem) and _DEFINES_RULE.search(path.read_text(encoding="utf-8")))


def check_names(directory: Path) -> None:
    """RegistryError naming every rule module in `directory` the registry would not find by its name."""
    misnamed = misnamed_rule_modules(directory)
    if misnamed:
        raise RegistryError(f"rule modules not named <code>_<title> (lower case, e.g. f01_split_below_threshold.py), "
                            f"so not registered: {', '.join(name + '.py' for name in misnamed)}")


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
    check_names(Path(__file__).parent)
    return build_registry([importlib.import_module(f"{PACKAGE}.{name}") for name in MODULES])


REGISTRY = _load()
CATALOG_ORDER = REGISTRY.codes


def rule_classes() -> list[type[Rule]]:
    """Every rule class, in catalog order."""
    return list(REGISTRY.rules)


def all_rules(config: RulesConfig) -> list[Rule]:
    """One instance of every rule, with these thresholds."""
    return [cls(config) for cls in REGISTRY.rules]
