"""The interchange format (SPEC §3): the one validation path from JSON objects to commands.

The importer decodes JSON Lines with `read_lines`; the CLI builds the same interchange objects from
its flags. Both end in `parse_record`, which checks one object completely and either returns the
typed command (`domain.commands`) or raises `MalformedInputs` carrying *every* field error found in
that object, each naming its field (`amount`, `items[2].unit_price`, `owners[0]`, ...).

`command_to_record` is the inverse and produces the *canonical* interchange object:
amounts with two decimals, `at` in UTC (`...Z`), decimals without trailing zeros, VINs and hashes
normalised, absent / null / default optional fields omitted. `command_digest` hashes that canonical
object, so two spellings of the same content (`"1500000"` and `"1500000.00"`,
`10:00:00+05:00` and `05:00:00Z`, a missing field and a `null` one) have the same digest: this is
what "same id, same content" means for idempotency (SPEC §2.3).

Errors that concern the whole line rather than one field (invalid UTF-8, invalid JSON, a line that
is not a JSON object, a line over 1 MiB) name the pseudo-field `line`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import MISSING, dataclass, fields
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Any, BinaryIO, NamedTuple

import orjson

from domain.commands import (
    COMMAND_TYPES,
    CONTRACT_METHODS,
    PARTY_KINDS,
    PARTY_STATUSES,
    SPEND_CATEGORIES,
    TRANSFER_KINDS,
    Accept,
    AcceptedQuantity,
    Allocate,
    AmendContract,
    Command,
    ContractItem,
    Freeze,
    LotSource,
    RegisterParty,
    Release,
    Reserve,
    Return,
    RoadGeometry,
    SetReferencePrice,
    SignContract,
    Spend,
    Transfer,
    Unfreeze,
    UpdateParty,
    Void,
)
from domain.errors import InvalidValue, LedgerError, MalformedInput
from domain.identifiers import ColorId, normalize_vin, parse_color, parse_command_id, parse_party_id
from domain.money import format_kzt, line_total_tiyn, parse_decimal, parse_kzt

__all__ = [
    "LINE_BYTES_MAX",
    "LINE_FIELD",
    "STRING_CHARS_MAX",
    "MalformedInputs",
    "ParsedLine",
    "command_digest",
    "command_to_record",
    "format_error",
    "parse_record",
    "read_lines",
]

LINE_BYTES_MAX = 1 << 20  # One interchange line, without its line terminator.
LINE_FIELD = "line"  # Pseudo-field named by errors about the whole line / object.
STRING_CHARS_MAX = 1000
PARTIES_MAX = 100  # owners, directors, officials
ITEMS_MAX = 1000
SOURCES_MAX = 1000
QUANTITIES_MAX = 1000
ASSETS_MAX = 100
_PARSE_CACHE_MAX = 1 << 16

_UTF8_BOM = b"\xef\xbb\xbf"
_JSON_WHITESPACE = b" \t\r\n"

# Explicit [0-9], never \d (which also matches non-ASCII digits); always used with fullmatch.
_AT_PATTERN = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_DATE_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PROGRAM_PATTERN = re.compile(r"[0-9]{3}")
_SHA256_PATTERN = re.compile(r"[0-9a-fA-F]{64}")
_AT_EXAMPLE = '"2025-03-01T10:00:00+05:00"'


class MalformedInputs(LedgerError):
    """Every field error found in one interchange object (SPEC §5: each names its field)."""

    def __init__(self, errors: list[MalformedInput]) -> None:
        assert errors, "MalformedInputs needs at least one error"
        assert all(isinstance(error, MalformedInput) for error in errors)
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class ParsedLine:
    """One non-blank line of an interchange file: its command, or its errors (never both)."""

    source: str
    line: int  # 1-based, counting blank lines too
    command: Command | None
    errors: tuple[MalformedInput, ...]
    raw: bytes  # the line without its terminator (b"" for a line over LINE_BYTES_MAX)


def format_error(source: str, line: int, error: MalformedInput) -> str:
    """`file:line: field: message`, the shape every malformed-input diagnostic takes."""
    assert line >= 1, line
    return f"{source}:{line}: {error.field}: {error.message}"


# --------------------------------------------------------------------------------------------
# Value parsers. Each takes (value, field) and returns the typed value, raising InvalidValue
# (wrapped by the caller into MalformedInput(field, ...)) or, for nested values, MalformedInputs
# whose errors already carry their full nested field names.


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if value is True or value is False:
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _wrong_type(expected: str, value: object) -> InvalidValue:
    return InvalidValue(f"must be {expected}, got {_json_kind(value)}")


def _need_str(value: object) -> str:
    if type(value) is not str:
        raise _wrong_type("a string", value)
    return value


def _text(value: object, field: str) -> str:
    if type(value) is not str:
        raise _wrong_type("a string", value)
    if len(value) > STRING_CHARS_MAX:
        raise InvalidValue(f"must be at most {STRING_CHARS_MAX} characters, got {len(value)}")
    if not value.strip():
        raise InvalidValue("must not be empty or blank")
    return value


def _enum(allowed: tuple[str, ...]) -> Callable[[object, str], str]:
    allowed_set = frozenset(allowed)
    listed = ", ".join(allowed)

    def parse(value: object, field: str) -> str:
        if type(value) is not str:
            raise _wrong_type("a string", value)
        if value not in allowed_set:
            raise InvalidValue(f"must be one of {listed}, got {value[:40]!r}")
        return value

    return parse


@lru_cache(maxsize=_PARSE_CACHE_MAX)
def _party_cached(text: str) -> str:
    return parse_party_id(text)


@lru_cache(maxsize=_PARSE_CACHE_MAX)
def _color_cached(text: str) -> ColorId:
    return parse_color(text)


def _party(value: object, field: str) -> str:
    return _party_cached(_need_str(value))


def _color(value: object, field: str) -> str:
    return _color_cached(_need_str(value)).text


def _command_id(value: object, field: str) -> str:
    return parse_command_id(_need_str(value))


def _vin(value: object, field: str) -> str:
    return normalize_vin(_need_str(value))


def _need_kzt_str(value: object) -> str:
    if type(value) is not str:
        raise InvalidValue(
            f'must be a string of KZT like "1500000.50", got {_json_kind(value)} {value!r:.40}'
        )
    return value


def _amount(value: object, field: str) -> int:
    return parse_kzt(_need_kzt_str(value))


def _positive_amount(value: object, field: str) -> int:
    amount_tiyn = parse_kzt(_need_kzt_str(value))
    if amount_tiyn <= 0:
        raise InvalidValue(f"must be greater than zero, got {value!r}")
    return amount_tiyn


def _positive_decimal(value: object, field: str) -> Decimal:
    quantity = parse_decimal(_need_str(value))
    if quantity <= 0:
        raise InvalidValue(f"must be greater than zero, got {value!r}")
    return quantity


def _date(value: object, field: str) -> date:
    text = _need_str(value)
    if _DATE_PATTERN.fullmatch(text) is not None:
        try:
            return date.fromisoformat(text)
        except ValueError as error:
            raise InvalidValue(f"is not a valid date: {error}, got {text[:40]!r}") from error
    raise InvalidValue(f'must be a date "YYYY-MM-DD", got {text[:40]!r}')


def _at(value: object, field: str) -> datetime:
    """RFC 3339 date-time with seconds and an explicit offset, kept as written.

    The offset matters for business dates (a payment at 01:00+05:00 on 1 January is in the new
    year locally); the canonical record (and so the digest) uses UTC, so the same instant written
    with two offsets is still the same content.
    """
    text = _need_str(value)
    if _AT_PATTERN.fullmatch(text) is None:
        raise InvalidValue(
            f"must be an RFC 3339 time with seconds (at most 6 decimals) and an explicit offset "
            f"(Z or ±HH:MM) like {_AT_EXAMPLE}, got {text[:40]!r}"
        )
    if text.endswith("-00:00"):
        raise InvalidValue(f'offset "-00:00" means "unknown offset"; give the real one: {text!r}')
    try:
        moment = datetime.fromisoformat(text.upper())
        moment.astimezone(timezone.utc)  # the UTC form must exist too
    except (ValueError, OverflowError) as error:
        raise InvalidValue(f"is not a valid time ({error}): {text!r}") from error
    assert moment.utcoffset() is not None, text
    return moment


def _program(value: object, field: str) -> str:
    text = _need_str(value)
    if _PROGRAM_PATTERN.fullmatch(text) is None:
        raise InvalidValue(f'must be a three-digit budget program like "041", got {text[:40]!r}')
    return text


def _sha256(value: object, field: str) -> str:
    text = _need_str(value)
    if _SHA256_PATTERN.fullmatch(text) is None:
        raise InvalidValue(f"must be 64 hexadecimal digits (a SHA-256), got {text[:80]!r}")
    return text.lower()


def _bool(value: object, field: str) -> bool:
    if value is True or value is False:
        return value
    raise _wrong_type("true or false", value)


def _list(value: object, field: str, items_max: int) -> list[Any]:
    if type(value) is not list:
        raise _wrong_type("an array", value)
    if len(value) > items_max:
        raise InvalidValue(f"must have at most {items_max} entries, got {len(value)}")
    return value


def _unique_list(
    parse_one: Callable[[object, str], str], items_max: int
) -> Callable[[object, str], tuple[str, ...]]:
    """A list of identifiers, each parsed by `parse_one`, without repeats."""

    def parse(value: object, field: str) -> tuple[str, ...]:
        entries = _list(value, field, items_max)
        errors: list[MalformedInput] = []
        parsed: list[str] = []
        first_index: dict[str, int] = {}
        for index, entry in enumerate(entries):
            name = f"{field}[{index}]"
            try:
                one = parse_one(entry, name)
            except InvalidValue as error:
                errors.append(MalformedInput(name, str(error)))
                continue
            if one in first_index:
                errors.append(MalformedInput(name, f"repeats {field}[{first_index[one]}] ({one})"))
                continue
            first_index[one] = index
            parsed.append(one)
        if errors:
            raise MalformedInputs(errors)
        return tuple(parsed)

    return parse


class _Field(NamedTuple):
    name: str  # interchange name
    attr: str  # attribute of the command / value class
    required: bool
    parse: Callable[[object, str], Any]
    emit: Callable[[Any], Any]


class _Parser(NamedTuple):
    """Fields of one JSON object by interchange name, for a single pass over the object's keys."""

    by_name: dict[str, tuple[str, bool, Callable[[object, str], Any]]]  # attr, required, parse
    required: tuple[str, ...]


