"""The trace as a page for auditors: one self-contained HTML file (SPEC §6.1, `trace --format html`).

The flow is a Sankey diagram laid out here, in Python, as inline SVG. One column per holder depth
(the administrator first), a node per holder sized by what it received, a band per payer → payee
edge, and bands from every holder into the sinks on the right: final spends by category, returns,
reservations not yet released, and what is still held. Band widths are proportional to amounts;
every node and band has a tooltip with names and exact amounts. Tables below give every figure
exactly: holders, payments with their transaction ids, spends with their provenance chains, and
the conservation line.

The page fetches nothing — treasury networks are closed, and a Content-Security-Policy lets only
this page's own style and script run — and it renders fully without JavaScript; a few lines of
script only highlight a holder's bands on hover. Columns with very many holders show the largest
and group the rest, so the drawing stays legible; the tables always list everyone.

Money stays integer tiyn printed with `format_kzt`; floats are only pixel geometry. Every string
taken from the document is escaped.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape
from typing import Any

from domain.money import format_kzt

# --- geometry (pixels) ---------------------------------------------------------------------------
NODE_W = 14.0
COLUMN_STEP = 270.0  # from one column's left edge to the next one's
LEFT = 16.0
LABEL_ROOM = 270.0  # right of the last column, for the sinks' labels
HEADER_H = 34.0  # column headings above the nodes
BOTTOM = 16.0
FLOW_H = 520.0  # the tallest column's amounts are drawn in about this height
NODE_GAP = 14.0
LABEL_SLOT = 34.0  # every node gets at least this much height, so that labels never collide
NODE_MIN_H = 2.0
BAND_MIN_W = 1.0
BAND_BEND = 90.0  # how far a backward band swings out

MAX_NODES_PER_COLUMN = 24  # beyond this, a column shows the largest and groups the rest
LABEL_CHARS = 34
TOOLTIP_IDS = 12

COLUMN_COLOURS = ("#1f5f8b", "#2a9d8f", "#c77d1a", "#8e5ea2", "#c8414f", "#4f772d", "#577590", "#9c6644")
SINK_COLOURS = {"spent": "#2e7d32", "returned": "#6c757d", "reserved": "#d4a017", "held": "#90a4b8"}
SINK_TITLES = {"returned": "Returned", "reserved": "Reserved, not yet released", "held": "Still held"}
GROUP = "\u202f"  # narrow no-break space between digit groups in the diagram's labels


@dataclass(eq=False)
class _Node:
    key: str  # a party id, "others-D" for a grouped column rest, "sink-…" for a sink
    column: int
    label: str
    tip: str
    value_tiyn: int
    colour: str
    kind: str  # holder | others | sink
    note: str = ""  # the label's second line, after the amount
    x: float = 0.0
    y: float = 0.0
    h: float = 0.0


@dataclass(eq=False)
class _Band:
    source: _Node
    target: _Node
    amount_tiyn: int
    kind: str  # edge | spent | returned | reserved | held
    tip: str
    y0: float = 0.0
    y1: float = 0.0
    w: float = 0.0


@dataclass
class _Diagram:
    columns: list[list[_Node]]
    headings: list[str]
    bands: list[_Band]
    grouped: int = 0  # holders drawn inside "others" nodes
    scale: float = 0.0  # pixels per tiyn
    width: float = 0.0
    height: float = 0.0
    notes: list[str] = field(default_factory=list)


# --- amounts and names ---------------------------------------------------------------------------


def _kzt(amount_tiyn: int) -> str:
    return f"{format_kzt(amount_tiyn)} KZT"


def _grouped(amount_tiyn: int) -> str:
    """format_kzt with the whole part in groups of three digits: 3 150 000 000.00 KZT."""
    text = format_kzt(amount_tiyn)
    sign = "-" if text.startswith("-") else ""
    whole, fraction = text.lstrip("-").split(".")
    groups = [whole[max(0, end - 3):end] for end in range(len(whole), 0, -3)]
    return f"{sign}{GROUP.join(reversed(groups))}.{fraction} KZT"


def _share(part_tiyn: int, whole_tiyn: int) -> str:
    """part / whole as a percentage with one decimal, in integers (half up); '' when whole is 0."""
    if whole_tiyn <= 0:
        return ""
    tenths = (part_tiyn * 1000 * 2 + whole_tiyn) // (2 * whole_tiyn)
    return f"{tenths // 10}.{tenths % 10}%"


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _who(holder: dict[str, Any] | None, party: str) -> str:
    name = holder["name"] if holder else ""
    return f"{name} ({party})" if name else party


def _ids(transactions: list[str]) -> str:
    shown = ", ".join(transactions[:TOOLTIP_IDS])
    more = len(transactions) - TOOLTIP_IDS
    return shown + (f" … and {more} more" if more > 0 else "")


# --- the diagram's nodes and bands -----------------------------------------------------------------


def _holder_columns(document: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """Holders by depth; a holder no payment reached (no depth) goes after the deepest."""
    known = [h["depth"] for h in document["holders"] if h["depth"] is not None]
    unreached = max(known, default=0) + 1
    columns: list[list[dict[str, Any]]] = [[] for _ in range(unreached + 1)]
    for holder in document["holders"]:
        columns[unreached if holder["depth"] is None else holder["depth"]].append(holder)
    while columns and not columns[-1]:
        columns.pop()
    return columns


def _holder_nodes(document: dict[str, Any], diagram: _Diagram) -> dict[str, _Node]:
    """A node per holder, except that a crowded column groups its smallest holders into one."""
    node_of: dict[str, _Node] = {}
    allocated = document["allocated_tiyn"]
    for c, holders in enumerate(_holder_columns(document)):
        colour = COLUMN_COLOURS[c % len(COLUMN_COLOURS)]
        drawn = {h["party"] for h in holders}
        if len(holders) > MAX_NODES_PER_COLUMN:
            largest = sorted(holders, key=lambda h: -h["received_tiyn"])[: MAX_NODES_PER_COLUMN - 1]
            drawn = {h["party"] for h in largest}
        column: list[_Node] = []
        for h in (h for h in holders if h["party"] in drawn):
            tip = (f"{_who(h, h['party'])}\nreceived {_kzt(h['received_tiyn'])}, paid on {_kzt(h['paid_on_tiyn'])}, "
                   f"spent {_kzt(h['spent_tiyn'])}, returned {_kzt(h['returned_tiyn'])}, "
                   f"reserved {_kzt(h['reserved_tiyn'])}, balance {_kzt(h['balance_tiyn'])}")
            node = _Node(h["party"], c, h["name"] or h["party"], tip, h["received_tiyn"], colour, "holder",
                         _share(h["received_tiyn"], allocated))
            column.append(node)
            node_of[h["party"]] = node
        rest = [h for h in holders if h["party"] not in node_of]
        if rest:
            total = sum(h["received_tiyn"] for h in rest)
            others = _Node(f"others-{c}", c, f"{len(rest)} more holders", f"{len(rest)} more holders in this column, "
                           f"together received {_kzt(total)}; each is listed in the holders table", total, colour, "others")
            column.append(others)
            node_of.update((h["party"], others) for h in rest)
            diagram.grouped += len(rest)
        diagram.columns.append(column)
        diagram.headings.append("Administrator" if c == 0 else f"Depth {c}")
    return node_of


def _edge_bands(document: dict[str, Any], node_of: dict[str, _Node]) -> list[_Band]:
    """A band per payer → payee edge (edges between two grouped holders merge)."""
    holders = {h["party"]: h for h in document["holders"]}
    merged: dict[tuple[_Node, _Node], list[dict[str, Any]]] = {}
    for edge in document["edges"]:
        source, target = node_of[edge["from"]], node_of[edge["to"]]
        if source is not target and edge["amount_tiyn"] > 0:
            merged.setdefault((source, target), []).append(edge)
    bands = []
    for (source, target), parts in merged.items():
        amount = sum(edge["amount_tiyn"] for edge in parts)
        transactions = [t for edge in parts for t in edge["transactions"]]
        if len(parts) == 1:
            edge = parts[0]
            tip = (f"{_who(holders.get(edge['from']), edge['from'])} → {_who(holders.get(edge['to']), edge['to'])}\n"
                   f"{_kzt(amount)} in {len(transactions)} transaction(s): {_ids(transactions)}")
        else:
            tip = f"{len(parts)} payment flows between grouped holders\n{_kzt(amount)}: {_ids(transactions)}"
        bands.append(_Band(source, target, amount, "edge", tip))
    return bands


def _sink_amounts(document: dict[str, Any]) -> dict[tuple[str, str, str], int]:
    """(holder, sink kind, category) → amount: spends by category, returned, reserved, still held."""
    amounts: dict[tuple[str, str, str], int] = {}
    for spend in document["spends"]:
        key = (spend["holder"], "spent", spend["category"])
        amounts[key] = amounts.get(key, 0) + spend["amount_tiyn"]
    for h in document["holders"]:
        for kind, name in (("returned", "returned_tiyn"), ("reserved", "reserved_tiyn"), ("held", "balance_tiyn")):
            if h[name]:
                amounts[h["party"], kind, ""] = h[name]
    return {key: amount for key, amount in amounts.items() if amount > 0}


def _sink_bands(document: dict[str, Any], node_of: dict[str, _Node], diagram: _Diagram) -> list[_Band]:
    """Bands from holders into the sinks column: categories by amount, then returned, reserved, held."""
    amounts = _sink_amounts(document)
    totals: dict[tuple[str, str], int] = {}
    for (_, kind, category), amount in amounts.items():
        totals[kind, category] = totals.get((kind, category), 0) + amount
    order = {"spent": 0, "returned": 1, "reserved": 2, "held": 3}
    column = len(diagram.columns)
    sinks: dict[tuple[str, str], _Node] = {}
    for kind, category in sorted(totals, key=lambda k: (order[k[0]], -totals[k], k[1])):
        total = totals[kind, category]
        label = f"Spent on {category}" if kind == "spent" else SINK_TITLES[kind]
        sinks[kind, category] = _Node(f"sink-{kind}-{category}" if category else f"sink-{kind}", column, label,
                                      f"{label}: {_kzt(total)}", total, SINK_COLOURS[kind], "sink",
                                      _share(total, document["allocated_tiyn"]))
    merged: dict[tuple[_Node, _Node, str], int] = {}
    for (party, kind, category), amount in amounts.items():
        key = (node_of[party], sinks[kind, category], kind)
        merged[key] = merged.get(key, 0) + amount
    bands = []
    for (source, sink, kind), amount in merged.items():
        who = f"{source.label} ({source.key})" if source.kind == "holder" else source.label
        bands.append(_Band(source, sink, amount, kind, f"{who} → {sink.label}\n{_kzt(amount)}"))
    diagram.columns.append(list(sinks.values()))
    diagram.headings.append("Where the money is now")
    return bands


def _order_columns(diagram: _Diagram) -> None:
    """Order each holder column by where its payers stand (fewer crossings); the grouped rest last."""
    if not diagram.columns:
        return
    rank: dict[_Node, float] = {node: float(i) for i, node in enumerate(diagram.columns[0])}
    for column in diagram.columns[1:-1]:
        weight: dict[_Node, float] = {}
        pull: dict[_Node, float] = {}
        for band in diagram.bands:
            if band.target in column and band.source in rank:
                weight[band.target] = weight.get(band.target, 0.0) + band.amount_tiyn + 1
                pull[band.target] = pull.get(band.target, 0.0) + rank[band.source] * (band.amount_tiyn + 1)
        column.sort(key=lambda n: (n.kind == "others", pull.get(n, 0.0) / weight.get(n, 1.0), -n.value_tiyn))
        rank.update((node, float(i)) for i, node in enumerate(column))


# --- layout ----------------------------------------------------------------------------------------


def _layout(document: dict[str, Any]) -> _Diagram:
    diagram = _Diagram([], [], [])
    node_of = _holder_nodes(document, diagram)
    diagram.bands = _edge_bands(document, node_of)
    diagram.bands += _sink_bands(document, node_of, diagram)
    _order_columns(diagram)
    _place_nodes(diagram)
    _place_bands(diagram)
    return diagram


def _place_nodes(diagram: _Diagram) -> None:
    """Scale so the tallest column's amounts fit FLOW_H; stack each column, centred vertically."""
    fits = []
    for column in diagram.columns:
        total = sum(node.value_tiyn for node in column)
        if total > 0:
            fits.append(max(FLOW_H / 4, FLOW_H - NODE_GAP * (len(column) - 1)) / total)
    diagram.scale = min(fits, default=0.0)
    extents = []
    for c, column in enumerate(diagram.columns):
        for node in column:
            node.x = LEFT + c * COLUMN_STEP
            node.h = max(node.value_tiyn * diagram.scale, NODE_MIN_H)
        extents.append(sum(max(n.h, LABEL_SLOT) for n in column) + NODE_GAP * max(len(column) - 1, 0))
    flow_h = max(extents, default=0.0)
    for column, extent in zip(diagram.columns, extents):
        y = HEADER_H + (flow_h - extent) / 2
        for node in column:
            node.y = y
            y += max(node.h, LABEL_SLOT) + NODE_GAP
    diagram.width = LEFT + (len(diagram.columns) - 1) * COLUMN_STEP + NODE_W + LABEL_ROOM
    diagram.height = HEADER_H + flow_h + BOTTOM


