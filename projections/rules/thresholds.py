"""How a rule declares its thresholds: a frozen dataclass whose fields say their kind and default.

Each rule module has `Thresholds`, a frozen dataclass; each field is declared with one of
`money` (a KZT string in RULES.md and threshold files, an integer number of tiyn in the rule),
`fraction` (a decimal string, an exact `Fraction` in the rule), `whole` (a count or a window in
whole days or hours) or `label` (a code such as `ROAD-KM`). A field may carry a pilot's own
default (`money("196600000", AGRO="15728000")`).

A money field is named `*_tiyn` in the rule and `*_kzt` in a threshold file (its unit as written
there); every other field has the same name in both. No float is ever involved.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from typing import Any

from domain.money import parse_kzt

KINDS = ("money", "fraction", "whole", "label")


def _declare(kind: str, raw: Any, parsed: Any, pilots: dict[str, Any]) -> Any:
    assert kind in KINDS, kind
    return dataclasses.field(default=parsed, metadata={"kind": kind, "raw": raw, "pilots": dict(pilots)})


def money(default_kzt: str, **pilots: str) -> Any:
    """An amount in KZT as written ("1000000"), tiyn in the rule."""
    return _declare("money", default_kzt, parse_kzt(default_kzt), pilots)


def fraction(default: str, **pilots: str) -> Any:
    """A share or ratio as a decimal string ("0.80"), an exact Fraction in the rule."""
    return _declare("fraction", default, Fraction(default), pilots)


def whole(default: int, **pilots: int) -> Any:
    """A whole number: a count, or a window in whole days or hours (the unit is in the name)."""
    assert isinstance(default, int) and not isinstance(default, bool) and default >= 0, default
    return _declare("whole", default, default, pilots)


def label(default: str, **pilots: str) -> Any:
    """A text threshold, such as a reference price code."""
    return _declare("label", default, default, pilots)


def setting_name(field: dataclasses.Field[Any]) -> str:
    """The field's name in a threshold file: `threshold_tiyn` is written `threshold_kzt`."""
    if field.metadata["kind"] == "money":
        assert field.name.endswith("_tiyn"), field.name
        return field.name.removesuffix("_tiyn") + "_kzt"
    return field.name


def fields_of(thresholds: type) -> tuple[dataclasses.Field[Any], ...]:
    assert dataclasses.is_dataclass(thresholds), thresholds
    declared = dataclasses.fields(thresholds)
    assert all(field.metadata.get("kind") in KINDS for field in declared), thresholds
    return declared


def raw_defaults(thresholds: type) -> dict[str, Any]:
    """Setting name -> its default as written in RULES.md (for every pilot)."""
    return {setting_name(field): field.metadata["raw"] for field in fields_of(thresholds)}


def pilot_defaults(thresholds: type) -> dict[str, dict[str, Any]]:
    """Pilot -> setting name -> that pilot's own default, where it has one."""
    found: dict[str, dict[str, Any]] = {}
    for field in fields_of(thresholds):
        for pilot, raw in field.metadata["pilots"].items():
            found.setdefault(pilot, {})[setting_name(field)] = raw
    return found


def parse(thresholds: type, raw: dict[str, Any]) -> Any:
    """The dataclass for one pilot from raw settings (setting name -> value as written)."""
    values: dict[str, Any] = {}
    for field in fields_of(thresholds):
        value = raw[setting_name(field)]
        kind = field.metadata["kind"]
        values[field.name] = (parse_kzt(str(value)) if kind == "money" else Fraction(str(value)) if kind == "fraction"
                              else value if kind == "whole" else str(value))
    return thresholds(**values)
