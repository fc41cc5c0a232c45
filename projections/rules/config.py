"""Rule thresholds: the defaults of RULES.md, overridable per pilot from a TOML file.

A threshold file names rules by code, optionally narrowed to a pilot:

    [F01]                 # every pilot
    delta = "0.08"
    [F01.AGRO]            # AGRO only (wins over the rule-wide value)
    threshold_kzt = "15000000"

Values keep their kind: ratios and shares are decimal strings (exact, `Fraction`), money is KZT
strings (parsed to tiyn), counts and windows are integers. Unknown rules, pilots or names are
errors, so a typo never passes silently.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import orjson

from domain.errors import LedgerError
from domain.identifiers import PILOTS
from domain.money import parse_kzt

# code -> name -> default for every pilot; PILOT_DEFAULTS refine per pilot. Names end with their
# unit: *_kzt (money), *_days / *_hours (windows), *_ratio / *_share / delta (fractions), *_count.
DEFAULTS: dict[str, dict[str, Any]] = {
    "F01": {"threshold_kzt": "196600000", "delta": "0.10", "count": 2},
    "F03": {"share": "0.80", "window_hours": 72, "inflow_min_kzt": "1000000"},
    "F04": {"hops_max": 4, "window_days": 90, "share_min": "0.02"},
    "F05": {"window_days": 30, "share": "0.30"},
    "F07": {},
    "F09": {"window_days": 30},
    "F10": {"advance_share": "0.30", "window_days": 90},
    "F11": {},
    "F12": {"payments_min_count": 20, "payment_min_kzt": "1000000", "round_kzt": "100000", "round_share": "0.50",
            "benford_payments_min_count": 101, "benford_mad": "0.015"},
    "P01": {"age_days": 365, "amount_min_kzt": "50000000"},
    "P02": {},
    "P03": {},
    "P04": {"parties_min_count": 10},
    "C01": {"share": "0.50", "contracts_min_count": 10},
    "H01": {"raise_ratio": "0.15", "single_raise_ratio": "0.50"},
    "H03": {"first_amendment_days": 30, "raises_min_count": 3},
    "S01": {"share": "0.80", "depth_min": 3},
    "R01": {"ratio": "1.30", "high_ratio": "1.50"},
    "R02": {"ratio": "1.50", "reference_code": "ROAD-KM"},
    "R03": {"over_ratio": "1.10", "under_ratio": "0.90", "paid_share": "0.90", "density_t_per_m3": "2.35",
            "item_code": "ASPHALT", "item_unit": "t"},
    "R04": {"ratio": "1.10"},
    "A01": {},
    "A03": {"share": "0.05", "window_days": 180},
    "L01": {"paid_share": "0.90", "window_days": 60},
    "L02": {"days": 60, "amount_min_kzt": "20000000"},
    "L03": {"ratio": "4.9", "last_days": 7},
    "L04": {"undisbursed_share": "0.50", "days_before_expiry": 30},
}
PILOT_DEFAULTS: dict[str, dict[str, dict[str, Any]]] = {
    "F01": {"AGRO": {"threshold_kzt": "15728000", "delta": "0.05"}},
    "H01": {"AGRO": {"raise_ratio": "0.10"}},
}


class RulesConfigError(LedgerError):
    """The threshold file is not valid."""


@dataclass(frozen=True)
class RulesConfig:
    """Thresholds per rule and pilot, with their raw values kept for explanations and digests."""

    values: dict[str, dict[str, dict[str, Any]]]  # code -> pilot -> name -> raw value

    def __post_init__(self) -> None:
        object.__setattr__(self, "_parsed", {})  # (kind, code, pilot, name) -> parsed value

    def raw(self, code: str, pilot: str, name: str) -> Any:
        return self.values[code][pilot][name]

    def ratio(self, code: str, pilot: str, name: str) -> Fraction:
        key = ("ratio", code, pilot, name)
        parsed = self._parsed.get(key)  # type: ignore[attr-defined]
        if parsed is None:
            parsed = self._parsed[key] = Fraction(str(self.raw(code, pilot, name)))  # type: ignore[attr-defined]
        return parsed

    def tiyn(self, code: str, pilot: str, name: str) -> int:
        key = ("tiyn", code, pilot, name)
        parsed = self._parsed.get(key)  # type: ignore[attr-defined]
        if parsed is None:
            parsed = self._parsed[key] = parse_kzt(str(self.raw(code, pilot, name)))  # type: ignore[attr-defined]
        return parsed

    def number(self, code: str, pilot: str, name: str) -> int:
        value = self.raw(code, pilot, name)
        assert isinstance(value, int) and not isinstance(value, bool), (code, name, value)
        return value

    def text(self, code: str, pilot: str, name: str) -> str:
        return str(self.raw(code, pilot, name))

    @property
    def digest(self) -> str:
        """Identifies these thresholds: flags computed under other thresholds are rebuilt."""
        return hashlib.sha256(orjson.dumps(self.values, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def default_config() -> RulesConfig:
    return _build({})


def load_config(path: str | Path | None) -> RulesConfig:
    """The defaults, overridden by the TOML file at `path` (None: defaults only)."""
    if path is None:
        return default_config()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise RulesConfigError(f"{path}: cannot read: {error.strerror or error}") from error
    except tomllib.TOMLDecodeError as error:
        raise RulesConfigError(f"{path}: not valid TOML: {error}") from error
    return _build(data, str(path))


def _build(overrides: dict[str, Any], source: str = "") -> RulesConfig:
    """Defaults, then rule-wide overrides (every pilot), then pilot tables (that pilot only)."""
    values = {
        code: {pilot: {**defaults, **PILOT_DEFAULTS.get(code, {}).get(pilot, {})} for pilot in PILOTS}
        for code, defaults in DEFAULTS.items()
    }
    for code, section in overrides.items():
        if code not in DEFAULTS:
            raise RulesConfigError(f"{source}: [{code}]: no such rule; rules: {', '.join(DEFAULTS)}")
        if not isinstance(section, dict):
            raise RulesConfigError(f"{source}: {code} must be a table like [{code}]")
        for name, value in section.items():
            if name not in PILOTS:
                for pilot in PILOTS:
                    _set(values[code][pilot], code, code, name, value, source)
        for pilot in PILOTS:
            table = section.get(pilot)
            if table is None:
                continue
            if not isinstance(table, dict):
                raise RulesConfigError(f"{source}: {code}.{pilot} must be a table like [{code}.{pilot}]")
            for name, value in table.items():
                _set(values[code][pilot], code, f"{code}.{pilot}", name, value, source)
    return RulesConfig(values)


def _set(target: dict[str, Any], code: str, where: str, name: str, value: Any, source: str) -> None:
    if name not in DEFAULTS[code]:
        known = ", ".join(DEFAULTS[code]) or "none"
        raise RulesConfigError(f"{source}: {where}.{name}: no such threshold; {code} has: {known}")
    default = DEFAULTS[code][name]
    if isinstance(default, int) and not isinstance(default, bool):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise RulesConfigError(f"{source}: {where}.{name}: must be a whole number ≥ 0, got {value!r}")
    else:
        if not isinstance(value, str):
            raise RulesConfigError(f"{source}: {where}.{name}: must be a decimal string like {default!r}, got {value!r}")
        try:
            parse_kzt(value) if name.endswith("_kzt") else Fraction(value)
        except (ValueError, ZeroDivisionError) as error:
            raise RulesConfigError(f"{source}: {where}.{name}: not a valid value {value!r}: {error}") from error
    target[name] = value
