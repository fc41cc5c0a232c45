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
from dataclasses import dataclass, field, replace
from datetime import timedelta, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any

import orjson

from domain.errors import LedgerError
from domain.identifiers import PILOTS
from domain.money import parse_kzt
from projections.rules.registry import REGISTRY
from projections.rules.thresholds import parse, pilot_defaults, raw_defaults

# code -> setting name -> default for every pilot; PILOT_DEFAULTS refine per pilot. Both are read
# from each rule's `Thresholds` (projections/rules/<code>_*.py), the one place a default is written.
DEFAULTS: dict[str, dict[str, Any]] = {rule.code: raw_defaults(rule.thresholds) for rule in REGISTRY.rules}
PILOT_DEFAULTS: dict[str, dict[str, dict[str, Any]]] = {
    rule.code: pilot_defaults(rule.thresholds) for rule in REGISTRY.rules if pilot_defaults(rule.thresholds)
}
# The ledger's time zone unless the store records another (SPEC §2.5): Kazakhstan, UTC+05:00.
LEDGER_TIME_ZONE = timezone(timedelta(hours=5))


class RulesConfigError(LedgerError):
    """The threshold file is not valid."""


@dataclass(frozen=True)
class RulesConfig:
    """Thresholds per rule and pilot, with their raw values kept for explanations and digests."""

    values: dict[str, dict[str, dict[str, Any]]]  # code -> pilot -> name -> raw value
    time_zone: timezone = field(default=LEDGER_TIME_ZONE)  # dates in rules are judged here (SPEC §2.5)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_parsed", {})  # (kind, code, pilot, name) -> parsed value

    def limits(self, code: str, pilot: str) -> Any:
        """Rule `code`'s `Thresholds` for `pilot` (parsed once)."""
        key = ("limits", code, pilot)
        parsed = self._parsed.get(key)  # type: ignore[attr-defined]
        if parsed is None:
            thresholds = REGISTRY.rule(code).thresholds
            parsed = self._parsed[key] = parse(thresholds, self.values[code][pilot])  # type: ignore[attr-defined]
        return parsed

    def with_time_zone(self, zone: timezone) -> RulesConfig:
        """The same thresholds, dates judged in `zone` (the store's recorded time zone)."""
        assert zone.utcoffset(None) is not None, zone
        return replace(self, time_zone=zone)

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
        offset_seconds = int(self.time_zone.utcoffset(None).total_seconds())  # type: ignore[union-attr]
        identity = {"values": self.values, "time_zone_offset_seconds": offset_seconds}
        return hashlib.sha256(orjson.dumps(identity, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def default_config(time_zone: timezone = LEDGER_TIME_ZONE) -> RulesConfig:
    return _build({}).with_time_zone(time_zone)


def load_config(path: str | Path | None, time_zone: timezone = LEDGER_TIME_ZONE) -> RulesConfig:
    """The defaults, overridden by the TOML file at `path` (None: defaults only); dates in `time_zone`."""
    if path is None:
        return default_config(time_zone)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise RulesConfigError(f"{path}: cannot read: {error.strerror or error}") from error
    except tomllib.TOMLDecodeError as error:
        raise RulesConfigError(f"{path}: not valid TOML: {error}") from error
    return _build(data, str(path)).with_time_zone(time_zone)


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
