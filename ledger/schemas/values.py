"""The value types of the interchange format (SPEC §1–§3), each declared once.

Every field of every command model is one of these `Annotated` types. Each carries:
- the checks (a Python validator reusing `domain.identifiers` / `domain.money`), raising
  `PydanticCustomError("ledger", ...)` with the project's wording, so a field error reads the same
  whatever face produced it;
- its JSON Schema (what other systems validate against; amounts are strings, never numbers);
- a `Kind` marker: how the value is written back canonically (`emit`), how it is described in
  the docs, and how it appears on the command line.

Pydantic checks the JSON shapes (string, boolean, array, object) in strict mode; the messages for
those are produced by `ledger.schemas.errors` from the error type and the offending input.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Strict, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

from domain.errors import InvalidValue
from domain.identifiers import COMMAND_ID_PATTERN, ColorId, normalize_vin, parse_color, parse_command_id, parse_party_id
from domain.money import format_kzt, parse_decimal, parse_kzt

__all__ = [
    "AMOUNT_PATTERN", "STRING_CHARS_MAX", "Kind", "at_value", "color_program", "emit_at", "emit_decimal",
    "enum_of", "fail", "json_kind", "text_value",
]

STRING_CHARS_MAX = 1000
_PARSE_CACHE_MAX = 1 << 16

AMOUNT_PATTERN = r"^[0-9]{1,15}(\.[0-9]{1,2})?$"  # SPEC §1, as written there
_QUANTITY_PATTERN = r"^[0-9]{1,12}(\.[0-9]{1,6})?$"
# Explicit [0-9], never \d (which also matches non-ASCII digits); always used with fullmatch.
_AT_PATTERN = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_DATE_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PROGRAM_PATTERN = re.compile(r"[0-9]{3}")
_SHA256_PATTERN = re.compile(r"[0-9a-fA-F]{64}")
_AT_EXAMPLE = '"2025-03-01T10:00:00+05:00"'

# Control characters refused in text (SPEC §5): C0 (all of it, TAB and newlines included), DEL,
# C1, and the bidirectional controls that can make text read differently from what it holds.
_CONTROL_CLASS = r"\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROL_CHARS = re.compile(f"[{_CONTROL_CLASS}]")
# The same rule for JSON Schema (ECMA-262 and Python `re` read it alike): some non-space
# character, and no control character anywhere.
_TEXT_SCHEMA_PATTERN = f"^[^{_CONTROL_CLASS}]*[^{_CONTROL_CLASS}\\s][^{_CONTROL_CLASS}]*$"


def fail(message: str) -> PydanticCustomError:
    """A field error with the project's wording (the translator passes `message` through).

    The domain's parsers raise `InvalidValue` (a ValueError); pydantic reports those as
    `value_error`, whose message the translator passes through the same way.
    """
    return PydanticCustomError("ledger", "{message}", {"message": message})


def json_kind(value: object) -> str:
    """How a JSON value is named in messages: "null", "a number", "an array", ..."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


@dataclass(frozen=True)
class Kind:
    """What a field's type means outside validation: canonical form, docs, command line."""

    name: str  # short name of the type in the docs ("amount", "party id", ...)
    format: str  # what the docs say the value looks like
    emit: Callable[[Any], Any] = lambda value: value  # typed value -> canonical JSON value
    cli_help: str = ""  # help of the command-line option
    choices: tuple[str, ...] = ()  # enums
    is_list: bool = False
    is_flag: bool = False  # booleans: a command-line flag
    # For checks pydantic makes itself (patterns, lengths, literals, in Rust: fast): the
    # project's message for a rejected input, from the same rule written in Python.
    explain: Callable[[Any], str] | None = None


def _explainer(check: Callable[[str], Any], fallback: str) -> Callable[[Any], str]:
    """The message `check` gives for a value pydantic's own constraint refused."""

    def explain(value: Any) -> str:
        if type(value) is not str:
            return f"must be a string, got {json_kind(value)}"
        try:
            check(value)
        except ValueError as error:  # InvalidValue or PydanticCustomError: the project's words
            return str(error)
        return fallback

    return explain


def _string_schema(**extra: Any) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", **extra})


# --- text ---------------------------------------------------------------------------------------

def text_value(value: str) -> str:
    """Free text: at most STRING_CHARS_MAX characters, not blank, no control characters."""
    if len(value) > STRING_CHARS_MAX:
        raise fail(f"must be at most {STRING_CHARS_MAX} characters, got {len(value)}")
    if not value.strip():
        raise fail("must not be empty or blank")
    control = _CONTROL_CHARS.search(value)
    if control is not None:
        raise fail(
            f"must not contain control characters, got U+{ord(control.group()):04X} "
            f"at character {control.start() + 1}"
        )
    return value


