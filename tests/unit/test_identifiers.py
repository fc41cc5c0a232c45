"""Unit tests of domain.identifiers: BIN/IIN, colors, command ids, VINs (SPEC §2).

The checksums are checked against second, deliberately naive implementations written here
straight from the SPEC text, not against the module's own output.
"""

from __future__ import annotations

import string
from dataclasses import FrozenInstanceError

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.errors import InvalidValue
from domain.identifiers import (
    COMMAND_ID_PATTERN,
    PILOTS,
    ColorId,
    color_check_digits,
    is_valid_color,
    is_valid_party_id,
    make_color,
    make_party_id,
    normalize_vin,
    parse_color,
    parse_command_id,
    parse_party_id,
    party_check_digit,
)

# --- Reference implementations (SPEC §2.1, §2.2) --------------------------------------------------


def reference_party_sums(first11: str) -> tuple[int, int]:
    """The two weighted sums mod 11 of SPEC §2.1."""
    w1 = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    w2 = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]
    s1 = 0
    s2 = 0
    for i in range(11):
        s1 += int(first11[i]) * w1[i]
        s2 += int(first11[i]) * w2[i]
    return s1 % 11, s2 % 11


def reference_party_valid(party_id: str) -> bool:
    s1, s2 = reference_party_sums(party_id[:11])
    s = s1 if s1 != 10 else s2
    return s != 10 and int(party_id[11]) == s


LETTER_VALUES = {letter: str(10 + i) for i, letter in enumerate(string.ascii_uppercase)}


def reference_color_number(alphanumeric: str) -> int:
    return int("".join(LETTER_VALUES.get(char, char) for char in alphanumeric))


def reference_color_cc(pilot: str, fy: int, program: int, seq: int) -> str:
    n = reference_color_number(pilot + str(fy).zfill(4) + str(program).zfill(3) + str(seq).zfill(6))
    n = n * 100  # append "00"
    return str(98 - n % 97).zfill(2)


def reference_color_valid(color: str) -> bool:
    return reference_color_number(color.replace("-", "")) % 97 == 1


digits11 = st.text(alphabet="0123456789", min_size=11, max_size=11)

# --- Parties: BIN / IIN ---------------------------------------------------------------------------


def test_spec_party_examples() -> None:
    assert is_valid_party_id("040612345679")
    assert parse_party_id("040612345679") == "040612345679"
    assert not is_valid_party_id("040612345678")
    assert party_check_digit("04061234567") == 9
    assert make_party_id("04061234567") == "040612345679"


def test_party_check_digit_uses_second_weighting_when_first_gives_10() -> None:
    # Find a prefix whose first sum is 10 but second is not, from the reference.
    first11 = next(
        f"{n:011d}"
        for n in range(10**11)
        if reference_party_sums(f"{n:011d}")[0] == 10 and reference_party_sums(f"{n:011d}")[1] != 10
    )
    s1, s2 = reference_party_sums(first11)
    assert s1 == 10
    assert party_check_digit(first11) == s2
    assert is_valid_party_id(f"{first11}{s2}")


def test_party_id_impossible_when_both_weightings_give_10() -> None:
    first11 = next(
        f"{n:011d}" for n in range(10**11) if reference_party_sums(f"{n:011d}") == (10, 10)
    )
    assert party_check_digit(first11) is None
    assert make_party_id(first11) is None
    for last in "0123456789":
        assert not is_valid_party_id(first11 + last)
        with pytest.raises(InvalidValue, match="no valid check digit"):
            parse_party_id(first11 + last)


@given(digits11)
def test_party_make_then_valid_and_other_check_digits_invalid(first11: str) -> None:
    party_id = make_party_id(first11)
    s1, s2 = reference_party_sums(first11)
    if party_id is None:
        assert (s1, s2) == (10, 10)
        return
    assert party_id[:11] == first11
    assert reference_party_valid(party_id)
    assert is_valid_party_id(party_id)
    assert parse_party_id(party_id) == party_id
    for other in "0123456789":
        if other != party_id[11]:
            mistyped = first11 + other
            assert not is_valid_party_id(mistyped)
            with pytest.raises(InvalidValue, match="wrong check digit"):
                parse_party_id(mistyped)


