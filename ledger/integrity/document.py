"""The canonical event document: an event as auditors read it, and what inclusion proofs
check their readable claims against (`verify-proof`)."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from domain import events as e
from domain.money import format_kzt


def event_document(event: e.LedgerEvent) -> dict[str, Any]:
    """An event as auditors read it: its type, transaction id, business time and fields."""
    document: dict[str, Any] = {
        "version": event.originator_version,
        "event": type(event).__name__,
        "transaction": event.command_id,
        "at": event.at.isoformat(),
    }
    for f in fields(event):
        if f.name in ("originator_id", "originator_version", "command_id", "at"):
            continue
        value = getattr(event, f.name)
        if f.name.endswith("_tiyn"):
            document[f.name.removesuffix("_tiyn")] = format_kzt(value)
        if f.name == "consumed":
            value = [{"lot": lot, "amount_tiyn": amount} for lot, amount in value]
        document[f.name] = value
    return document


def plain(value: Any) -> Any:
    """orjson's `default`: dates, decimals, tuples and value records as JSON."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    if is_dataclass(value):
        return {f.name: getattr(value, f.name) for f in fields(value)}
    raise TypeError(f"cannot print a {type(value).__name__}")