def _place_bands(diagram: _Diagram) -> None:
    """Stack bands down each node's right side in their targets' order, and down its left in their sources'."""
    for band in diagram.bands:
        band.w = band.amount_tiyn * diagram.scale
    leaving: dict[_Node, list[_Band]] = {}
    arriving: dict[_Node, list[_Band]] = {}
    for band in diagram.bands:
        leaving.setdefault(band.source, []).append(band)
        arriving.setdefault(band.target, []).append(band)
    for node, bands in leaving.items():
        y = node.y
        for band in sorted(bands, key=lambda b: (b.target.y + b.target.h / 2, b.target.x)):
            band.y0, y = y + band.w / 2, y + band.w
    for node, bands in arriving.items():
        y = node.y
        for band in sorted(bands, key=lambda b: (b.y0, b.source.x)):
            band.y1, y = y + band.w / 2, y + band.w


# --- SVG -------------------------------------------------------------------------------------------


def _band_path(band: _Band) -> str:
    x0, x1 = band.source.x + NODE_W, band.target.x
    if x1 > x0:
        mid = (x0 + x1) / 2
        return f"M{x0:.1f},{band.y0:.2f} C{mid:.1f},{band.y0:.2f} {mid:.1f},{band.y1:.2f} {x1:.1f},{band.y1:.2f}"
    return (f"M{x0:.1f},{band.y0:.2f} C{x0 + BAND_BEND:.1f},{band.y0:.2f} "
            f"{x1 - BAND_BEND:.1f},{band.y1:.2f} {x1:.1f},{band.y1:.2f}")