@given(digits11, st.integers(min_value=0, max_value=10), st.integers(min_value=1, max_value=9))
def test_party_single_digit_change_caught_except_known_corners(
    first11: str, position: int, delta: int
) -> None:
    """A single-digit change is caught unless it is in position 11 (weight 11 ≡ 0 mod 11)
    or the original or the changed number falls back to the second weighting (s == 10)."""
    party_id = make_party_id(first11)
    assume(party_id is not None)
    assert party_id is not None
    changed_digit = str((int(party_id[position]) + delta) % 10)
    mistyped = party_id[:position] + changed_digit + party_id[position + 1 :]
    assert is_valid_party_id(mistyped) == reference_party_valid(mistyped)
    if is_valid_party_id(mistyped):
        original_s1 = reference_party_sums(party_id[:11])[0]
        mistyped_s1 = reference_party_sums(mistyped[:11])[0]
        assert position == 10 or original_s1 == 10 or mistyped_s1 == 10


def test_party_eleventh_digit_blind_spot_of_the_spec_algorithm() -> None:
    # Weight 11 ≡ 0 (mod 11): with the first weighting, digit 11 does not affect the check.
    # This is the SPEC's algorithm (as used for real BIN/IIN), documented here, not a bug.
    assert is_valid_party_id("040612345679")
    assert is_valid_party_id("040612345689")


@pytest.mark.parametrize(
    "text",
    [
        40612345679,
        "40612345679",  # 11 digits (leading zero lost)
        "0406123456790",  # 13 digits
        "",
        " 040612345679",
        "040612345679 ",
        "040612345679\n",
        "0406-1234-5679",
        "04061234567a",
        "\u0660\u0664\u0660\u0666\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0669",  # Arabic-Indic
        "\uff10\uff14\uff10\uff16\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff19",  # fullwidth
        None,
        True,
        b"040612345679",
    ],
    ids=repr,
)
def test_party_id_wrong_shape(text: object) -> None:
    assert not is_valid_party_id(text)
    with pytest.raises(InvalidValue, match="12 digits"):
        parse_party_id(text)


@pytest.mark.parametrize("first11", ["0406123456", "040612345678", "0406123456a", ""])
def test_party_check_digit_asserts_eleven_digits(first11: str) -> None:
    with pytest.raises(AssertionError):
        party_check_digit(first11)


# --- Colors ---------------------------------------------------------------------------------------

SPEC_COLOR = "ROAD-2025-041-000123-23"


def test_spec_color_example_against_reference() -> None:
    expected_cc = reference_color_cc("ROAD", 2025, 41, 123)
    assert expected_cc == "23"  # the SPEC's own example agrees with the reference
    assert color_check_digits("ROAD", 2025, "041", "000123") == expected_cc
    assert make_color("ROAD", 2025, 41, 123) == f"ROAD-2025-041-000123-{expected_cc}"
    assert make_color("ROAD", 2025, "041", "000123") == SPEC_COLOR
    assert make_color("ROAD", 2025, "41", "123") == SPEC_COLOR
    assert reference_color_valid(SPEC_COLOR)
    assert is_valid_color(SPEC_COLOR)


def test_parse_color_fields() -> None:
    color = parse_color(SPEC_COLOR)
    assert color == ColorId(
        pilot="ROAD", fiscal_year=2025, program="041", seq="000123", text=SPEC_COLOR
    )
    with pytest.raises(FrozenInstanceError):
        color.pilot = "AGRO"  # type: ignore[misc]


@pytest.mark.parametrize("pilot", PILOTS)
def test_every_pilot_makes_valid_colors(pilot: str) -> None:
    color = make_color(pilot, 2026, 7, 42)
    assert color == f"{pilot}-2026-007-000042-{reference_color_cc(pilot, 2026, 7, 42)}"
    assert parse_color(color).pilot == pilot


colors = st.builds(
    lambda pilot, fy, program, seq: (pilot, fy, program, seq),
    st.sampled_from(PILOTS),
    st.integers(min_value=1000, max_value=9999),
    st.integers(min_value=0, max_value=999),
    st.integers(min_value=0, max_value=999_999),
)


@given(colors)
def test_make_color_agrees_with_reference(parts: tuple[str, int, int, int]) -> None:
    pilot, fy, program, seq = parts
    color = make_color(pilot, fy, program, seq)
    assert color == f"{pilot}-{fy}-{program:03d}-{seq:06d}-{reference_color_cc(*parts)}"
    assert reference_color_valid(color)
    parsed = parse_color(color)
    assert (parsed.pilot, parsed.fiscal_year, parsed.program, parsed.seq, parsed.text) == (
        pilot,
        fy,
        f"{program:03d}",
        f"{seq:06d}",
        color,
    )


def digit_positions(color: str) -> list[int]:
    return [i for i, char in enumerate(color) if char.isascii() and char.isdigit()]


