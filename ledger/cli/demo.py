"""`tenge-ledger demo`: a simulated three-pilot year in a fresh store, and a guided tour of it.

The command (`ledger.cli`, the composition root) hands `run_demo` the simulation: a function that
writes the demo world's interchange file (SPEC §3) and returns it with its ground truth (which
misuse schemes were injected where, SPEC §8), and one that says which of them the flags caught.
This module imports the file like `tenge-ledger import` does and prints the tour:

1. where one road allocation went — the trace tree of the color with a misuse scheme, its final
   spends summed per holder (`tenge-ledger trace` lists each);
2. the money by pilot, and the holders with the largest balances;
3. the flags with their explanations, as of the end of the simulated period (after every window of
   the fiscal year closed), and which injected schemes they caught;
4. `verify`: chain, Merkle tree, conservation of every color, projections against a rebuild.

The output is the same on every run (same seed, same store contents); timings go to stderr. It
takes the terminal's width up to 160 columns, and 160 when piped (as `trace` and the tables do).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from domain.money import format_kzt
from ledger.app import Ledger
from ledger.importer import Source, apply, validate
from ledger.store.url import parse_store_url
from ledger.render.trace_tree import render_trace_tree
from ledger.integrity.verify import Verifier
from ledger.integrity.verify_runs import record_verify_run

WorldWriter = Callable[[Path], tuple[Path, dict[str, Any]]]
Scorer = Callable[[dict[str, Any], list[dict[str, Any]]], tuple[list[bool], int]]
WIDTH_MAX = 160  # columns: the terminal's up to this, and this when piped (as `trace` and the tables do)
TOP_HOLDERS = 8


def run_demo(store_url: str, *, fresh_file: bool, write_world: WorldWriter, caught: Scorer, traced_scheme: str) -> int:
    """Simulate, import into `store_url` (emptied first when `fresh_file`), and print the tour."""
    started = time.perf_counter()
    config = parse_store_url(store_url)
    if fresh_file and config.sqlite_path:
        for suffix in ("", "-wal", "-shm"):
            Path(config.sqlite_path + suffix).unlink(missing_ok=True)
    ledger = Ledger(config)
    try:
        if ledger.position() != 0:
            click.echo(f"error: the demo needs an empty store; {store_url} already holds events", err=True)
            return 2
        folder = Path(tempfile.mkdtemp(prefix="tenge-ledger-demo-"))
        try:
            path, truth = write_world(folder)
            simulated = time.perf_counter()
            counts = _import(ledger, path)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        imported = time.perf_counter()
        Tour(ledger, truth, store_url, traced_scheme, caught).print(counts)  # as given: the same text in any directory
        click.echo(f"demo: simulated in {simulated - started:.1f} s, imported in {imported - simulated:.1f} s, "
                   f"{time.perf_counter() - started:.1f} s in all", err=True)
    finally:
        ledger.close()
    return 0


def _import(ledger: Ledger, path: Path) -> dict[str, int]:
    source = Source(path.name, path)
    summary, total, kept = validate([source])
    assert summary.error_count == 0, summary.errors[:5]
    apply(ledger, [source], total, kept, summary)
    return {"lines": total, **summary.counts}


class Tour:
    """The tour's sections, printed to one console."""

    def __init__(self, ledger: Ledger, truth: dict[str, Any], where: str, traced_scheme: str, caught: Scorer) -> None:
        self.ledger = ledger
        self.truth = truth
        self.where = where
        self.traced_scheme = traced_scheme
        self.caught = caught
        self.read = ledger.read_side()
        self.now = self.read.catch_up()
        self.names = self.read.party_names(self.now)
        width = min(shutil.get_terminal_size((WIDTH_MAX, 24)).columns, WIDTH_MAX) if sys.stdout.isatty() else WIDTH_MAX
        self.console = Console(width=width, highlight=False)

    def print(self, counts: dict[str, int]) -> None:
        self.header(counts)
        color = self.trace()
        self.money()
        self.flags()
        self.verify()
        self.next_steps(color)

    def section(self, title: str) -> None:
        self.console.print()
        self.console.rule(f"[bold]{title}[/bold]", align="left")

    # --- what was simulated -----------------------------------------------------------------

    def header(self, counts: dict[str, int]) -> None:
        truth = self.truth
        projects = ", ".join(f"{pilot} {n}" for pilot, n in truth["projects"].items())
        self.console.print(f"[bold]tenge-ledger demo[/bold]: fiscal year 2025 of the three pilots, simulated with seed "
                           f"{truth['seed']} ({projects} projects), with {len(truth['instances'])} misuse schemes injected.")
        self.console.print(f"Imported {counts['lines']:,} records into {escape(self.where)}: "
                           f"{counts.get('applied', 0):,} applied, {counts.get('blocked', 0)} blocked by the ledger "
                           f"(attempts are recorded, and flagged as F07).")

    # --- 1. trace -------------------------------------------------------------------------

    def trace(self) -> str:
        instance = next(i for i in self.truth["instances"] if i["scheme"] == self.traced_scheme)
        color = instance["color"]
        self.section(f"1. Where one road allocation went: {color}")
        self.console.print(f"Misuse injected here: {instance['scheme']} — {escape(instance['note'])}. Final spends are "
                           f"summed per holder; `trace {color}` lists each with its provenance.")
        self.console.file.flush()
        render_trace_tree(_condensed(self.read.trace(color, self.now, None)))  # the terminal's width, 160 when piped
        return color

    # --- 2. money -------------------------------------------------------------------------

    def money(self) -> None:
        self.section("2. Money by pilot, and who holds the most")
        totals: dict[str, list[int]] = {}
        for color in self.ledger.colors():
            allocation = self.ledger.allocation(color)
            assert allocation is not None
            row = totals.setdefault(allocation.pilot, [0] * 6)
            for n, value in enumerate((1, allocation.allocated_tiyn, allocation.spent_tiyn, allocation.returned_tiyn,
                                       allocation.reserved_tiyn, allocation.held_tiyn)):
                row[n] += value
        reserved = any(row[4] for row in totals.values())  # open reservations are rare once the year is over
        columns = ["pilot", "colors", "allocated", "spent", "returned", *(["reserved"] if reserved else []), "held"]
        self.console.print("In millions of KZT (held: still with the holders at the end):")
        table = self.table(columns, right=tuple(columns[1:]))
        for pilot, row in sorted(totals.items()):
            table.add_row(pilot, str(row[0]), *(_millions(v) for n, v in enumerate(row[1:], 1) if reserved or n != 4))
        self.console.print(table)
        holders: dict[str, list[int]] = {}
        for _, holder, tiyn in self.read.balances(None):
            entry = holders.setdefault(holder, [0, 0])
            entry[0] += tiyn
            entry[1] += 1
        top = sorted(holders.items(), key=lambda item: (-item[1][0], item[0]))[:TOP_HOLDERS]
        self.console.print(f"\nThe {len(top)} largest of the {len(holders)} holders with a balance:")
        table = self.table(["party", "name", "colors", "balance KZT"], right=("colors", "balance KZT"))
        for party, (tiyn, colors) in top:
            table.add_row(party, escape(self.names.get(party, "")), str(colors), format_kzt(tiyn))
        self.console.print(table)

    # --- 3. flags -------------------------------------------------------------------------

    def flags(self) -> None:
        as_of = self.truth["evaluate_as_of"]
        flags = self.read.flags(self.read.resolve_as_of(as_of, self.now), self.now, as_of)
        self.section(f"3. Flags as of {as_of[:10]}, every window of fiscal 2025 closed")
        table = self.table(["rule", "pilot", "explanation"])
        for flag in flags:
            table.add_row(f"{flag['rule']}\n{flag['severity']}", f"{flag['pilot'] or ''}\n{flag['at'][:10]}",
                          escape(flag["explanation"]))
        self.console.print(table)
        found, unexplained = self.caught(self.truth, flags)
        self.console.print(f"\nThe injected schemes (the ground truth): {sum(found)} of {len(found)} caught by the rules "
                           f"they should raise; {unexplained} flag(s) outside them.")
        table = self.table(["scheme", "project", "expected", "caught"])
        for instance, hit in zip(self.truth["instances"], found, strict=True):
            table.add_row(instance["scheme"], instance["project"], " ".join(instance["rules"]), "yes" if hit else "NO")
        self.console.print(table)

    # --- 4. verify ------------------------------------------------------------------------

    def verify(self) -> None:
        self.section("4. Verification")
        findings = Verifier(self.ledger).run()
        record_verify_run(self.read.db, self.ledger.position(), self.ledger.actor, findings)  # for the console
        if findings:
            self.console.print(f"verify: [red]NOT intact[/red], {len(findings)} finding(s); the first: {findings[0]}")
            return
        self.console.print(f"verify: [green]ok[/green] — {self.now:,} events: the hash chain, the Merkle tree, every "
                           f"color's conservation, and the projections against a rebuild from the events.")

    def next_steps(self, color: str) -> None:
        store = f"--store {self.where} " if self.where != "tenge-ledger.sqlite" else ""
        self.section("Next")
        if self.where.startswith("memory://"):
            self.console.print("(This store lived in memory; `tenge-ledger demo` keeps one in tenge-ledger-demo.sqlite.)")
            store = "--store tenge-ledger-demo.sqlite "
        for line in (f"tenge-ledger {store}trace {color} --format html --out trace.html   # the flow as a page",
                     f"tenge-ledger {store}flags --as-of {self.truth['evaluate_as_of']}",
                     "tenge-ledger simulate road agro local --seed 7 --transactions 20000 --misuse-rate 0.05 --out w.jsonl",
                     "tenge-ledger simulate --evaluate w.jsonl   # recall and precision of every rule"):
            self.console.print(escape(line), soft_wrap=True)  # long commands wrap on the terminal, not in the text

    def table(self, columns: list[str], right: tuple[str, ...] = ()) -> Table:
        table = Table(header_style="bold", show_edge=False, pad_edge=False)
        for column in columns:
            table.add_column(column, justify="right" if column in right else "left", overflow="fold")
        return table