def _svg_band(band: _Band) -> str:
    kind = "edge" if band.kind == "edge" else f"sink {band.kind}"
    backward = " back" if band.target.x <= band.source.x else ""
    colour = band.source.colour if band.kind == "edge" else band.target.colour
    return (f'<path class="band {kind}{backward}" data-src="{escape(band.source.key)}" '
            f'data-dst="{escape(band.target.key)}" d="{_band_path(band)}" stroke="{colour}" '
            f'stroke-width="{max(band.w, BAND_MIN_W):.2f}"><title>{escape(band.tip)}</title></path>')


def _svg_node(node: _Node) -> str:
    rect = (f'<rect x="{node.x:.1f}" y="{node.y:.2f}" width="{NODE_W:.0f}" height="{node.h:.2f}" '
            f'fill="{node.colour}"><title>{escape(node.tip)}</title></rect>')
    tx, ty = node.x + NODE_W + 6, node.y + 12
    amount = _grouped(node.value_tiyn) + (f" · {node.note}" if node.note else "")
    second = f"{node.key} · {amount}" if node.kind == "holder" else amount
    text = (f'<text x="{tx:.1f}" y="{ty:.2f}"><tspan class="name">{escape(_short(node.label))}</tspan>'
            f'<tspan class="amount" x="{tx:.1f}" dy="14">{escape(second)}</tspan>'
            f"<title>{escape(node.tip)}</title></text>")
    body = rect + text
    if node.kind == "holder":
        body = f'<a href="#holder-{escape(node.key)}">{body}</a>'
    return f'<g class="node {node.kind}" data-node="{escape(node.key)}">{body}</g>'