def _parser(specs: tuple[_Field, ...]) -> _Parser:
    by_name = {spec.name: (spec.attr, spec.required, spec.parse) for spec in specs}
    assert len(by_name) == len(specs), "field names are unique"
    return _Parser(by_name, tuple(spec.name for spec in specs if spec.required))


def _parse_fields(
    obj: dict[Any, Any],
    parser: _Parser,
    prefix: str,
    out: dict[str, Any],
    errors: list[MalformedInput],
) -> None:
    """Parse the fields of `obj` into `out` (by attribute); append every error, in key order.

    One pass over the keys present (unknown ones are errors); missing required fields are
    looked for only when fewer required fields than expected were seen.
    """
    by_name = parser.by_name
    required_seen = 0
    for name, value in obj.items():
        spec = by_name.get(name)
        if spec is None:
            errors.append(MalformedInput(f"{prefix}{name}", "unknown field"))
            continue
        attr, required, parse = spec
        required_seen += required
        if value is None:
            if required:
                errors.append(MalformedInput(prefix + name, "required field must not be null"))
            continue
        try:
            out[attr] = parse(value, prefix + name)
        except InvalidValue as error:
            errors.append(MalformedInput(prefix + name, str(error)))
        except MalformedInputs as error:
            errors.extend(error.errors)
    if required_seen != len(parser.required):
        for name in parser.required:
            if name not in obj:
                errors.append(MalformedInput(prefix + name, "required field is missing"))


