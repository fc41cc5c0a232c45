"""`tenge-ledger demo`: a realistic road-pilot example, imported into a fresh store and toured.

The example (`data/road_demo.jsonl`) follows one road reconstruction allocation from the treasury
through the regional roads department, a general contractor, its asphalt subcontractor and its
bitumen supplier to final spends, with two attempts the ledger blocks (a cash withdrawal and a
payment to a party without a contract).
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

import click

from ledger import render
from ledger.app import Ledger
from ledger.importer import ImportSummary, Source, apply, validate
from ledger.store import parse_store_url

DEMO_FILE = "road_demo.jsonl"


def run_demo(store_url: str, *, fresh_file: bool) -> int:
    config = parse_store_url(store_url)
    if fresh_file and config.sqlite_path:
        for suffix in ("", "-wal", "-shm"):
            Path(config.sqlite_path + suffix).unlink(missing_ok=True)
    ledger = Ledger(config)
    if ledger.position() != 0:
        click.echo(f"error: the demo needs an empty store; {store_url} already holds events", err=True)
        return 2
    source = Source(DEMO_FILE, Path(str(files("ledger") / "data" / DEMO_FILE)))
    summary, total, kept = validate([source])
    assert summary.error_count == 0, summary.errors
    apply(ledger, [source], total, kept, summary)
    _tour(ledger, summary, total, store_url if not fresh_file else os.path.abspath(store_url))
    return 0


def _tour(ledger: Ledger, summary: ImportSummary, total: int, where: str) -> None:
    counts = summary.counts
    click.echo(f"Imported {total} commands into {where}: {counts['applied']} applied, {counts['blocked']} blocked.\n")
    [color] = ledger.colors()
    allocation = ledger.allocation(color)
    assert allocation is not None
    allocation.check()
    rows = []
    for holder, balance_tiyn in allocation.balances.items():
        party = ledger.party(holder)
        rows.append([holder, party.fields["name"] if party else "", render.format_kzt(balance_tiyn)])
    render.print_table(f"Balances of {color}", ["party", "name", "balance KZT"], rows, right=["balance KZT"])
    events = ledger.history(color)
    history_rows = ([ev.originator_version, ev.at.date().isoformat(), type(ev).__name__, ev.command_id, render.event_summary(ev)] for ev in events)
    render.print_table(f"History of {color}", ["#", "date", "event", "transaction", "what"], history_rows)
    click.echo(
        f"Conservation: allocated {render.format_kzt(allocation.allocated_tiyn)} = held "
        f"{render.format_kzt(allocation.held_tiyn)} + reserved {render.format_kzt(allocation.reserved_tiyn)} + spent "
        f"{render.format_kzt(allocation.spent_tiyn)} + returned {render.format_kzt(allocation.returned_tiyn)} KZT"
    )
    click.echo(f"\nTry: tenge-ledger --store {where} history {color}")