def _svg(diagram: _Diagram, color: str) -> str:
    parts = [f'<svg class="sankey" viewBox="0 0 {diagram.width:.0f} {diagram.height:.0f}" '
             f'width="{diagram.width:.0f}" height="{diagram.height:.0f}" '
             f'aria-labelledby="sankey-title"><title id="sankey-title">Flow of {escape(color)}</title>']
    for c, heading in enumerate(diagram.headings):
        parts.append(f'<text class="heading" x="{LEFT + c * COLUMN_STEP:.1f}" y="18">{escape(heading)}</text>')
    parts.append('<g class="bands">')
    parts.extend(_svg_band(band) for band in sorted(diagram.bands, key=lambda b: -b.amount_tiyn))
    parts.append('</g><g class="nodes">')
    parts.extend(_svg_node(node) for column in diagram.columns for node in column)
    parts.append("</g></svg>")
    return "\n".join(parts)


# --- tables ----------------------------------------------------------------------------------------


def _party_cell(holders: dict[str, dict[str, Any]], party: str) -> str:
    holder = holders.get(party)
    name = f'<span class="who">{escape(holder["name"])}</span> ' if holder and holder["name"] else ""
    return f'<td>{name}<a href="#holder-{escape(party)}"><code>{escape(party)}</code></a></td>'