def _objects(
    cls: type, specs: tuple[_Field, ...], items_max: int, non_empty: bool
) -> Callable[[object, str], tuple[Any, ...]]:
    """A list of small JSON objects, each becoming an instance of `cls`."""
    parser = _parser(specs)

    def parse(value: object, field: str) -> tuple[Any, ...]:
        entries = _list(value, field, items_max)
        if non_empty and not entries:
            raise InvalidValue("must have at least one entry")
        errors: list[MalformedInput] = []
        parsed = []
        for index, entry in enumerate(entries):
            name = f"{field}[{index}]"
            if type(entry) is not dict:
                errors.append(MalformedInput(name, f"must be an object, got {_json_kind(entry)}"))
                continue
            out: dict[str, Any] = {}
            errors_before = len(errors)
            _parse_fields(entry, parser, name + ".", out, errors)
            if len(errors) == errors_before:
                parsed.append(cls(**out))
        if errors:
            raise MalformedInputs(errors)
        return tuple(parsed)

    return parse


def _road(value: object, field: str) -> RoadGeometry:
    if type(value) is not dict:
        raise _wrong_type("an object", value)
    out: dict[str, Any] = {}
    errors: list[MalformedInput] = []
    _parse_fields(value, _ROAD_PARSER, field + ".", out, errors)
    if errors:
        raise MalformedInputs(errors)
    return RoadGeometry(**out)


