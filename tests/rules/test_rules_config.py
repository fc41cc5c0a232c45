"""The shipped thresholds are RULES.md's, and threshold files are read strictly.

RULES.md (in the shared folder beside the repository) is the catalog users read: every number of
a rule's definition must be the default the engine runs with, for every pilot it applies to. The
numbers are read from the catalog's text here, so a change on either side that is not made on the
other fails this test. Without the shared folder, each rule's own copy of its definition is read
(tests/rules/rules_catalog.py), so the defaults are still checked against the words users see.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from domain.identifiers import PILOTS
from domain.money import parse_kzt
from projections.rules.config import (
    DEFAULTS,
    PILOT_DEFAULTS,
    RulesConfig,
    RulesConfigError,
    default_config,
    load_config,
)
from projections.rules.registry import rule_classes
from tests.rules.rules_catalog import catalog_rows

WORKS, GOODS = ("ROAD", "LOCAL"), ("AGRO",)

# (rule, pattern in its definition, [(threshold, how to read the captured text)], pilots (None: all)).
# Readings: kzt "196 600 000" (KZT), percent "80" (%), ratio "1.30", int "72", above "9" (> 9 means
# a minimum of 10), text "ROAD-KM".
EXPECTED: list[tuple[str, str, list[tuple[str, str]], tuple[str, ...] | None]] = [
    ("F01", r"ROAD and LOCAL buy works: T = ([\d ]+) KZT, δ = ([\d.]+)", [("threshold_kzt", "kzt"), ("delta", "ratio")], WORKS),
    ("F01", r"AGRO buys goods: T = ([\d ]+) KZT, δ = ([\d.]+)", [("threshold_kzt", "kzt"), ("delta", "ratio")], GOODS),
    ("F01", r"has ≥ (\d+) contracts, or ≥ (\d+) transfers", [("count", "int"), ("count", "int")], None),
    ("F03", r"moves on ≥ (\d+) % of one colored inflow \(inflow ≥ ([\d ]+) KZT\)", [("share", "percent"), ("inflow_min_kzt", "kzt")], None),
    ("F03", r"within (\d+) h of receiving it", [("window_hours", "int")], None),
    ("F04", r"within ≤ (\d+) hops and ≤ (\d+) days", [("hops_max", "int"), ("window_days", "int")], None),
    ("F04", r"returned amount ≥ (\d+) % of the first hop", [("share_min", "percent")], None),
    ("F05", r"within (\d+) days after a colored inflow", [("window_days", "int")], None),
    ("F05", r"exceed (\d+) % of the holder's colored inflows", [("share", "percent")], None),
    ("F09", r"≤ (\d+) days apart", [("window_days", "int")], None),
    ("F10", r"exceed (\d+) % of its amount", [("advance_share", "percent")], None),
    ("F10", r"within (\d+) days of the first advance", [("window_days", "int")], None),
    ("F12", r"≥ (\d+) payments of ≥ ([\d ]+) KZT has ≥ (\d+) % of them divisible by ([\d ]+) KZT",
     [("payments_min_count", "int"), ("payment_min_kzt", "kzt"), ("round_share", "percent"), ("round_kzt", "kzt")], None),
    ("F12", r"MAD > ([\d.]+) for payers with > (\d+) payments", [("benford_mad", "ratio"), ("benford_payments_min_count", "above")], None),
    ("P01", r"< (\d+) days after its `registered_on`, amount ≥ ([\d ]+) KZT", [("age_days", "int"), ("amount_min_kzt", "kzt")], None),
    ("P04", r"≥ (\d+) registered parties", [("parties_min_count", "int")], None),
    ("C01", r"takes ≥ (\d+) % of an administrator", [("share", "percent")], None),
    ("C01", r"has > (\d+) contracts that year", [("contracts_min_count", "above")], None),
    ("H01", r"raised by ≥ (\d+) % \(works, i\.e\. ROAD and LOCAL\)", [("raise_ratio", "percent")], WORKS),
    ("H01", r"or ≥ (\d+) % \(goods\)", [("raise_ratio", "percent")], GOODS),
    ("H01", r"any single amendment > (\d+) %", [("single_raise_ratio", "percent")], None),
    ("H03", r"first amendment < (\d+) days after signing, or ≥ (\d+) amendments", [("first_amendment_days", "int"), ("raises_min_count", "int")], None),
    ("S01", r"pays on ≥ (\d+) % of what it received", [("share", "percent")], None),
    ("S01", r"is ≥ (\d+) deep", [("depth_min", "int")], None),
    ("R01", r"≥ ([\d.]+) × the reference price", [("ratio", "ratio")], None),
    ("R01", r"high ≥ ([\d.]+)×", [("high_ratio", "ratio")], None),
    ("R02", r"≥ ([\d.]+) × the reference price of code `([A-Z-]+)`", [("ratio", "ratio"), ("reference_code", "text")], None),
    ("R03", r"item code `(\w+)`, unit `(\w+)`", [("item_code", "text"), ("item_unit", "text")], None),
    ("R03", r"× ([\d.]+) t/m³", [("density_t_per_m3", "ratio")], None),
    ("R03", r"is > ([\d.]+) \(over-billing\), or < ([\d.]+) with ≥ (\d+) % of the contract paid",
     [("over_ratio", "ratio"), ("under_ratio", "ratio"), ("paid_share", "percent")], None),
    ("R04", r"≥ ([\d.]+) × catalog reference", [("ratio", "ratio")], None),
    ("A03", r"≥ (\d+) % of the machine price within (\d+) days", [("share", "percent"), ("window_days", "int")], None),
    ("L01", r"≥ (\d+) % of a contract paid and no `final` acceptance within (\d+) days", [("paid_share", "percent"), ("window_days", "int")], None),
    ("L02", r"< (\d+) days after a works contract was signed, contract ≥ ([\d ]+) KZT", [("days", "int"), ("amount_min_kzt", "kzt")], None),
    ("L03", r"pays ≥ ([\d.]+) × its mean weekly", [("ratio", "ratio")], None),
    ("L03", r"in the last (\d+) days of the fiscal year", [("last_days", "int")], None),
    ("L04", r"≥ (\d+) % of an allocation is still undisbursed by the administrator (\d+) days before",
     [("undisbursed_share", "percent"), ("days_before_expiry", "int")], None),
]


@pytest.fixture(scope="module")
def catalog() -> dict[str, dict[str, str]]:
    """code -> {title, pilots, definition}: RULES.md's tables where ../shared exists, else the registry's."""
    return catalog_rows()


def _expected(kind: str, text: str) -> Any:
    if kind == "kzt":
        return parse_kzt(text.replace(" ", ""))
    if kind == "percent":
        return Fraction(int(text), 100)
    if kind == "ratio":
        return Fraction(text)
    if kind == "int":
        return int(text)
    if kind == "above":
        return int(text) + 1
    assert kind == "text", kind
    return text


def _configured(config: RulesConfig, code: str, pilot: str, name: str, kind: str) -> Any:
    if kind == "kzt":
        return config.tiyn(code, pilot, name)
    if kind in ("percent", "ratio"):
        return config.ratio(code, pilot, name)
    if kind in ("int", "above"):
        return config.number(code, pilot, name)
    return config.text(code, pilot, name)


def test_every_rule_of_the_catalog_has_thresholds_and_no_other(catalog: dict[str, dict[str, str]]) -> None:
    assert sorted(catalog) == sorted(DEFAULTS)
    assert set(PILOT_DEFAULTS) <= set(DEFAULTS)


@pytest.mark.parametrize("code, pattern, names, pilots", EXPECTED, ids=[f"{e[0]}:{e[2][0][0]}:{i}" for i, e in enumerate(EXPECTED)])
def test_default_thresholds_are_the_catalogs(catalog: dict[str, dict[str, str]], code: str, pattern: str,
                                             names: list[tuple[str, str]], pilots: tuple[str, ...] | None) -> None:
    definition = catalog[code]["definition"]
    match = re.search(pattern, definition)
    assert match, f"RULES.md {code} no longer says {pattern!r}: {definition}"
    config = default_config()
    for (name, kind), text in zip(names, match.groups(), strict=True):
        for pilot in pilots or PILOTS:
            assert _configured(config, code, pilot, name, kind) == _expected(kind, text), (code, pilot, name, text)


def test_every_threshold_is_checked_against_the_catalog() -> None:
    """A threshold added to the config without its number in RULES.md (or this test) fails here."""
    checked = {(code, name) for code, _, names, _ in EXPECTED for name, _ in names}
    shipped = {(code, name) for code, defaults in DEFAULTS.items() for name in defaults}
    assert shipped - checked == set()
    assert {(code, name) for code, pilots in PILOT_DEFAULTS.items() for table in pilots.values() for name in table} <= checked


def test_implemented_rules_carry_the_catalogs_title_and_pilots(catalog: dict[str, dict[str, str]]) -> None:
    for rule in rule_classes():
        row = catalog[rule.code]
        assert rule.title == row["title"], rule.code
        pilots = set(PILOTS) if row["pilots"] == "all" else {p.strip() for p in row["pilots"].split(",")}
        assert set(rule.pilots) == pilots, rule.code


# --- load_config -----------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_means_the_defaults() -> None:
    assert load_config(None) == default_config()
    assert load_config(None).digest == default_config().digest


def test_an_empty_file_means_the_defaults(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "# nothing changed\n")) == default_config()


def test_a_rule_wide_value_applies_to_every_pilot(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[F03]\nshare = "0.75"\nwindow_hours = 48\ninflow_min_kzt = "2500000.50"\n'))
    for pilot in PILOTS:
        assert config.ratio("F03", pilot, "share") == Fraction(3, 4)
        assert config.number("F03", pilot, "window_hours") == 48
        assert config.tiyn("F03", pilot, "inflow_min_kzt") == 250_000_050
    assert config.ratio("F04", "ROAD", "share_min") == Fraction(2, 100)  # other rules keep their defaults
    assert config.digest != default_config().digest


def test_a_rule_wide_value_replaces_a_pilot_default(tmp_path: Path) -> None:
    """Rule-wide values are for every pilot, AGRO's own default δ included."""
    config = load_config(write(tmp_path, '[F01]\ndelta = "0.08"\n'))
    assert {config.ratio("F01", pilot, "delta") for pilot in PILOTS} == {Fraction(8, 100)}
    assert config.tiyn("F01", "AGRO", "threshold_kzt") == 1_572_800_000  # untouched pilot default stays