def _money_cell(amount_tiyn: int) -> str:
    return f'<td class="num">{escape(format_kzt(amount_tiyn))}</td>'


def _id_list(transactions: Iterable[str], separator: str = ", ") -> str:
    return separator.join(f"<code>{escape(t)}</code>" for t in transactions)


def _holders_table(document: dict[str, Any]) -> str:
    rows = []
    for h in document["holders"]:
        depth = "" if h["depth"] is None else str(h["depth"])
        money = "".join(_money_cell(h[k]) for k in ("received_tiyn", "paid_on_tiyn", "spent_tiyn", "returned_tiyn",
                                                    "reserved_tiyn", "balance_tiyn"))
        rows.append(f'<tr id="holder-{escape(h["party"])}" data-node="{escape(h["party"])}"><td class="num">{depth}</td>'
                    f'<td><code>{escape(h["party"])}</code></td><td class="who">{escape(h["name"])}</td>{money}</tr>')
    head = ("<tr><th>Depth</th><th>Party</th><th>Name</th><th>Received</th><th>Paid on</th><th>Spent</th>"
            "<th>Returned</th><th>Reserved</th><th>Balance</th></tr>")
    return _table("holders", f"Holders ({len(rows)})", "Amounts in KZT.", head, rows)


def _edges_table(document: dict[str, Any]) -> str:
    holders = {h["party"]: h for h in document["holders"]}
    rows = [f"<tr>{_party_cell(holders, x['from'])}{_party_cell(holders, x['to'])}{_money_cell(x['amount_tiyn'])}"
            f'<td class="ids">{_id_list(x["transactions"])}</td></tr>' for x in document["edges"]]
    head = "<tr><th>From</th><th>To</th><th>Amount</th><th>Transactions</th></tr>"
    note = "Amounts in KZT. A released reservation shows as its reservation and release transactions."
    return _table("payments", f"Payments between holders ({len(rows)})", note, head, rows)


def _spends_table(document: dict[str, Any]) -> str:
    holders = {h["party"]: h for h in document["holders"]}
    rows = []
    for spend in document["spends"]:
        paths = "".join(f'<li><span class="num">{escape(format_kzt(p["amount_tiyn"]))}</span> via '
                        f'{_id_list(p["transactions"], " → ")}</li>' for p in spend["paths"])
        rows.append(f'<tr><td><code>{escape(spend["transaction"])}</code></td>{_party_cell(holders, spend["holder"])}'
                    f'<td>{escape(spend["category"])}</td>{_money_cell(spend["amount_tiyn"])}'
                    f'<td><ul class="paths">{paths}</ul></td></tr>')
    head = "<tr><th>Transaction</th><th>Holder</th><th>Category</th><th>Amount</th><th>Provenance</th></tr>"
    note = ("Amounts in KZT. Provenance: each part of a spend with the chain of transactions that carried it "
            "from the allocation to the spend.")
    return _table("spends", f"Final spends ({len(rows)})", note, head, rows)


