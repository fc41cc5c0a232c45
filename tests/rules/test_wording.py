"""One wording for numbers in explanations (projections/rules/wording.py): the same number always
prints the same way, whichever rule explains it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path

import pytest

from projections.rules import registry
from projections.rules.wording import decimal_text, duration_days, duration_hours, kzt, percent, round_half_up, times

RULES_DIR = Path(registry.__file__).parent
T0 = datetime(2025, 3, 1, 10, tzinfo=timezone(timedelta(hours=5)))


def test_amounts_are_kzt_with_two_decimals() -> None:
    assert kzt(150_000_000) == "1500000.00 KZT"
    assert kzt(1) == "0.01 KZT" and kzt(0) == "0.00 KZT"


@pytest.mark.parametrize("value, shown", [
    (Fraction(23, 25), "92 %"),
    (Fraction(1, 2), "50 %"),
    (Fraction(12345, 100000), "12.35 %"),  # half-up (half-even would say 12.34, rounding down too)
    (Fraction(1, 3), "33.33 %"),
    (Fraction(2, 3), "66.67 %"),
    (Fraction(49999, 100000), "50 %"),
    (Fraction(5, 1000), "0.5 %"),
])
def test_percentages_round_half_up_to_two_decimals(value: Fraction, shown: str) -> None:
    assert percent(value) == shown


def test_a_percentage_next_to_its_threshold_never_reads_as_the_threshold() -> None:
    assert percent(Fraction(300000003, 10**9), Fraction(3, 10)) == "30.0000003 %"
    assert percent(Fraction(29999, 100000), Fraction(3, 10)) == "29.999 %"
    assert percent(Fraction(3, 10), Fraction(3, 10)) == "30 %"  # equal is equal
    assert percent(Fraction(1, 3), Fraction(3, 10)) == "33.33 %"  # far enough: the usual two decimals


def test_multiples_round_half_up_to_two_decimals() -> None:
    assert times(Fraction(49, 10)) == "4.9×" and times(Fraction(13, 10)) == "1.3×"
    assert times(Fraction(4, 3)) == "1.33×" and times(Fraction(1005, 1000)) == "1.01×"
    assert times(Fraction(110000001, 10**8), Fraction(11, 10)) == "1.10000001×"


def test_durations_round_half_up_to_one_decimal() -> None:
    assert duration_hours(T0, T0 + timedelta(hours=48)) == "48"
    assert duration_hours(T0, T0 + timedelta(minutes=90)) == "1.5"
    assert duration_days(T0, T0 + timedelta(days=180)) == "180"
    assert duration_days(T0, T0 + timedelta(days=2, hours=6)) == "2.3"  # 2.25 half-up
    assert duration_days(T0, T0 + timedelta(days=29, hours=23)) == "30"
    assert duration_days(T0, T0 + timedelta(days=29, hours=23), 30) == "29.96"  # against a 30-day threshold


def test_evidence_decimals_and_whole_tiyn() -> None:
    assert decimal_text(Fraction(23, 25), 4) == "0.9200" and decimal_text(Fraction(23, 25), 4, strip=True) == "0.92"
    assert decimal_text(Fraction(150000000002, 10**12), 6, strip=True, against=Fraction(15, 100)) == "0.150000000002"
    assert round_half_up(Fraction(5, 2)) == 3 and round_half_up(Fraction(7, 2)) == 4 and round_half_up(Fraction(-5, 2)) == -3


def rule_sources() -> dict[str, str]:
    paths = [RULES_DIR / f"{name}.py" for name in registry.MODULES] + [RULES_DIR / "item_prices.py"]
    return {path.name: path.read_text(encoding="utf-8") for path in paths}


def test_no_rule_formats_numbers_its_own_way() -> None:
    """Amounts, shares, multiples and durations go through wording.py: no rule module rounds or
    formats money itself, or glues a unit to a number in an f-string."""
    for name, source in rule_sources().items():
        assert "format_kzt" not in source and "quantize" not in source and "ROUND_" not in source, name
        assert not re.search(r"\}\s?(%|×)", source), f"{name} writes a % or × after a number itself"
        assert not re.search(r"\[:10\]|\.date\(\)", source), f"{name} cuts a date out of a time itself (use local_date)"