def test_a_pilot_table_wins_over_the_rule_wide_value(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[F01.AGRO]\ndelta = "0.04"\nthreshold_kzt = "15000000"\n'
                                         '[F01]\ndelta = "0.08"\n'))
    assert config.ratio("F01", "AGRO", "delta") == Fraction(4, 100)
    assert config.tiyn("F01", "AGRO", "threshold_kzt") == 1_500_000_000
    assert config.ratio("F01", "ROAD", "delta") == config.ratio("F01", "LOCAL", "delta") == Fraction(8, 100)
    assert config.tiyn("F01", "ROAD", "threshold_kzt") == 19_660_000_000


def test_the_same_overrides_give_the_same_digest(tmp_path: Path) -> None:
    a = load_config(write(tmp_path, '[F09]\nwindow_days = 45\n'))
    b = load_config(write(tmp_path, '[F09.ROAD]\nwindow_days = 45\n[F09.AGRO]\nwindow_days = 45\n[F09.LOCAL]\nwindow_days = 45\n'))
    assert a == b and a.digest == b.digest


@pytest.mark.parametrize("text, key, says", [
    ('[F99]\nshare = "0.5"\n', "[F99]", "no such rule"),
    ('[f01]\ndelta = "0.5"\n', "[f01]", "no such rule"),
    ('[F03]\nshares = "0.5"\n', "F03.shares", "no such threshold"),
    ('[F01.ARGO]\ndelta = "0.05"\n', "F01.ARGO", "no such threshold"),
    ('[F01.AGRO]\nthreshold = "15000000"\n', "F01.AGRO.threshold", "no such threshold"),
    ('[F07]\ncount = 1\n', "F07.count", "F07 has: none"),
    ('[F03]\nshare = 0.8\n', "F03.share", "decimal string"),
    ('[F01.AGRO]\nthreshold_kzt = 15728000\n', "F01.AGRO.threshold_kzt", "decimal string"),
    ('[F01]\nthreshold_kzt = "15 728 000"\n', "F01.threshold_kzt", "not a valid value"),
    ('[F01]\ndelta = "ten percent"\n', "F01.delta", "not a valid value"),
    ('[F03]\nwindow_hours = "72"\n', "F03.window_hours", "whole number"),
    ('[F03]\nwindow_hours = 72.0\n', "F03.window_hours", "whole number"),
    ('[F03.ROAD]\nwindow_hours = true\n', "F03.ROAD.window_hours", "whole number"),
    ('[F04]\nhops_max = -1\n', "F04.hops_max", "whole number"),
    ('F01 = 3\n', "F01", "must be a table"),
    ('[F01]\nAGRO = "0.05"\n', "F01.AGRO", "must be a table"),
])
def test_bad_threshold_files_are_rejected_naming_file_and_key(tmp_path: Path, text: str, key: str, says: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(RulesConfigError) as raised:
        load_config(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: "), message
    assert key in message and says in message, message


def test_a_file_that_is_not_toml_or_not_there_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(RulesConfigError, match=re.escape(str(tmp_path / "rules.toml")) + ": not valid TOML"):
        load_config(write(tmp_path, "[F01\n"))
    missing = tmp_path / "missing.toml"
    with pytest.raises(RulesConfigError, match=re.escape(str(missing)) + ": cannot read"):
        load_config(missing)