def _millions(tiyn: int) -> str:
    """Millions of KZT to one decimal (rounded down): 2 397 653 811 070 tiyn -> "23,976.5"."""
    tenths = tiyn // 10_000_000
    return f"{tenths // 10:,}.{tenths % 10}"


def _condensed(document: dict[str, Any]) -> dict[str, Any]:
    """The trace with each holder's final spends summed into one leaf (categories and count)."""
    spends: dict[str, dict[str, Any]] = {}
    for spend in document["spends"]:
        entry = spends.setdefault(spend["holder"], {"amount_tiyn": 0, "categories": {}, "count": 0})
        entry["amount_tiyn"] += spend["amount_tiyn"]
        entry["categories"][spend["category"]] = entry["categories"].get(spend["category"], 0) + spend["amount_tiyn"]
        entry["count"] += 1
    leaves = []
    for holder, entry in spends.items():
        categories = sorted(entry["categories"], key=lambda c: (-entry["categories"][c], c))
        shown = ", ".join(categories[:3]) + (f" +{len(categories) - 3}" if len(categories) > 3 else "")
        leaves.append({"holder": holder, "amount_tiyn": entry["amount_tiyn"], "category": shown,
                       "transaction": f"{entry['count']} spend{'s' if entry['count'] != 1 else ''}", "paths": []})
    return {**document, "spends": leaves}