@given(colors, st.data())
def test_color_single_digit_change_detected(
    parts: tuple[str, int, int, int], data: st.DataObject
) -> None:
    color = make_color(*parts)
    position = data.draw(st.sampled_from(digit_positions(color)))
    new_digit = data.draw(st.sampled_from([d for d in "0123456789" if d != color[position]]))
    mistyped = color[:position] + new_digit + color[position + 1 :]
    assert not reference_color_valid(mistyped)
    assert not is_valid_color(mistyped)


@given(colors, st.data())
def test_color_swapped_adjacent_digits_detected(
    parts: tuple[str, int, int, int], data: st.DataObject
) -> None:
    color = make_color(*parts)
    positions = digit_positions(color)
    # Adjacent in the digit string, also across a dash ("2025-041" -> "2020-541").
    pairs = [(a, b) for a, b in zip(positions, positions[1:]) if color[a] != color[b]]
    assume(pairs)
    a, b = data.draw(st.sampled_from(pairs))
    chars = list(color)
    chars[a], chars[b] = chars[b], chars[a]
    swapped = "".join(chars)
    assert not reference_color_valid(swapped)
    assert not is_valid_color(swapped)
    with pytest.raises(InvalidValue, match="check digits"):
        parse_color(swapped)


@pytest.mark.parametrize(
    "color",
    [
        "ROAD-2025-041-000123-32",  # check digits swapped
        "ROAD-2025-014-000123-23",  # program digits swapped
        "ROAD-2025-041-000132-23",  # seq digits swapped
        "ROAD-2052-041-000123-23",  # year digits swapped
        "ROAD-2025-041-000124-23",  # one digit changed
        "AGRO-2025-041-000123-23",  # another pilot with ROAD's check digits
        "ROAD-2025-041-000123-00",
        "ROAD-2025-041-000123-99",
    ],
)
def test_mistyped_colors_have_bad_check_digits(color: str) -> None:
    assert not is_valid_color(color)
    with pytest.raises(InvalidValue, match="check digits"):
        parse_color(color)


def test_only_canonical_check_digits_are_accepted() -> None:
    # 98 − r lies in 02..98. CC "01", "00", "99" are congruent to 98, 97, 02 mod 97 and so
    # satisfy n mod 97 == 1 too; they are rejected so that each color has one spelling only.
    aliases = {"98": "01", "97": "00", "02": "99"}
    found: dict[str, str] = {}
    seq = 0
    while len(found) < len(aliases):
        cc = reference_color_cc("ROAD", 2025, 41, seq)
        if cc in aliases and cc not in found:
            found[cc] = f"ROAD-2025-041-{seq:06d}-"
        seq += 1
    for cc, prefix in found.items():
        assert is_valid_color(prefix + cc)
        alias = prefix + aliases[cc]
        assert reference_color_valid(alias)  # n mod 97 == 1 ...
        assert not is_valid_color(alias)  # ... but not the canonical check digits
        with pytest.raises(InvalidValue, match="check digits"):
            parse_color(alias)


@pytest.mark.parametrize(
    "color",
    [
        "RAOD-2025-041-000123-23",
        "ROADS-2025-041-000123-23",
        "AGRI-2025-041-000123-23",
        "LOCALE-2025-041-000123-23",
        "road-2025-041-000123-23",  # lower case
        "Road-2025-041-000123-23",
        "agro-2025-041-000123-23",
        "X-2025-041-000123-23",
    ],
)
def test_unknown_pilot(color: str) -> None:
    assert not is_valid_color(color)
    with pytest.raises(InvalidValue, match="unknown pilot"):
        parse_color(color)


@pytest.mark.parametrize(
    "color",
    [
        "",
        "ROAD",
        "ROAD-2025-041-000123",  # no check digits
        "ROAD-025-041-000123-23",  # FY 3 digits
        "ROAD-20250-041-000123-23",  # FY 5 digits
        "ROAD-2025-41-000123-23",  # program 2 digits
        "ROAD-2025-0041-000123-23",  # program 4 digits
        "ROAD-2025-041-00123-23",  # seq 5 digits
        "ROAD-2025-041-0000123-23",  # seq 7 digits
        "ROAD-2025-041-000123-3",  # CC 1 digit
        "ROAD-2025-041-000123-023",  # CC 3 digits
        "ROAD2025041000123-23",
        "ROAD-2025-041-000123-23-",
        "-ROAD-2025-041-000123-23",
        "ROAD--2025-041-000123-23",
        "ROAD_2025_041_000123_23",
        "ROAD 2025 041 000123 23",
        " ROAD-2025-041-000123-23",
        "ROAD-2025-041-000123-23 ",
        "ROAD-2025-041-000123-23\n",
        "ROAD\u20132025-041-000123-23",  # en dash
        "ROAD-\u0662\u0660\u0662\u0665-041-000123-23",  # Arabic-Indic year
        "ROAD-2025-041-000123-\uff12\uff13",  # fullwidth check digits
        "ROAD-2025-041-00012A-23",
        "\u0420OAD-2025-041-000123-23",  # Cyrillic Р
        None,
        20250410001,
        b"ROAD-2025-041-000123-23",
    ],
    ids=repr,
)
def test_color_wrong_shape(color: object) -> None:
    assert not is_valid_color(color)
    with pytest.raises(InvalidValue, match="color must look like"):
        parse_color(color)