Text = Annotated[
    str, Strict(), StringConstraints(min_length=1, max_length=STRING_CHARS_MAX, pattern=_TEXT_SCHEMA_PATTERN),
    Kind("text", f"string, 1 to {STRING_CHARS_MAX} characters, not blank, no control characters",
         explain=_explainer(text_value, "must be text that is not blank, without control characters")),
]


# --- identifiers --------------------------------------------------------------------------------

@lru_cache(maxsize=_PARSE_CACHE_MAX)
def _party_cached(text: str) -> str:
    return parse_party_id(text)


@lru_cache(maxsize=_PARSE_CACHE_MAX)
def _color_cached(text: str) -> ColorId:
    return parse_color(text)


def _color_text(text: str) -> str:
    return _color_cached(text).text


def color_program(color: str) -> str:
    """The budget program of a (valid) color."""
    return _color_cached(color).program


PartyId = Annotated[
    str, Strict(), AfterValidator(_party_cached),
    _string_schema(pattern=r"^[0-9]{12}$", description="BIN or IIN: 12 digits, the last a check digit (SPEC §2.1)"),
    Kind("party id", "BIN/IIN: 12 digits with a valid check digit", cli_help="BIN or IIN"),
]
Color = Annotated[
    str, Strict(), AfterValidator(_color_text),
    _string_schema(
        pattern=r"^(ROAD|AGRO|LOCAL)-[0-9]{4}-[0-9]{3}-[0-9]{6}-[0-9]{2}$",
        description="color {PILOT}-{FY}-{PROGRAM}-{SEQ}-{CC}, CC ISO 7064 MOD 97-10 (SPEC §2.2)",
    ),
    Kind("color", "`{PILOT}-{FY}-{PROGRAM}-{SEQ}-{CC}` with valid check digits, e.g. `ROAD-2025-041-000123-23`"),
]
CommandId = Annotated[
    str, Strict(), StringConstraints(pattern=f"^{COMMAND_ID_PATTERN.pattern}$"),
    Kind("id", "1 to 64 of `A-Z a-z 0-9 . _ : -`, starting with a letter or digit",
         explain=_explainer(parse_command_id, "must be a command id")),
]
Vin = Annotated[
    str, Strict(), AfterValidator(normalize_vin),
    _string_schema(description="VIN: 17 characters A-Z 0-9 without I, O, Q; spaces and dashes ignored"),
    Kind("VIN", "17 characters `A-HJ-NPR-Z0-9` (ISO 3779) after upper-casing; spaces and dashes ignored",
         cli_help="VIN"),
]


def _program(text: str) -> str:
    if _PROGRAM_PATTERN.fullmatch(text) is None:
        raise fail(f'must be a three-digit budget program like "041", got {text[:40]!r}')
    return text


Program = Annotated[
    str, Strict(), StringConstraints(pattern=r"^[0-9]{3}$"),
    Kind("program", "three digits, the PROGRAM part of the color", cli_help="three-digit budget program",
         explain=_explainer(_program, "must be a three-digit budget program")),
]


def _sha256(text: str) -> str:
    if _SHA256_PATTERN.fullmatch(text) is None:
        raise fail(f"must be 64 hexadecimal digits (a SHA-256), got {text[:80]!r}")
    return text.lower()


Sha256 = Annotated[
    str, Strict(), AfterValidator(_sha256), _string_schema(pattern=r"^[0-9a-fA-F]{64}$"),
    Kind("sha256", "64 hexadecimal digits (a SHA-256; case ignored)"),
]


# --- enums --------------------------------------------------------------------------------------

def enum_of(allowed: tuple[str, ...]) -> Any:
    """A string that must be one of `allowed` (listed in the message when it is not)."""
    listed = ", ".join(allowed)

    def check(value: str) -> str:
        if value not in allowed:
            raise fail(f"must be one of {listed}, got {value[:40]!r}")
        return value

    return Annotated[
        Literal[allowed],  # type: ignore[valid-type]
        Kind("enum", "one of " + ", ".join(f"`{choice}`" for choice in allowed), choices=allowed,
             explain=_explainer(check, f"must be one of {listed}")),
    ]


# --- money and quantities -----------------------------------------------------------------------

def _need_kzt_str(value: object) -> object:
    """Amounts name what they expect when given a number (the commonest mistake)."""
    if value is None or type(value) is str:
        return value  # null: the generic "required field must not be null"
    raise fail(f'must be a string of KZT like "1500000.50", got {json_kind(value)} {value!r:.40}')


def _amount(text: str) -> int:
    try:
        return parse_kzt(text)
    except InvalidValue as error:
        raise fail(str(error)) from None