def _table(anchor: str, title: str, note: str, head: str, rows: list[str]) -> str:
    body = "\n".join(rows) if rows else '<tr><td colspan="9" class="empty">none</td></tr>'
    return (f'<section id="{anchor}"><h2>{escape(title)}</h2><p class="note">{escape(note)}</p>'
            f"<div class=\"scroll\"><table><thead>{head}</thead><tbody>\n{body}\n</tbody></table></div></section>")


# --- the page --------------------------------------------------------------------------------------


def _conservation(document: dict[str, Any]) -> str:
    c = document["conservation"]
    state, word = ("ok", "Conservation holds") if c["ok"] else ("broken", "Conservation is BROKEN")
    return (f'<p class="conservation {state}">{word}: allocated {escape(_kzt(c["allocated_tiyn"]))} = held '
            f'{escape(_kzt(c["held_tiyn"]))} + reserved {escape(_kzt(c["reserved_tiyn"]))} + spent '
            f'{escape(_kzt(c["spent_tiyn"]))} + returned {escape(_kzt(c["returned_tiyn"]))}</p>')


def _summary(document: dict[str, Any]) -> str:
    c, allocated = document["conservation"], document["allocated_tiyn"]
    figures = [("Allocated", allocated), ("Spent", c["spent_tiyn"]), ("Returned", c["returned_tiyn"]),
               ("Reserved", c["reserved_tiyn"]), ("Still held", c["held_tiyn"])]
    cells = "".join(f'<div class="figure"><span class="what">{word}</span><span class="value">{escape(_grouped(amount))}'
                    f'</span><span class="share">{escape(_share(amount, allocated))}</span></div>'
                    for word, amount in figures)
    return f'<div class="figures">{cells}</div>'


def _diagram_section(document: dict[str, Any], diagram: _Diagram) -> str:
    notes = ["Band widths are proportional to amounts. Point at a node or band for exact amounts; "
             "point at a holder to highlight its flows; click it to jump to its row."]
    if not document["edges"]:
        notes.append("No payments yet: the whole allocation is still with the administrator.")
    if diagram.grouped:
        notes.append(f"Columns with more than {MAX_NODES_PER_COLUMN} holders show the largest "
                     f"{MAX_NODES_PER_COLUMN - 1} and group the rest ({diagram.grouped} holders); "
                     "the tables list every holder.")
    text = "".join(f'<p class="note">{escape(note)}</p>' for note in notes)
    return f'<section id="flow"><h2>Flow of funds</h2>{text}<div class="scroll">{_svg(diagram, document["color"])}</div></section>'


