"""The rule registry: one module per rule, exactly RULES.md's 27 codes, each with its reading and
its typed, frozen thresholds — and a registry that refuses to be built when a rule is missing."""

from __future__ import annotations

import dataclasses
import importlib
from fractions import Fraction
from pathlib import Path

import pytest

from domain.identifiers import PILOTS
from projections.rules import registry
from projections.rules.registry import (
    CODES,
    MODULES,
    REGISTRY,
    RegistryError,
    build_registry,
    check_names,
    misnamed_rule_modules,
)
from projections.rules.thresholds import fields_of, setting_name
from tests.rules.rules_catalog import catalog_rows

RULES_DIR = Path(registry.__file__).parent


def modules() -> list[object]:
    return [importlib.import_module(f"projections.rules.{name}") for name in MODULES]


def test_the_registry_holds_the_27_codes_of_the_catalog_in_order() -> None:
    assert len(CODES) == len(set(CODES)) == 27
    assert REGISTRY.codes == CODES == registry.CATALOG_ORDER
    assert list(catalog_rows()) == list(CODES)  # RULES.md's codes, in its order, where ../shared exists


def test_every_rule_has_one_module_named_after_its_code_and_title() -> None:
    on_disk = {path.stem for path in RULES_DIR.glob("[a-z][0-9][0-9]_*.py")}
    assert on_disk == set(MODULES)
    for code, name, rule in zip(CODES, MODULES, REGISTRY.rules, strict=True):
        assert name.startswith(code.lower() + "_") and rule.code == code
        assert rule.__module__ == f"projections.rules.{name}"


def test_every_module_states_its_reading_and_has_frozen_typed_thresholds() -> None:
    for module, rule in zip(modules(), REGISTRY.rules, strict=True):
        doc = module.__doc__ or ""
        assert doc.startswith(f"{rule.code} — {rule.title}") and "RULES.md" in doc, rule.code
        thresholds = module.Thresholds
        assert rule.thresholds is thresholds and dataclasses.is_dataclass(thresholds)
        defaults = thresholds()
        for field in fields_of(thresholds):
            value = getattr(defaults, field.name)
            assert not isinstance(value, float), (rule.code, field.name)  # no float near money
            kind = field.metadata["kind"]
            if kind == "money":
                assert field.name.endswith("_tiyn") and isinstance(value, int), (rule.code, field.name)
                assert setting_name(field).endswith("_kzt")
            elif kind == "fraction":
                assert isinstance(value, Fraction), (rule.code, field.name)
            elif kind == "whole":
                assert isinstance(value, int), (rule.code, field.name)
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(defaults, field.name, value)


def test_a_rule_defines_the_catalogs_title_pilots_and_definition() -> None:
    rows = catalog_rows()
    for rule in REGISTRY.rules:
        row = rows[rule.code]
        assert (rule.title, rule.definition) == (row["title"], row["definition"]), rule.code
        pilots = set(PILOTS) if row["pilots"] == "all" else {pilot.strip() for pilot in row["pilots"].split(",")}
        assert set(rule.pilots) == pilots, rule.code


def test_the_registry_fails_loudly_on_a_missing_rule() -> None:
    every = modules()
    with pytest.raises(RegistryError, match=r"missing \['F05'\]"):
        build_registry([module for module in every if module.RULE.code != "F05"])


def test_the_registry_fails_loudly_on_an_extra_or_doubled_rule() -> None:
    every = modules()
    with pytest.raises(RegistryError, match=r"not in the catalog \['L04'\]"):
        build_registry(every, expected=[code for code in CODES if code != "L04"])
    with pytest.raises(RegistryError, match=r"twice \['F01'\]"):
        build_registry([*every, every[0]])


def test_the_registry_refuses_a_module_without_its_reading_or_thresholds() -> None:
    class Bare:
        __name__ = "projections.rules.f01_split_below_threshold"
        __doc__ = ""
        RULE = REGISTRY.rule("F01")
        Thresholds = RULE.thresholds

    with pytest.raises(RegistryError, match="no docstring"):
        build_registry([Bare()])  # type: ignore[list-item]
    Bare.__doc__ = "F01 — reading"
    Bare.Thresholds = dataclasses.make_dataclass("Thresholds", [])  # not frozen
    with pytest.raises(RegistryError, match="frozen dataclass"):
        build_registry([Bare()])  # type: ignore[list-item]


def test_a_rule_module_the_registry_would_not_find_by_its_name_stops_it(tmp_path: Path) -> None:
    """A module that defines `RULE` under a name other than `<code>_<title>` would be passed over (and
    its rule left out silently when its code is not in `CODES` either): the registry refuses it."""
    assert misnamed_rule_modules(RULES_DIR) == []
    (tmp_path / "f13_split_by_week.py").write_text('"""F13."""\nRULE = SplitByWeek\n', encoding="utf-8")
    (tmp_path / "item_prices.py").write_text("class ItemPriceRule(Rule):\n    RULES = ()\n", encoding="utf-8")
    check_names(tmp_path)  # a well-named rule module, and a helper without RULE: nothing to say
    (tmp_path / "f14.py").write_text('"""F14."""\n\nRULE: type[Rule] = WeekendPayments\n', encoding="utf-8")
    (tmp_path / "F15_night_payments.py").write_text("RULE = NightPayments\n", encoding="utf-8")
    assert misnamed_rule_modules(tmp_path) == ["F15_night_payments", "f14"]
    with pytest.raises(RegistryError, match=r"not registered: F15_night_payments\.py, f14\.py"):
        check_names(tmp_path)