# --------------------------------------------------------------------------------------------
# Emitters: typed value -> canonical JSON value.


def _emit_same(value: Any) -> Any:
    return value


def _emit_list(value: tuple[str, ...]) -> list[str]:
    return list(value)


def _emit_date(value: date) -> str:
    return value.isoformat()


def _emit_decimal(value: Decimal) -> str:
    """Plain digits, no exponent, no trailing fractional zeros: Decimal("12.50") -> "12.5"."""
    text = format(value.normalize(), "f")
    assert "e" not in text.lower(), text
    return text


def _emit_at(value: datetime) -> str:
    assert value.tzinfo is not None and value.utcoffset() is not None, f"naive time {value!r}"
    text = value.astimezone(timezone.utc).isoformat()
    assert text.endswith("+00:00"), text
    return text[:-6] + "Z"


def _emit_objects(specs: tuple[_Field, ...]) -> Callable[[tuple[Any, ...]], list[dict[str, Any]]]:
    def emit(values: tuple[Any, ...]) -> list[dict[str, Any]]:
        return [
            {spec.name: spec.emit(getattr(value, spec.attr)) for spec in specs} for value in values
        ]

    return emit


def _emit_road(value: RoadGeometry) -> dict[str, str]:
    return {spec.name: spec.emit(getattr(value, spec.attr)) for spec in _ROAD_FIELDS}


# --------------------------------------------------------------------------------------------
# Schemas.

_ABSENT: Any = object()


_Parse = Callable[[object, str], Any]
_Emit = Callable[[Any], Any]


def _req(name: str, parse: _Parse, emit: _Emit = _emit_same, attr: str = "") -> _Field:
    """A required field; `attr` is the command attribute when it differs from the name."""
    return _Field(name, attr or name, True, parse, emit)


def _opt(name: str, parse: _Parse, emit: _Emit = _emit_same, attr: str = "") -> _Field:
    """An optional field: absent or null leaves the command's default."""
    return _Field(name, attr or name, False, parse, emit)


_amount_emit = format_kzt

_ITEM_FIELDS = (
    _req("code", _text),
    _req("unit", _text),
    _req("quantity", _positive_decimal, _emit_decimal),
    _req("unit_price", _amount, _amount_emit, attr="unit_price_tiyn"),
)
_QUANTITY_FIELDS = (
    _req("code", _text),
    _req("quantity", _positive_decimal, _emit_decimal),
)
_SOURCE_FIELDS = (
    _req("lot", _command_id),
    _req("amount", _positive_amount, _amount_emit, attr="amount_tiyn"),
)
_ROAD_FIELDS = (
    _req("length_km", _positive_decimal, _emit_decimal),
    _req("width_m", _positive_decimal, _emit_decimal),
    _req("asphalt_cm", _positive_decimal, _emit_decimal),
)
_ROAD_PARSER = _parser(_ROAD_FIELDS)

_parties = _unique_list(_party, PARTIES_MAX)
_assets = _unique_list(_vin, ASSETS_MAX)
_items = _objects(ContractItem, _ITEM_FIELDS, ITEMS_MAX, non_empty=True)
_quantities = _objects(AcceptedQuantity, _QUANTITY_FIELDS, QUANTITIES_MAX, non_empty=False)
_sources = _objects(LotSource, _SOURCE_FIELDS, SOURCES_MAX, non_empty=False)
_emit_items = _emit_objects(_ITEM_FIELDS)
_emit_quantities = _emit_objects(_QUANTITY_FIELDS)
_emit_sources = _emit_objects(_SOURCE_FIELDS)