def render_trace_html(document: dict[str, Any]) -> str:
    """The trace document (SPEC §6.1) as one self-contained HTML5 page."""
    color = escape(document["color"])
    diagram = _layout(document)
    csp = (f"default-src 'none'; style-src '{_digest(_CSS)}'; script-src '{_digest(_SCRIPT)}'; "
           "img-src data:; base-uri 'none'; form-action 'none'")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{escape(csp, quote=False)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Trace of {color}</title>
<style>{_CSS}</style>
</head>
<body>
<header>
<h1>Trace of <code>{color}</code></h1>
<p class="meta">Pilot {escape(document["pilot"])} · allocated {escape(_kzt(document["allocated_tiyn"]))} ·
as of {escape(str(document["as_of"]))} (store position {escape(str(document["position"]))})</p>
{_conservation(document)}
{_summary(document)}
</header>
<main>
{_diagram_section(document, diagram)}
{_holders_table(document)}
{_edges_table(document)}
{_spends_table(document)}
<section id="conservation"><h2>Conservation</h2>{_conservation(document)}</section>
</main>
<script>{_SCRIPT}</script>
</body>
</html>
"""


def _digest(text: str) -> str:
    """A CSP source expression allowing exactly this inline style or script."""
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  color: #1d2430; background: #fbfbfa; margin: 0 auto; padding: 20px 28px 40px; max-width: 1500px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 4px; }
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
.meta, .note { color: #556070; margin: 2px 0 8px; }
.conservation { display: inline-block; padding: 5px 10px; border-radius: 4px; font-weight: 600; margin: 6px 0; }
.conservation.ok { background: #e3f4e6; color: #1b5e20; border: 1px solid #8cc79a; }
.conservation.broken { background: #fde4e4; color: #8e0e0e; border: 1px solid #e08a8a; }
.figures { display: flex; flex-wrap: wrap; gap: 10px; margin: 10px 0 0; }
.figure { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 6px 12px; min-width: 150px; }
.figure span { display: block; } .figure .what { color: #556070; font-size: 12px; }
.figure .value { font-weight: 600; font-variant-numeric: tabular-nums; } .figure .share { color: #556070; font-size: 12px; }
.scroll { overflow-x: auto; background: #fff; border: 1px solid #dde1e6; border-radius: 6px; }
svg.sankey { display: block; font-size: 12px; }
svg.sankey .heading { font-weight: 600; fill: #556070; }
svg.sankey .band { fill: none; stroke-opacity: 0.38; transition: stroke-opacity 0.15s; }
svg.sankey .band.back { stroke-opacity: 0.22; }
svg.sankey .band:hover { stroke-opacity: 0.7; }
svg.sankey.focus .band { stroke-opacity: 0.07; } svg.sankey.focus .band.hi { stroke-opacity: 0.75; }
svg.sankey text { fill: #1d2430; paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
svg.sankey .name { font-weight: 600; } svg.sankey .amount { font-size: 11px; fill: #445060; }
svg.sankey a { cursor: pointer; } svg.sankey .node rect { stroke: #fff; stroke-width: 0.5; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e7eaee; vertical-align: top; }
th { background: #f1f3f5; font-weight: 600; position: sticky; top: 0; }
td.num, th:nth-child(n+4) { text-align: right; } td.num, .paths .num { font-variant-numeric: tabular-nums; white-space: nowrap; }
#payments th:nth-child(4), #spends th:nth-child(5) { text-align: left; }
#holders th:nth-child(3) { text-align: left; } #spends th:nth-child(4) { text-align: right; }
td.who, .who { overflow-wrap: anywhere; } td.ids { overflow-wrap: anywhere; max-width: 520px; }
.paths { margin: 0; padding: 0; list-style: none; } .paths .num { margin-right: 8px; }
tbody tr:hover { background: #f5f8fc; } tr:target { background: #fff6d6; }
.empty { color: #8a94a0; text-align: center; }
a { color: #1f5f8b; text-decoration: none; } a:hover { text-decoration: underline; }
@media print { .scroll { overflow: visible; border: 0; } th { position: static; } }
"""

_SCRIPT = """
(function () {
  var svg = document.querySelector("svg.sankey");
  if (!svg) { return; }
  var bands = svg.querySelectorAll(".band");
  function mark(key) {
    svg.classList.toggle("focus", key !== null);
    for (var i = 0; i < bands.length; i++) {
      var b = bands[i];
      var on = key !== null && (b.getAttribute("data-src") === key || b.getAttribute("data-dst") === key);
      b.classList.toggle("hi", on);
    }
  }
  var hovers = document.querySelectorAll("[data-node]");
  for (var j = 0; j < hovers.length; j++) {
    hovers[j].addEventListener("mouseenter", function () { mark(this.getAttribute("data-node")); });
    hovers[j].addEventListener("mouseleave", function () { mark(null); });
  }
  svg.setAttribute("data-ready", "1");
})();
"""


@dataclass(frozen=True)
class TraceParts:
    """The diagram and tables of a trace, for a page that has its own frame (the console): the
    body's HTML, and the style and script it needs (served by that page as its own files)."""

    diagram: str  # the flow-of-funds section (inline SVG)
    tables: str  # holders, payments, spends with provenance, conservation
    css: str
    script: str


def render_trace_parts(document: dict[str, Any]) -> TraceParts:
    """The trace document (SPEC §6.1) as the parts `render_trace_html` puts in its page."""
    diagram = _layout(document)
    tables = _holders_table(document) + _edges_table(document) + _spends_table(document)
    return TraceParts(_summary(document) + _diagram_section(document, diagram), tables, _CSS, _SCRIPT)
