"""The trace for people: a tree on the terminal (rich), and a self-contained HTML page."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.tree import Tree

from domain.money import format_kzt
from ledger.render.trace_html import render_trace_html

__all__ = ["render_trace_html", "render_trace_tree"]


def _kzt(amount_tiyn: int) -> str:
    return f"{format_kzt(amount_tiyn)} KZT"


def _label(holder: dict[str, Any]) -> str:
    name = f" {holder['name']}" if holder["name"] else ""
    parts = [f"received {_kzt(holder['received_tiyn'])}"]
    for key, word in (("paid_on_tiyn", "paid on"), ("reserved_tiyn", "reserved"), ("spent_tiyn", "spent"),
                      ("returned_tiyn", "returned")):
        if holder[key]:
            parts.append(f"{word} {_kzt(holder[key])}")
    parts.append(f"[bold]balance {_kzt(holder['balance_tiyn'])}[/bold]")
    return f"[cyan]{holder['party']}[/cyan]{name} — " + ", ".join(parts)


def render_trace_tree(document: dict[str, Any]) -> None:
    """Print the flow as a tree: each holder under the first payer that reached it, spends as leaves."""
    holders = {h["party"]: h for h in document["holders"]}
    children: dict[str, list[dict[str, Any]]] = {}
    placed: set[str] = set()
    for edge in sorted(document["edges"], key=lambda x: (holders[x["from"]]["depth"] or 0)):
        if edge["to"] not in placed and holders[edge["to"]]["depth"] == (holders[edge["from"]]["depth"] or 0) + 1:
            children.setdefault(edge["from"], []).append(edge)
            placed.add(edge["to"])
    spends: dict[str, list[dict[str, Any]]] = {}
    for spend in document["spends"]:
        spends.setdefault(spend["holder"], []).append(spend)
    root = Tree(f"[bold]{document['color']}[/bold] ({document['pilot']}) allocated {_kzt(document['allocated_tiyn'])}, as of {document['as_of']}")
    roots = [h for h in document["holders"] if h["depth"] == 0]

    def grow(node: Tree, party: str) -> None:
        for spend in spends.get(party, []):
            node.add(f"[green]spent[/green] {_kzt(spend['amount_tiyn'])} on {spend['category']} ({spend['transaction']})")
        for edge in children.get(party, []):
            branch = node.add(f"[dim]paid {_kzt(edge['amount_tiyn'])} in {len(edge['transactions'])} payment(s)[/dim] → " + _label(holders[edge["to"]]))
            grow(branch, edge["to"])

    for holder in roots:
        grow(root.add(_label(holder)), holder["party"])
    console = Console(width=None if sys.stdout.isatty() else 160)
    console.print(root)
    c = document["conservation"]
    mark = "[green]ok[/green]" if c["ok"] else "[red]BROKEN[/red]"
    console.print(
        f"conservation {mark}: allocated {_kzt(c['allocated_tiyn'])} = held {_kzt(c['held_tiyn'])} + reserved "
        f"{_kzt(c['reserved_tiyn'])} + spent {_kzt(c['spent_tiyn'])} + returned {_kzt(c['returned_tiyn'])}"
    )
