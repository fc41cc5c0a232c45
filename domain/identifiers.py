"""Identifiers of the external contract (SPEC §2): party ids, colors, command ids, VINs.

Parsers take whatever came from outside (`object`), accept only the exact shapes of the SPEC
(ASCII only, always `re.fullmatch`) and raise `InvalidValue` saying what is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.errors import InvalidValue

_SHOW_CHARS_MAX = 40

# --- Parties: BIN / IIN (SPEC §2.1) ---------------------------------------------------------------

_PARTY_ID_PATTERN = re.compile(r"[0-9]{12}")
_PARTY_FIRST11_PATTERN = re.compile(r"[0-9]{11}")
_PARTY_WEIGHTS_1 = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_PARTY_WEIGHTS_2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


def party_check_digit(first11: str) -> int | None:
    """The BIN/IIN check digit of 11 digits, or None when both weightings give 10."""
    assert isinstance(first11, str) and _PARTY_FIRST11_PATTERN.fullmatch(first11), first11
    digits = [int(char) for char in first11]
    for weights in (_PARTY_WEIGHTS_1, _PARTY_WEIGHTS_2):
        check = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if check != 10:
            return check
    return None


def make_party_id(first11: str) -> str | None:
    """Append the check digit to 11 digits; None if no check digit exists."""
    check = party_check_digit(first11)
    party_id = None if check is None else f"{first11}{check}"
    assert party_id is None or is_valid_party_id(party_id), party_id
    return party_id


def parse_party_id(text: object) -> str:
    """Return a valid BIN/IIN unchanged; raise InvalidValue naming the problem."""
    if not isinstance(text, str) or _PARTY_ID_PATTERN.fullmatch(text) is None:
        raise InvalidValue(f"party id (BIN/IIN) must be a string of 12 digits, got {_show(text)}")
    check = party_check_digit(text[:11])
    if check is None:
        raise InvalidValue(f"party id {text} has no valid check digit (both weightings give 10)")
    if int(text[11]) != check:
        raise InvalidValue(f"party id {text} has a wrong check digit (mistyped?)")
    return text


def is_valid_party_id(text: object) -> bool:
    """Whether `text` is a valid BIN/IIN."""
    try:
        parse_party_id(text)
    except InvalidValue:
        return False
    return True


# --- Colors (SPEC §2.2) ---------------------------------------------------------------------------

PILOTS = ("ROAD", "AGRO", "LOCAL")

# The pilot part takes any ASCII letters so that "road-…" or "RAOD-…" is reported as an unknown
# pilot rather than as a wrong shape.
_COLOR_PATTERN = re.compile(r"([A-Za-z]+)-([0-9]{4})-([0-9]{3})-([0-9]{6})-([0-9]{2})")
_COLOR_EXAMPLE = "ROAD-2025-041-000123-23 ({PILOT}-{FY}-{PROGRAM}-{SEQ}-{CC})"
_FISCAL_YEAR_MAX = 9999
_PROGRAM_MAX = 999
_SEQ_MAX = 999_999


@dataclass(frozen=True)
class ColorId:
    """A parsed, valid color; `text` is the color exactly as written."""

    pilot: str
    fiscal_year: int
    program: str
    seq: str
    text: str


def color_check_digits(pilot: str, fiscal_year: int, program: str, seq: str) -> str:
    """The two ISO 7064 MOD 97-10 check digits of a color, as in IBAN ("02".."98")."""
    assert pilot in PILOTS, pilot
    assert isinstance(fiscal_year, int) and 0 <= fiscal_year <= _FISCAL_YEAR_MAX, fiscal_year
    assert isinstance(program, str) and re.fullmatch(r"[0-9]{3}", program), program
    assert isinstance(seq, str) and re.fullmatch(r"[0-9]{6}", seq), seq
    remainder = _mod97(f"{pilot}{fiscal_year:04d}{program}{seq}00")
    check = 98 - remainder
    assert 2 <= check <= 98
    return f"{check:02d}"


def make_color(pilot: str, fiscal_year: int, program: int | str, seq: int | str) -> str:
    """Build a color, zero-padding program to 3 and seq to 6 digits, with its check digits."""
    if pilot not in PILOTS:
        raise InvalidValue(f"color pilot must be one of {', '.join(PILOTS)}, got {_show(pilot)}")
    if not isinstance(fiscal_year, int) or isinstance(fiscal_year, bool):
        raise InvalidValue(f"color fiscal year must be an int, got {_show(fiscal_year)}")
    fy = _bounded_number("fiscal year", fiscal_year, 1000, _FISCAL_YEAR_MAX)
    program_text = f"{_bounded_number('budget program', program, 0, _PROGRAM_MAX):03d}"
    seq_text = f"{_bounded_number('sequence number', seq, 0, _SEQ_MAX):06d}"
    check = color_check_digits(pilot, fy, program_text, seq_text)
    color = f"{pilot}-{fy:04d}-{program_text}-{seq_text}-{check}"
    assert is_valid_color(color), color
    return color


def parse_color(text: object) -> ColorId:
    """Parse and check a color; raise InvalidValue for wrong shape, pilot or check digits."""
    match = _COLOR_PATTERN.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidValue(f"color must look like {_COLOR_EXAMPLE}, got {_show(text)}")
    assert isinstance(text, str)
    pilot, fy_text, program, seq, check = match.groups()
    if pilot not in PILOTS:
        raise InvalidValue(
            f"color {_show(text)} has an unknown pilot {_show(pilot)} "
            f"(must be one of {', '.join(PILOTS)}, upper-case)"
        )
    # Valid iff n mod 97 == 1 with CC in place of 00 (SPEC §2.2). CC must also be the canonical
    # 02..98 (ISO 7064 never computes 00, 01 or 99), so that each color has one spelling only.
    canonical = 2 <= int(check) <= 98
    if not canonical or _mod97(f"{pilot}{fy_text}{program}{seq}{check}") != 1:
        raise InvalidValue(f"color {text} has wrong check digits {check} (mistyped?)")
    color = ColorId(pilot=pilot, fiscal_year=int(fy_text), program=program, seq=seq, text=text)
    assert f"{color.pilot}-{color.fiscal_year:04d}-{color.program}-{color.seq}-{check}" == text, "one spelling per color"
    return color


def is_valid_color(text: object) -> bool:
    """Whether `text` is a valid color."""
    try:
        parse_color(text)
    except InvalidValue:
        return False
    return True


def _mod97(alphanumeric: str) -> int:
    """ISO 7064 MOD 97-10 remainder of an upper-case alphanumeric string, letters A=10 … Z=35."""
    assert re.fullmatch(r"[A-Z0-9]+", alphanumeric), alphanumeric
    digits = "".join(str(int(char, 36)) for char in alphanumeric)
    return int(digits) % 97


def _bounded_number(name: str, value: int | str, low: int, high: int) -> int:
    """An int from an int or a string of ASCII digits no wider than `high`, in [low, high]."""
    if isinstance(value, str) and re.fullmatch(rf"[0-9]{{1,{len(str(high))}}}", value):
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise InvalidValue(
            f"color {name} must be an int or a string of up to {len(str(high))} digits, "
            f"got {_show(value)}"
        )
    if not low <= number <= high:
        raise InvalidValue(f"color {name} must be between {low} and {high}, got {number}")
    return number


# --- Command ids (SPEC §2.3) ----------------------------------------------------------------------

COMMAND_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


def parse_command_id(text: object) -> str:
    """Return a valid command id unchanged; raise InvalidValue otherwise."""
    if not isinstance(text, str) or COMMAND_ID_PATTERN.fullmatch(text) is None:
        raise InvalidValue(
            "command id must be 1 to 64 characters of A-Z a-z 0-9 . _ : -, starting with a "
            f"letter or digit, got {_show(text)}"
        )
    assert text.isascii() and 1 <= len(text) <= 64, text
    return text


# --- Vehicle identification numbers (SPEC §2.4) ---------------------------------------------------

# Matched before upper-casing: str.upper() maps some non-ASCII characters to ASCII ('ı' -> 'I').
_VIN_PATTERN = re.compile(r"[A-HJ-NPR-Za-hj-npr-z0-9]{17}")


def normalize_vin(text: object) -> str:
    """Upper-case a VIN and remove spaces and dashes; 17 chars without I, O, Q or InvalidValue."""
    compact = text.replace(" ", "").replace("-", "") if isinstance(text, str) else None
    if compact is None or _VIN_PATTERN.fullmatch(compact) is None:
        raise InvalidValue(
            "VIN must be 17 characters A-Z 0-9 without I, O, Q (spaces and dashes ignored), "
            f"got {_show(text)}"
        )
    vin = compact.upper()
    assert len(vin) == 17 and vin.isascii() and not set(vin) & set("IOQ"), vin
    return vin


def _show(value: object) -> str:
    """A short repr of a rejected value for error messages."""
    shown = repr(value)
    if len(shown) > _SHOW_CHARS_MAX:
        shown = shown[: _SHOW_CHARS_MAX - 3] + "..."
    return shown