def _flow(name: str = "amount") -> _Field:
    return _req(name, _positive_amount, _amount_emit, attr="amount_tiyn")


def _check_items_sum(kw: dict[str, Any], errors: list[MalformedInput]) -> None:
    items, amount_tiyn = kw.get("items"), kw.get("amount_tiyn")
    if items is None or amount_tiyn is None:
        return  # absent, or already reported
    total_tiyn = sum(line_total_tiyn(item.quantity, item.unit_price_tiyn) for item in items)
    if total_tiyn != amount_tiyn:
        errors.append(MalformedInput(
            "items",
            f"line totals (quantity × unit_price, rounded half-up per line) sum to "
            f"{format_kzt(total_tiyn)} KZT, but amount is {format_kzt(amount_tiyn)} KZT",
        ))


def _check_sources_sum(kw: dict[str, Any], errors: list[MalformedInput]) -> None:
    sources, amount_tiyn = kw.get("sources"), kw.get("amount_tiyn")
    if sources is None or amount_tiyn is None:
        return
    total_tiyn = sum(source.amount_tiyn for source in sources)
    if total_tiyn != amount_tiyn:
        errors.append(MalformedInput(
            "sources",
            f"source amounts sum to {format_kzt(total_tiyn)} KZT, "
            f"but amount is {format_kzt(amount_tiyn)} KZT",
        ))


def _check_program(kw: dict[str, Any], errors: list[MalformedInput]) -> None:
    color, program = kw.get("color"), kw.get("program")
    if color is None or program is None:
        return
    color_program = _color_cached(color).program
    if color_program != program:
        errors.append(MalformedInput(
            "program", f"is {program} but the color {color} is of program {color_program}"
        ))


class _Schema(NamedTuple):
    cls: type[Command]
    fields: tuple[_Field, ...]  # after id, type, at
    parser: _Parser  # of every field including id, type, at
    check: Callable[[dict[str, Any], list[MalformedInput]], None] | None
    defaults: dict[str, Any]  # attr -> default value, for the optional fields


_COMMON_FIELDS = (
    _req("id", _command_id),
    # `type` is checked by parse_record's dispatch; listed here so it counts as a known field.
    _req("type", lambda value, field: value),
    _req("at", _at, _emit_at),
)

_FIELDS_BY_CLASS: dict[type[Command], tuple[tuple[_Field, ...], Any]] = {
    RegisterParty: ((
        _req("party", _party), _req("name", _text), _req("kind", _enum(PARTY_KINDS)),
        _opt("registered_on", _date, _emit_date), _opt("address", _text), _opt("phone", _text),
        _opt("owners", _parties, _emit_list), _opt("directors", _parties, _emit_list),
        _opt("officials", _parties, _emit_list), _opt("region", _text),
    ), None),
    UpdateParty: ((
        _req("party", _party), _opt("name", _text), _opt("address", _text), _opt("phone", _text),
        _opt("owners", _parties, _emit_list), _opt("directors", _parties, _emit_list),
        _opt("officials", _parties, _emit_list), _opt("status", _enum(PARTY_STATUSES)),
    ), None),
    SetReferencePrice: ((
        _req("code", _text), _req("unit", _text),
        _req("price", _positive_amount, _amount_emit, attr="price_tiyn"),
        _opt("region", _text), _opt("description", _text),
    ), None),
    Allocate: ((
        _req("color", _color), _req("program", _program), _req("purpose", _text), _flow(),
        _req("treasury", _party), _req("administrator", _party),
        _req("expires_on", _date, _emit_date), _opt("region", _text),
    ), _check_program),
    SignContract: ((
        _req("contract", _command_id), _req("color", _color), _req("customer", _party),
        _req("supplier", _party), _flow(), _req("items", _items, _emit_items),
        _opt("method", _enum(CONTRACT_METHODS)), _opt("ends_on", _date, _emit_date),
        _opt("road", _road, _emit_road), _opt("assets", _assets, _emit_list),
        _opt("beneficiary", _party),
    ), _check_items_sum),
    AmendContract: ((
        _req("contract", _command_id), _flow(), _opt("items", _items, _emit_items),
        _opt("reason", _text),
    ), _check_items_sum),
    Accept: ((
        _req("contract", _command_id), _flow(), _opt("evidence_sha256", _sha256),
        _opt("quantities", _quantities, _emit_quantities), _opt("final", _bool),
    ), None),
    Transfer: ((
        _req("color", _color), _req("from", _party, attr="payer"), _req("to", _party, attr="payee"),
        _flow(), _opt("contract", _command_id), _opt("invoice", _text),
        _opt("kind", _enum(TRANSFER_KINDS)), _opt("sources", _sources, _emit_sources),
    ), _check_sources_sum),
    Reserve: ((
        _req("color", _color), _req("from", _party, attr="payer"), _req("to", _party, attr="payee"),
        _flow(), _req("contract", _command_id), _opt("invoice", _text),
        _opt("kind", _enum(TRANSFER_KINDS)),
    ), None),
    Release: ((_req("reservation", _command_id), _opt("evidence_sha256", _sha256)), None),
    Void: ((_req("reservation", _command_id), _opt("reason", _text)), None),
    Spend: ((
        _req("color", _color), _req("from", _party, attr="holder"), _flow(),
        _req("category", _enum(SPEND_CATEGORIES)), _opt("payee", _party), _opt("invoice", _text),
        _opt("contract", _command_id), _opt("assets", _assets, _emit_list),
    ), None),
    Return: ((
        _req("color", _color), _req("from", _party, attr="holder"), _flow(), _opt("reason", _text),
    ), None),
    Freeze: ((_req("color", _color), _req("reason", _text), _opt("holder", _party)), None),
    Unfreeze: ((_req("color", _color), _req("reason", _text), _opt("holder", _party)), None),
}


