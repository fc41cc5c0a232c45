"""Output for people (`table`, with rich) and machines (`json`, `jsonl`, with orjson): SPEC §5–§6.

Data goes to stdout, diagnostics to stderr. Amounts print as KZT strings with two decimals and,
for machines, also as `*_tiyn` integers.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from domain import events as e
from domain.money import format_kzt
from ledger.integrity.document import plain

FORMATS = ("table", "json", "jsonl")


def default_format() -> str:
    """`table` on a terminal, `json` when piped (SPEC §5)."""
    return "table" if sys.stdout.isatty() else "json"


def dump_json(document: Any) -> None:
    sys.stdout.buffer.write(orjson.dumps(document, default=plain, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.flush()


def dump_jsonl(rows: Iterable[Any]) -> None:
    out = sys.stdout.buffer
    for row in rows:
        out.write(orjson.dumps(row, default=plain) + b"\n")
    sys.stdout.flush()


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]], right: Sequence[str] = ()) -> None:
    table = Table(title=title, show_lines=False, header_style="bold")
    for column in columns:
        table.add_column(column, justify="right" if column in right else "left", overflow="fold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    Console(width=None if sys.stdout.isatty() else 160).print(table)


def event_summary(event: e.LedgerEvent) -> str:
    """One line saying what the event did, for the history table."""
    amount = getattr(event, "amount_tiyn", None)
    money = f"{format_kzt(amount)} KZT" if amount is not None else ""
    if isinstance(event, (e.FundsTransferred, e.FundsReserved, e.ReservationReleased)):
        return f"{money} {event.payer} → {event.payee} ({event.contract})"
    if isinstance(event, e.ReservationVoided):
        return f"{money} back to {event.payer} ({event.contract})"
    if isinstance(event, (e.FundsSpent, e.FundsReturned)):
        what = event.category if isinstance(event, e.FundsSpent) else "returned"
        return f"{money} by {event.holder}: {what}"
    if isinstance(event, e.FundsAllocated):
        return f"{money} to {event.administrator} until {event.expires_on}"
    if isinstance(event, e.ContractSigned):
        return f"{event.contract}: {event.customer} → {event.supplier}, {money}"
    if isinstance(event, (e.ContractAmended, e.DeliveryAccepted)):
        return f"{event.contract}: {money}"
    if isinstance(event, (e.ColorFrozen, e.ColorUnfrozen)):
        return f"{event.holder or 'whole color'}: {event.reason}"
    if isinstance(event, e.CommandBlocked):
        return f"{event.command_type} blocked: {event.reason}: {event.detail}"
    return money
