"""The interchange format (SPEC §3): the one validation path from JSON objects to commands.

The importer decodes JSON Lines with `read_lines`; the CLI builds the same interchange objects from
its flags. Both end in `parse_record`, which checks one object completely against its command's
schema (`ledger.schemas`, one pydantic model per command) and either returns the typed command
(`domain.commands`) or raises `MalformedInputs` carrying *every* field error found in that object,
each naming its field (`amount`, `items[2].unit_price`, `owners[0]`, ...).

`command_to_record` is the inverse and produces the *canonical* interchange object:
amounts with two decimals, `at` in UTC (`...Z`), decimals without trailing zeros, VINs and hashes
normalised, absent / null / default optional fields omitted. `command_digest` hashes that canonical
object, so two spellings of the same content (`"1500000"` and `"1500000.00"`,
`10:00:00+05:00` and `05:00:00Z`, a missing field and a `null` one) have the same digest: this is
what "same id, same content" means for idempotency (SPEC §2.3).

Errors that concern the whole line rather than one field (invalid UTF-8, invalid JSON, a line that
is not a JSON object, a line over 1 MiB) name the pseudo-field `line`. A key given twice in one
JSON object is an error naming that key (SPEC §5): JSON parsers silently keep the last value.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

import orjson

from domain.commands import Command
from domain.errors import InvalidValue, LedgerError, MalformedInput
from ledger.schemas import canonical_record, validate_record
from ledger.schemas.errors import shown_key
from ledger.schemas.records import LINE_FIELD
from ledger.schemas.values import STRING_CHARS_MAX, at_value, json_kind

__all__ = [
    "LINE_BYTES_MAX",
    "LINE_FIELD",
    "STRING_CHARS_MAX",
    "MalformedInputs",
    "ParsedLine",
    "command_digest",
    "command_to_record",
    "format_error",
    "parse_business_time",
    "parse_record",
    "read_lines",
]

LINE_BYTES_MAX = 1 << 20  # One interchange line, without its line terminator.

_UTF8_BOM = b"\xef\xbb\xbf"
_JSON_WHITESPACE = b" \t\r\n"
DUPLICATE_KEY = "duplicate key"


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


def parse_record(obj: object) -> Command:
    """Validate one decoded interchange object and return its command (SPEC §3).

    Raises MalformedInputs with every field error of the object: field errors in the order of the
    object's keys, then missing required fields; checks across fields (item / source sums, program
    vs color) once the fields they read are valid. An unknown or missing `type` reports only `id`,
    `type` and `at`.
    """
    if type(obj) is not dict:
        message = f"must be a JSON object, got {json_kind(obj)}"
        raise MalformedInputs([MalformedInput(LINE_FIELD, message)])
    result = validate_record(obj)
    if isinstance(result, list):
        raise MalformedInputs(result)
    assert result.at.utcoffset() is not None
    return result


def command_to_record(cmd: Command) -> dict[str, Any]:
    """The canonical interchange object of a command: `parse_record(command_to_record(c)) == c`.

    Key order is `id`, `type`, `at`, then SPEC order. Optional fields equal to their default
    (None, empty tuple, `final` False) are omitted; for `update_party` an empty tuple is not the
    default (None is) and is emitted as `[]` ("clear the list").
    """
    return canonical_record(cmd)


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
    duplicates = duplicate_keys(raw, obj)
    try:
        command = parse_record(obj)
    except MalformedInputs as error:
        return ParsedLine(source, line_number, None, tuple(duplicates + error.errors), raw)
    if duplicates:
        return ParsedLine(source, line_number, None, tuple(duplicates), raw)
    return ParsedLine(source, line_number, command, (), raw)


def duplicate_keys(raw: bytes, obj: object) -> list[MalformedInput]:
    """An error for every key written twice in one object of the line (at any depth).

    Fast path: every JSON string (key or value) the parser kept accounts for two `"` bytes of the
    line; a key written twice, or an escaped quote, can only add more. So when the line's quotes
    are exactly twice the strings kept, no key repeats. Otherwise the line is parsed again keeping
    every pair, to find which keys repeat (or that a string merely held an escaped quote).
    """
    if type(obj) is not dict and type(obj) is not list:
        return []
    if raw.count(b'"') == 2 * _strings(obj):
        return []
    errors: list[MalformedInput] = []
    _find_duplicates(json.loads(raw, object_pairs_hook=_PairsObject), "", errors)
    return errors


def _strings(value: dict[str, Any] | list[Any]) -> int:
    """How many JSON strings (object keys and string values) a decoded value holds."""
    count = 0
    items: Any = value
    if type(value) is dict:
        count = len(value)
        items = value.values()
    for item in items:
        kind = type(item)
        if kind is str:
            count += 1
        elif kind is dict or kind is list:
            count += _strings(item)
    return count


class _PairsObject(dict):  # type: ignore[type-arg]
    """A decoded JSON object that remembers the keys it was given more than once."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__(pairs)
        seen: set[str] = set()
        self.repeated = [key for key, _ in pairs if key in seen or seen.add(key)]


def _find_duplicates(value: object, path: str, errors: list[MalformedInput]) -> None:
    if isinstance(value, _PairsObject):
        for key in dict.fromkeys(value.repeated):
            name = shown_key(key)
            errors.append(MalformedInput(f"{path}.{name}" if path else name or LINE_FIELD, DUPLICATE_KEY))
        for key, item in value.items():
            name = shown_key(key)
            _find_duplicates(item, f"{path}.{name}" if path else name, errors)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _find_duplicates(item, f"{path}[{index}]", errors)


def _line_error(source: str, line_number: int, message: str, raw: bytes) -> ParsedLine:
    return ParsedLine(source, line_number, None, (MalformedInput(LINE_FIELD, message),), raw)


def _skip_rest_of_line(stream: BinaryIO) -> None:
    while True:
        chunk = stream.readline(LINE_BYTES_MAX)
        if not chunk or chunk.endswith(b"\n"):
            return


def parse_business_time(text: object) -> datetime:
    """An RFC 3339 time with an explicit offset (the `at` rules), for `--as-of` and friends.

    Raises InvalidValue saying what is wrong.
    """
    if type(text) is not str:
        raise InvalidValue(f"must be a string, got {json_kind(text)}")
    try:
        return at_value(text)
    except ValueError as error:  # PydanticCustomError
        raise InvalidValue(str(error)) from None