def _build_schemas() -> dict[str, _Schema]:
    schemas = {}
    for cls, (specs, check) in _FIELDS_BY_CLASS.items():
        attrs = {f.name: f for f in fields(cls)}
        assert {s.attr for s in specs} | {"id", "at", "actor"} == set(attrs), cls
        defaults = {}
        for spec in specs:
            field_default = attrs[spec.attr].default
            assert (field_default is MISSING) == spec.required, (cls, spec.name)
            if not spec.required:
                defaults[spec.attr] = field_default
        schemas[cls.TYPE] = _Schema(cls, specs, _parser(_COMMON_FIELDS + specs), check, defaults)
    assert set(schemas) == set(COMMAND_TYPES), "every command type has an interchange schema"
    return schemas


_SCHEMAS = _build_schemas()
_TYPES_LISTED = ", ".join(COMMAND_TYPES)


# --------------------------------------------------------------------------------------------
# Public API.


def parse_record(obj: object) -> Command:
    """Validate one decoded interchange object and return its command (SPEC §3).

    Raises MalformedInputs with every field error of the object: field errors in the order of the
    object's keys, then missing required fields, then cross-field checks (item / source sums,
    program vs color). An unknown or missing `type` reports only `id`, `type` and `at`.
    """
    if type(obj) is not dict:
        message = f"must be a JSON object, got {_json_kind(obj)}"
        raise MalformedInputs([MalformedInput(LINE_FIELD, message)])
    type_name = obj.get("type")
    schema = _SCHEMAS.get(type_name) if type(type_name) is str else None
    if schema is None:
        raise MalformedInputs(_unknown_type_errors(obj, type_name))
    errors: list[MalformedInput] = []
    kw: dict[str, Any] = {}
    _parse_fields(obj, schema.parser, "", kw, errors)
    if schema.check is not None:
        schema.check(kw, errors)  # runs on whatever fields parsed; skips what is missing
    if errors:
        raise MalformedInputs(errors)
    del kw["type"]
    command = schema.cls(**kw)
    assert command.at.utcoffset() is not None
    return command


def _unknown_type_errors(obj: dict[Any, Any], type_name: object) -> list[MalformedInput]:
    """Errors of `id`, `type` and `at` when the type is missing or unknown (the rest is moot)."""
    id_spec, _, at_spec = _COMMON_FIELDS
    errors: list[MalformedInput] = []
    _parse_fields({"id": obj["id"]} if "id" in obj else {}, _parser((id_spec,)), "", {}, errors)
    if "type" not in obj:
        message = "required field is missing"
    elif type_name is None:
        message = "required field must not be null"
    elif type(type_name) is not str:
        message = f"must be a string, got {_json_kind(type_name)}"
    else:
        message = f"must be one of {_TYPES_LISTED}, got {type_name[:40]!r}"
    errors.append(MalformedInput("type", message))
    _parse_fields({"at": obj["at"]} if "at" in obj else {}, _parser((at_spec,)), "", {}, errors)
    assert errors
    return errors


