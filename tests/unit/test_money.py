"""Unit tests of domain.money: KZT parsing and printing, quantities, line totals (SPEC §1)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidValue, LedgerError
from domain.money import (
    format_kzt,
    line_total_tiyn,
    parse_decimal,
    parse_kzt,
)


@pytest.mark.parametrize(
    ("text", "amount_tiyn"),
    [
        ("1500000", 150_000_000),
        ("1500000.5", 150_000_050),
        ("1500000.50", 150_000_050),
        ("1500000.05", 150_000_005),
        ("0.01", 1),
        ("0.1", 10),
        ("0", 0),
        ("0.00", 0),
        ("007", 700),
        ("1", 100),
        ("999999999999999", 99_999_999_999_999_900),  # 15 digits: the largest whole amount
        ("999999999999999.99", 99_999_999_999_999_999),
        ("100000000000000", 10_000_000_000_000_000),
    ],
)
def test_parse_kzt_accepts_the_spec_shape(text: str, amount_tiyn: int) -> None:
    assert parse_kzt(text) == amount_tiyn
    assert type(parse_kzt(text)) is int


MALFORMED_AMOUNTS = [
    # JSON numbers and other non-strings
    1500000,
    1500000.5,
    0,
    True,
    False,
    None,
    Decimal("1500000"),
    b"1500000",
    ["1500000"],
    {"amount": "1500000"},
    # signs
    "-1",
    "+1",
    "-0",
    "-1500000.50",
    # exponents
    "1e6",
    "1E6",
    "1.5e6",
    "15e-1",
    # a third decimal
    "1.001",
    "1500000.500",
    "0.005",
    # spaces and other whitespace
    " 1",
    "1 ",
    "1 500 000",
    "1\u00a0500",
    "1\t",
    "1\n",  # `$` would match before this trailing newline; fullmatch must not
    "\n1",
    # empty and dangling dots
    "",
    ".",
    "1.",
    ".5",
    "1..5",
    "1.5.0",
    # other separators
    "1,5",
    "1,500,000",
    "1_500_000",
    "1'500'000",
    # non-ASCII digits that \d and str.isdigit accept
    "\u0661",  # ARABIC-INDIC DIGIT ONE
    "\u0661\u0662",
    "1\u0660",
    "\uff11",  # FULLWIDTH DIGIT ONE
    "1.\u0665",
    "\u00b2",  # SUPERSCRIPT TWO (isdigit() is True)
    # special values and words
    "NaN",
    "Infinity",
    "inf",
    "0x10",
    "KZT 1",
    "1 KZT",
    "1₸",
    # too many digits: 16 before the point
    "1000000000000000",
    "9999999999999999",
    "0000000000000000",
    "1000000000000000.00",
]


@pytest.mark.parametrize("text", MALFORMED_AMOUNTS, ids=repr)
def test_parse_kzt_rejects_malformed_amounts(text: object) -> None:
    with pytest.raises(InvalidValue, match="amount must be a string of KZT"):
        parse_kzt(text)


def test_invalid_amount_is_a_ledger_value_error() -> None:
    with pytest.raises(ValueError):
        parse_kzt("1,5")
    with pytest.raises(LedgerError):
        parse_kzt("1,5")


def test_parse_kzt_message_names_the_rejected_value() -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_kzt(1500000)
    message = str(caught.value)
    assert '"1500000.50"' in message
    assert "got 1500000" in message


def test_parse_kzt_message_is_short_for_huge_input() -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_kzt("9" * 100_000)
    assert len(str(caught.value)) < 200


def test_parse_kzt_fifteen_digits_ok_sixteen_not() -> None:
    assert parse_kzt("1" * 15) == int("1" * 15) * 100
    assert parse_kzt("1" * 15 + ".99") == int("1" * 15) * 100 + 99
    with pytest.raises(InvalidValue):
        parse_kzt("1" * 16)


@pytest.mark.parametrize(
    ("amount_tiyn", "text"),
    [
        (150_000_050, "1500000.50"),
        (150_000_000, "1500000.00"),
        (150_000_005, "1500000.05"),
        (5, "0.05"),
        (10, "0.10"),
        (99, "0.99"),
        (100, "1.00"),
        (0, "0.00"),
        (-1230, "-12.30"),
        (-5, "-0.05"),
        (99_999_999_999_999_999, "999999999999999.99"),
    ],
)
def test_format_kzt_prints_two_decimals(amount_tiyn: int, text: str) -> None:
    assert format_kzt(amount_tiyn) == text


@pytest.mark.parametrize("amount", [True, False, 1.5, Decimal(1), "100", None])
def test_format_kzt_asserts_an_int(amount: object) -> None:
    with pytest.raises(AssertionError):
        format_kzt(amount)  # type: ignore[arg-type]


@given(st.integers(min_value=0, max_value=10**17 - 1))
def test_parse_format_round_trip(amount_tiyn: int) -> None:
    assert parse_kzt(format_kzt(amount_tiyn)) == amount_tiyn


@given(st.from_regex(r"\A[0-9]{1,15}(\.[0-9]{1,2})?\Z", fullmatch=True))
def test_every_spec_shaped_string_parses_to_its_value(text: str) -> None:
    # An independent reading of the string: KZT * 100 + tiyn, via Decimal.
    assert parse_kzt(text) == int(Decimal(text) * 100)
    assert parse_kzt(format_kzt(parse_kzt(text))) == parse_kzt(text)


@given(st.text(max_size=20))
def test_parse_kzt_accepts_nothing_outside_the_spec_shape(text: str) -> None:
    is_spec_shaped = (
        text != ""
        and all(char in "0123456789." for char in text)
        and text.count(".") <= 1
        and 1 <= len(text.split(".")[0]) <= 15
        and ("." not in text or 1 <= len(text.split(".")[1]) <= 2)
    )
    if is_spec_shaped:
        assert parse_kzt(text) >= 0
    else:
        with pytest.raises(InvalidValue):
            parse_kzt(text)


# --- parse_decimal --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "quantity"),
    [
        ("12.5", Decimal("12.5")),
        ("7.5", Decimal("7.5")),
        ("6", Decimal("6")),
        ("0", Decimal("0")),
        ("0.000001", Decimal("0.000001")),
        ("999999999999.999999", Decimal("999999999999.999999")),
        ("007.50", Decimal("7.5")),
    ],
)
def test_parse_decimal_accepts_quantities(text: str, quantity: Decimal) -> None:
    parsed = parse_decimal(text)
    assert isinstance(parsed, Decimal)
    assert parsed == quantity


@pytest.mark.parametrize(
    "text",
    [
        12.5,
        12,
        True,
        None,
        Decimal("12.5"),
        "",
        " 12.5",
        "12.5 ",
        "12.5\n",
        "-12.5",
        "+12.5",
        "1e3",
        "12.",
        ".5",
        "12,5",
        "1.2.3",
        "NaN",
        "Infinity",
        "\u0661\u0662",
        "1\uff12",
        "1" * 13,  # 13 integer digits
        "1.1234567",  # 7 decimals
    ],
    ids=repr,
)
def test_parse_decimal_rejects_malformed_quantities(text: object) -> None:
    with pytest.raises(InvalidValue, match="quantity must be a decimal string"):
        parse_decimal(text)


def test_parse_decimal_limits_are_configurable() -> None:
    assert parse_decimal("123", max_int_digits=3) == Decimal(123)
    with pytest.raises(InvalidValue):
        parse_decimal("1234", max_int_digits=3)
    assert parse_decimal("1.25", max_frac_digits=2) == Decimal("1.25")
    with pytest.raises(InvalidValue):
        parse_decimal("1.255", max_frac_digits=2)
    assert parse_decimal("7", max_frac_digits=0) == Decimal(7)
    with pytest.raises(InvalidValue):
        parse_decimal("7.5", max_frac_digits=0)


# --- line_total_tiyn ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "unit_price_tiyn", "total_tiyn"),
    [
        ("12.5", 100_000, 1_250_000),
        ("1", 150_000_050, 150_000_050),
        ("0", 999, 0),
        ("3", 0, 0),
        ("0.5", 1, 1),  # exactly half a tiyn rounds up
        ("0.5", 3, 2),  # 1.5 -> 2
        ("0.5", 5, 3),  # 2.5 -> 3 (half-up, not banker's rounding)
        ("0.25", 1, 0),  # 0.25 -> 0
        ("0.75", 1, 1),  # 0.75 -> 1
        ("0.333333", 3, 1),  # 0.999999 -> 1
        ("1.000001", 499_999, 499_999),  # 499999.499999 -> 499999
        ("1.000001", 500_000, 500_001),  # 500000.5 -> 500001
        # the largest sizes the format allows: 12+6 digit quantity × 17 digit price, exact
        (
            "999999999999.999999",
            99_999_999_999_999_999,
            (999_999_999_999_999_999 * 99_999_999_999_999_999 + 500_000) // 1_000_000,
        ),
    ],
)
def test_line_total_rounds_half_up(quantity: str, unit_price_tiyn: int, total_tiyn: int) -> None:
    assert line_total_tiyn(Decimal(quantity), unit_price_tiyn) == total_tiyn


@given(
    quantity_millionths=st.integers(min_value=0, max_value=10**18 - 1),
    unit_price_tiyn=st.integers(min_value=0, max_value=10**17 - 1),
)
def test_line_total_matches_integer_arithmetic(
    quantity_millionths: int, unit_price_tiyn: int
) -> None:
    # Independent: with quantity = q / 10**6, half-up is floor((q * p + 5 * 10**5) / 10**6).
    quantity = Decimal(quantity_millionths).scaleb(-6)
    expected_tiyn = (quantity_millionths * unit_price_tiyn + 500_000) // 1_000_000
    assert line_total_tiyn(quantity, unit_price_tiyn) == expected_tiyn


@pytest.mark.parametrize(
    ("quantity", "unit_price_tiyn"),
    [
        (1.5, 100),
        (Decimal("-1"), 100),
        (Decimal("NaN"), 100),
        (Decimal("Infinity"), 100),
        (Decimal("1"), -100),
        (Decimal("1"), 1.0),
        (Decimal("1"), True),
    ],
)
def test_line_total_asserts_its_arguments(quantity: object, unit_price_tiyn: object) -> None:
    with pytest.raises(AssertionError):
        line_total_tiyn(quantity, unit_price_tiyn)  # type: ignore[arg-type]