@pytest.mark.parametrize(
    ("pilot", "fiscal_year", "program", "seq"),
    [
        ("road", 2025, 41, 123),
        ("FARM", 2025, 41, 123),
        ("ROAD", 999, 41, 123),
        ("ROAD", 10000, 41, 123),
        ("ROAD", 2025, 1000, 123),
        ("ROAD", 2025, -1, 123),
        ("ROAD", 2025, 41, 1_000_000),
        ("ROAD", 2025, "0041", 123),
        ("ROAD", 2025, 41, "1234567"),
        ("ROAD", 2025, "4a", 123),
        ("ROAD", 2025, " 41", 123),
        ("ROAD", 2025, True, 123),
        ("ROAD", "2025", 41, 123),
        ("ROAD", 2025, 41.0, 123),
    ],
)
def test_make_color_rejects_bad_parts(
    pilot: str, fiscal_year: int, program: object, seq: object
) -> None:
    with pytest.raises(InvalidValue):
        make_color(pilot, fiscal_year, program, seq)  # type: ignore[arg-type]


# --- VINs -----------------------------------------------------------------------------------------

VIN = "1HGCM82633A004352"


@pytest.mark.parametrize(
    "text",
    [
        VIN,
        VIN.lower(),
        "1hgCM82633a004352",
        "1HG-CM826-33A004352",
        "1HG CM826 33A 004352",
        " 1HGCM82633A004352 ",
        "1-H-G-C-M-8-2-6-3-3-A-0-0-4-3-5-2",
        "--1HGCM82633A004352--",
    ],
)
def test_vin_normalised(text: str) -> None:
    assert normalize_vin(text) == VIN


def test_vin_alphabet() -> None:
    allowed = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
    for char in allowed:
        assert normalize_vin(char * 17) == char * 17
        assert normalize_vin(char.lower() * 17) == char * 17


@pytest.mark.parametrize(
    "text",
    [
        "1HGCM82633A00435I",  # I
        "1HGCM82633A00435O",  # O
        "1HGCM82633A00435Q",  # Q
        "1hgcm82633a00435i",
        "1hgcm82633a00435o",
        "1hgcm82633a00435q",
        VIN[:16],  # 16 characters
        VIN + "1",  # 18 characters
        "",
        " - ",
        "1HGCM82633A00435\u0131",  # dotless ı: "ı".upper() == "I"
        "1HGCM82633A00435\u017f",  # long s: "ſ".upper() == "S"
        "\uff11HGCM82633A004352",  # fullwidth 1
        "1HGCM82633A00435\u0663",  # Arabic-Indic 3
        "1HGCM82633A004352\n",
        "1HGCM82633A00\t4352",
        "1HGCM82633A004_352",
        "1HGCM82633A004.352",
        None,
        12345678901234567,
        b"1HGCM82633A004352",
    ],
    ids=repr,
)
def test_vin_rejected(text: object) -> None:
    with pytest.raises(InvalidValue, match="VIN must be 17 characters"):
        normalize_vin(text)


# --- Command ids ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a",
        "Z",
        "7",
        "a" * 64,
        "0" + "._:-" * 15 + "abc",
        "tx-2025:0001.a_b",
        "2025-03-01T10:00:00",
        "ROAD-2025-041-000123-23",
    ],
)
def test_command_id_accepted(text: str) -> None:
    assert parse_command_id(text) == text
    assert COMMAND_ID_PATTERN.fullmatch(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a" * 65,
        ".a",
        "-a",
        "_a",
        ":a",
        ".",
        "a b",
        " a",
        "a ",
        "a\n",
        "a/b",
        "a@b",
        "a+b",
        "caf\u00e9",
        "\u0661",
        "a\u0661",
        "\uff41",
        None,
        42,
        b"a",
    ],
    ids=repr,
)
def test_command_id_rejected(text: object) -> None:
    with pytest.raises(InvalidValue, match="command id"):
        parse_command_id(text)