def command_to_record(cmd: Command) -> dict[str, Any]:
    """The canonical interchange object of a command: `parse_record(command_to_record(c)) == c`.

    Key order is `id`, `type`, `at`, then SPEC order. Optional fields equal to their default
    (None, empty tuple, `final` False) are omitted; for `update_party` an empty tuple is not the
    default (None is) and is emitted as `[]` ("clear the list").
    """
    schema = _SCHEMAS[cmd.TYPE]
    assert type(cmd) is schema.cls, f"not a command: {cmd!r}"
    record: dict[str, Any] = {"id": cmd.id, "type": cmd.TYPE, "at": _emit_at(cmd.at)}
    defaults = schema.defaults
    for spec in schema.fields:
        value = getattr(cmd, spec.attr)
        if not spec.required and value == defaults[spec.attr]:
            continue
        record[spec.name] = spec.emit(value)
    return record


def command_digest(cmd: Command) -> bytes:
    """SHA-256 of the canonical record (sorted keys, compact orjson): the content identity.

    Equal for any two spellings of the same content — amounts `"1500000"` / `"1500000.00"`, the same
    instant at different offsets, absent vs `null` optional fields, VIN spacing, hash case.
    """
    canonical = orjson.dumps(command_to_record(cmd), option=orjson.OPT_SORT_KEYS)
    digest = hashlib.sha256(canonical).digest()
    assert len(digest) == 32
    return digest


def read_lines(stream: BinaryIO, source: str) -> Iterator[ParsedLine]:
    """Stream an interchange file (UTF-8 JSON Lines) as ParsedLines, skipping blank lines.

    Reads line by line (at most LINE_BYTES_MAX + 2 bytes at a time), never the whole file.
    A UTF-8 byte-order mark at the very start of the stream is ignored.
    """
    line_number = 0
    readline = stream.readline
    while True:
        chunk = readline(LINE_BYTES_MAX + 2)
        if not chunk:
            return
        line_number += 1
        if not chunk.endswith(b"\n") and len(chunk) == LINE_BYTES_MAX + 2:
            _skip_rest_of_line(stream)
            yield _line_error(source, line_number, f"is longer than {LINE_BYTES_MAX} bytes", b"")
            continue
        raw = chunk[:-1] if chunk.endswith(b"\n") else chunk
        if line_number == 1 and raw.startswith(_UTF8_BOM):
            raw = raw[len(_UTF8_BOM):]
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if len(raw) > LINE_BYTES_MAX:
            yield _line_error(source, line_number, f"is longer than {LINE_BYTES_MAX} bytes", b"")
            continue
        if not raw.strip(_JSON_WHITESPACE):
            continue
        yield _parse_line(source, line_number, raw)


def _parse_line(source: str, line_number: int, raw: bytes) -> ParsedLine:
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as utf8_error:
            message = f"is not valid UTF-8 (byte {utf8_error.start} of the line)"
            return _line_error(source, line_number, message, raw)
        return _line_error(source, line_number, f"is not valid JSON: {error}", raw)
    try:
        command = parse_record(obj)
    except MalformedInputs as error:
        return ParsedLine(source, line_number, None, tuple(error.errors), raw)
    return ParsedLine(source, line_number, command, (), raw)


def _line_error(source: str, line_number: int, message: str, raw: bytes) -> ParsedLine:
    return ParsedLine(source, line_number, None, (MalformedInput(LINE_FIELD, message),), raw)


def _skip_rest_of_line(stream: BinaryIO) -> None:
    while True:
        chunk = stream.readline(LINE_BYTES_MAX)
        if not chunk or chunk.endswith(b"\n"):
            return


def parse_business_time(text: object) -> datetime:
    """An RFC 3339 time with an explicit offset (the `at` rules), for `--as-of` and friends."""
    return _at(text, "at")
