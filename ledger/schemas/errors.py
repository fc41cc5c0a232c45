"""Pydantic's validation errors in the project's words: `MalformedInput(field, message)`.

Field names are interchange paths (`amount`, `items[2].unit_price`, `owners[0]`, `road.width_m`).
Errors come in the order of the object's keys (a nested error at its top-level key), then missing
required fields in declaration order — the order a person reading the line meets them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from domain.errors import MalformedInput
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


def translate(error: ValidationError, keys: list[Any]) -> list[MalformedInput]:
    """Every error of `error`, in the order of the input object's `keys`, then missing fields."""
    position = {key: index for index, key in enumerate(keys)}
    missing_rank = len(keys)
    ranked = []
    for order, detail in enumerate(error.errors(include_url=False, include_context=True)):
        loc = detail["loc"]
        rank = position.get(loc[0], missing_rank) if loc else missing_rank
        message = _MESSAGES.get(detail["type"], lambda d: str(d["msg"]))(detail)
        ranked.append((rank, order, MalformedInput(field_path(loc) or "line", message)))
    ranked.sort(key=lambda entry: entry[:2])
    return [entry[2] for entry in ranked]
