"""Pydantic's validation errors in the project's words: `MalformedInput(field, message)`.

Field names are interchange paths (`amount`, `items[2].unit_price`, `owners[0]`, `road.width_m`).
Errors come in the order of each object's keys as written (nested errors where their key is),
a missing required field after the keys of its object — the order a person reading the line
meets them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from domain.errors import MalformedInput
from ledger.schemas.base import Record, kind_at
from ledger.schemas.values import json_kind


def field_path(loc: tuple[int | str, ...]) -> str:
    """('items', 2, 'unit_price') -> 'items[2].unit_price'."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            name = shown_key(str(part))
            path += f".{name}" if path else name
    return path


def shown_key(key: str) -> str:
    """A JSON key as it may be printed: an unknown key with control characters is escaped, so an
    error message never carries a right-to-left override or an escape sequence to the terminal."""
    return key if key.isprintable() else key.encode("unicode_escape").decode("ascii")


def _type_message(expected: str) -> Callable[[dict[str, Any]], str]:
    def message(error: dict[str, Any]) -> str:
        loc, value = error["loc"], error["input"]
        if value is None and loc and isinstance(loc[-1], str):
            return "required field must not be null"
        return f"must be {expected}, got {json_kind(value)}"

    return message


def _too_long(error: dict[str, Any]) -> str:
    ctx = error["ctx"]
    return f"must have at most {ctx['max_length']} entries, got {ctx['actual_length']}"


_MESSAGES: dict[str, Callable[[dict[str, Any]], str]] = {
    "ledger": lambda error: error["msg"],
    "value_error": lambda error: str(error["ctx"]["error"]),  # InvalidValue of a domain parser
    "missing": lambda error: "required field is missing",
    "extra_forbidden": lambda error: "unknown field",
    "string_type": _type_message("a string"),
    "bool_type": _type_message("true or false"),
    "list_type": _type_message("an array"),
    "model_type": _type_message("an object"),
    "dict_type": _type_message("an object"),
    "model_attributes_type": _type_message("an object"),
    "too_long": _too_long,
    "too_short": lambda error: "must have at least one entry",
}


# Checks pydantic makes itself; the field's Kind says them in the project's words.
_CONSTRAINTS = frozenset({"string_pattern_mismatch", "string_too_long", "string_too_short", "literal_error"})


def translate(error: ValidationError, obj: dict[str, Any], model: type[Record]) -> list[MalformedInput]:
    """Every error of `error` (validating `obj` with `model`) in the order a reader meets them:
    by the keys of each object as written, a missing field after the keys of its object."""
    ranked = []
    for order, detail in enumerate(error.errors(include_url=False, include_context=True)):
        loc = detail["loc"]
        message = _message(detail, model)
        ranked.append((_position(obj, loc), order, MalformedInput(field_path(loc) or "line", message)))
    ranked.sort(key=lambda entry: entry[:2])
    return [entry[2] for entry in ranked]


def _position(obj: Any, loc: tuple[int | str, ...]) -> tuple[int, ...]:
    """Where an error location sits in the input: per level, the key's index (or the list index)."""
    position = []
    current = obj
    for part in loc:
        if type(current) is dict:
            keys = list(current)
            position.append(keys.index(part) if part in current else len(keys))
            current = current.get(part)
        elif type(current) is list and type(part) is int and part < len(current):
            position.append(part)
            current = current[part]
        else:
            position.append(0)
            current = None
    return tuple(position)


def _message(detail: dict[str, Any], model: type[Record]) -> str:
    error_type, loc = detail["type"], detail["loc"]
    if error_type != "missing" and detail["input"] is None and loc and isinstance(loc[-1], str):
        return "required field must not be null"
    if error_type in _CONSTRAINTS:
        kind = kind_at(model, loc)
        if kind is not None and kind.explain is not None:
            return kind.explain(detail["input"])
    return _MESSAGES.get(error_type, lambda d: str(d["msg"]))(detail)