def _positive_amount(text: str) -> int:
    amount_tiyn = _amount(text)
    if amount_tiyn <= 0:
        raise fail(f"must be greater than zero, got {text!r}")
    return amount_tiyn


_KZT_HELP = "KZT, e.g. 1500000.00"
Amount = Annotated[
    str, BeforeValidator(_need_kzt_str), Strict(), AfterValidator(_amount),
    _string_schema(pattern=AMOUNT_PATTERN, description="KZT as a string, at most 2 decimals (SPEC §1)"),
    Kind("amount", 'KZT as a string matching `^[0-9]{1,15}(\\.[0-9]{1,2})?$`, e.g. `"1500000.50"`',
         emit=format_kzt, cli_help=_KZT_HELP),
]
PositiveAmount = Annotated[
    str, BeforeValidator(_need_kzt_str), Strict(), AfterValidator(_positive_amount),
    _string_schema(pattern=AMOUNT_PATTERN, description="KZT as a string, at most 2 decimals, > 0 (SPEC §1)"),
    Kind("amount", 'KZT as a string matching `^[0-9]{1,15}(\\.[0-9]{1,2})?$`, greater than zero',
         emit=format_kzt, cli_help=_KZT_HELP),
]


def emit_decimal(value: Decimal) -> str:
    """Plain digits, no exponent, no trailing fractional zeros: Decimal("12.50") -> "12.5"."""
    text = format(value.normalize(), "f")
    assert "e" not in text.lower(), text
    return text


def _positive_decimal(text: str) -> Decimal:
    try:
        quantity = parse_decimal(text)
    except InvalidValue as error:
        raise fail(str(error)) from None
    if quantity <= 0:
        raise fail(f"must be greater than zero, got {text!r}")
    return quantity


Quantity = Annotated[
    str, Strict(), AfterValidator(_positive_decimal),
    _string_schema(pattern=_QUANTITY_PATTERN, description="decimal string, > 0"),
    Kind("quantity", 'decimal string, up to 12 digits and 6 decimals, greater than zero, e.g. `"12.5"`',
         emit=emit_decimal),
]


# --- time ---------------------------------------------------------------------------------------

def _date(text: str) -> date:
    if _DATE_PATTERN.fullmatch(text) is not None:
        try:
            return date.fromisoformat(text)
        except ValueError as error:
            raise fail(f"is not a valid date: {error}, got {text[:40]!r}") from None
    raise fail(f'must be a date "YYYY-MM-DD", got {text[:40]!r}')


Date = Annotated[
    str, Strict(), AfterValidator(_date), _string_schema(format="date", pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
    Kind("date", "`YYYY-MM-DD`", emit=date.isoformat, cli_help="YYYY-MM-DD"),
]


def at_value(text: str) -> datetime:
    """RFC 3339 date-time with seconds and an explicit offset, kept as written.

    The canonical record (and so the digest) uses UTC, so the same instant written with two
    offsets is still the same content. Raises the project's field error.
    """
    if _AT_PATTERN.fullmatch(text) is None:
        raise fail(
            f"must be an RFC 3339 time with seconds (at most 6 decimals) and an explicit offset "
            f"(Z or ±HH:MM) like {_AT_EXAMPLE}, got {text[:40]!r}"
        )
    if text.endswith("-00:00"):
        raise fail(f'offset "-00:00" means "unknown offset"; give the real one: {text!r}')
    try:
        moment = datetime.fromisoformat(text.upper())
        if not 1 < moment.year < 9999:
            moment.astimezone(timezone.utc)  # the UTC form must exist too (an offset moves a day)
    except (ValueError, OverflowError) as error:
        raise fail(f"is not a valid time ({error}): {text!r}") from None
    assert moment.utcoffset() is not None, text
    return moment


def emit_at(value: datetime) -> str:
    """The canonical `at`: UTC with a `Z`."""
    assert value.tzinfo is not None and value.utcoffset() is not None, f"naive time {value!r}"
    text = value.astimezone(timezone.utc).isoformat()
    assert text.endswith("+00:00"), text
    return text[:-6] + "Z"


At = Annotated[
    str, Strict(), AfterValidator(at_value),
    _string_schema(format="date-time", pattern=f"^{_AT_PATTERN.pattern}$",
                   description="RFC 3339 with seconds and an explicit offset"),
    Kind("time", 'RFC 3339 with seconds and an explicit offset, e.g. `"2025-03-01T10:00:00+05:00"`',
         emit=emit_at, cli_help="business time, RFC 3339 with offset"),
]

Flag = Annotated[bool, Strict(), Kind("boolean", "`true` or `false`", is_flag=True)]
