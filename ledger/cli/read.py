"""The auditors' commands: balance, history, trace, rebuild (SPEC §5–§6.1).

Each first brings the projections up to date with the store (a progress bar on a terminal when
there is much to catch up; nothing to do here while a projection worker keeps them up to date), then answers as of now, a business time, or a store position.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from collections.abc import Callable
from typing import Any, TypeVar

import click

from domain.cases import STATUS_FILTERS
from domain.errors import InvalidValue
from domain.identifiers import PILOTS, parse_color, parse_party_id
from domain.money import format_kzt
from ledger.integrity.document import event_document
from ledger.render import text as render
from ledger.cli.base import EXIT_BLOCKED, EXIT_OK, Context, UsageProblem, as_of_option, checked, format_choice, format_option
from ledger.read import ReadSide, UnknownColor, status_matches
from ledger.render.progress import progress_bars
from ledger.render.trace_tree import render_trace_html, render_trace_tree
from projections.rules.registry import CATALOG_ORDER
from projections.rules.engine import SEVERITIES

CATCH_UP_BAR_MIN_EVENTS = 20_000


def wall_clock() -> datetime:
    """The current time: `flags` with no `--as-of` judges as of it (SPEC §5). The only place the read
    commands read the clock; tests replace it."""
    return datetime.now(timezone.utc)


T = TypeVar("T")


def _read_side(obj: Context) -> tuple[ReadSide, int]:
    """The read side, caught up (a bar on a terminal when this process has much to apply); and the
    current position."""
    ledger = obj.ledger()
    read = obj.read_side()
    start = read.runner.reached()
    last = ledger.position()
    mode = "auto" if last - start >= CATCH_UP_BAR_MIN_EVENTS else "none"
    with progress_bars(mode, transient=True) as bars:
        now = read.catch_up(on_progress=bars.positions("catching up projections", start, last))
    return read, now


def _position(read: ReadSide, as_of: str | None, now: int) -> int:
    try:
        return read.resolve_as_of(as_of, now)
    except InvalidValue as problem:
        raise UsageProblem(f"--as-of: {problem}") from problem


def _about_color(obj: Context, color_text: str, as_of: str | None,
                 ask: Callable[[ReadSide, str, int], T]) -> tuple[str, int, T | None]:
    """(color, position, answer) of a question about one color as of `as_of`; the answer is None,
    and the reason printed, when the color is unknown then (exit 1, as a blocked command)."""
    color = checked(parse_color, color_text, "COLOR")
    assert color is not None
    read, now = _read_side(obj)
    position = _position(read, as_of, now)
    try:
        return color, position, ask(read, color, position)
    except UnknownColor as unknown:
        click.echo(f"error: {unknown}", err=True)
        return color, position, None


@click.command()
@click.option("--party", help="only this holder (BIN/IIN)")
@click.option("--color", help="only this color")
@as_of_option
@format_option
@click.pass_obj
def balance(obj: Context, party: str | None, color: str | None, as_of: str | None, fmt: str | None) -> int:
    """Balances per holder and color."""
    party = checked(parse_party_id, party, "--party")
    color = checked(parse_color, color, "--color")
    read, now = _read_side(obj)
    position = _position(read, as_of, now)
    names = read.party_names(position)
    rows = [
        {"color": c, "party": holder, "name": names.get(holder, ""), "balance": format_kzt(tiyn), "balance_tiyn": tiyn}
        for c, holder, tiyn in read.balances(None if position == now and as_of is None else position, color, party, as_of)
    ]
    fmt = fmt or render.default_format()
    if fmt == "json":
        render.dump_json({"as_of": as_of or f"@{position}", "position": position, "balances": rows})
    elif fmt == "jsonl":
        render.dump_jsonl(rows)
    else:
        render.print_table(f"Balances as of @{position}", ["color", "party", "name", "balance KZT"],
                           ([r["color"], r["party"], r["name"], r["balance"]] for r in rows), right=["balance KZT"])
    return EXIT_OK


@click.command()
@click.argument("color")
@as_of_option
@format_option
@click.pass_obj
def history(obj: Context, color: str, as_of: str | None, fmt: str | None) -> int:
    """The color's events in order, as recorded (blocked attempts included)."""
    color, position, events = _about_color(obj, color, as_of, lambda read, c, p: read.color_events(c, p, as_of))
    if events is None:
        return EXIT_BLOCKED
    documents = [{"position": p, **event_document(event)} for p, event in events]
    fmt = fmt or render.default_format()
    if fmt == "json":
        render.dump_json({"color": color, "as_of": as_of or f"@{position}", "position": position, "events": documents})
    elif fmt == "jsonl":
        render.dump_jsonl(documents)
    else:
        rows = ([p, event.at.isoformat(), type(event).__name__, event.command_id, render.event_summary(event)] for p, event in events)
        render.print_table(f"History of {color} as of @{position}", ["@", "at", "event", "transaction", "what"], rows)
    return EXIT_OK


@click.command()
@click.argument("color")
@as_of_option
@format_choice("table", "json", "html")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, writable=True),
              help="with --format html: the file to write (default trace-COLOR.html)")
@click.pass_obj
def trace(obj: Context, color: str, as_of: str | None, fmt: str | None, out_path: str | None) -> int:
    """Where the allocation went: holders, payments, final spends with their provenance."""
    color, _, document = _about_color(obj, color, as_of, lambda read, c, p: read.trace(c, p, as_of))
    if document is None:
        return EXIT_BLOCKED
    fmt = fmt or render.default_format()
    if fmt == "html":
        path = Path(out_path or f"trace-{color}.html")
        path.write_text(render_trace_html(document), encoding="utf-8")
        click.echo(f"wrote {path}", err=True)
    elif fmt == "json":
        render.dump_json(document)
    else:
        render_trace_tree(document)
    return EXIT_OK


@click.command()
@click.option("--projection", "names", multiple=True, help="only this projection (repeatable); default all")
@click.pass_obj
def rebuild(obj: Context, names: tuple[str, ...]) -> int:
    """Drop projections and rebuild them from the events."""
    ledger = obj.ledger()
    read = obj.read_side()
    known = list(read.runner.projections)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageProblem(f"--projection: no projection {', '.join(unknown)}; known: {', '.join(known)}")
    with progress_bars() as bars:
        read.rebuild(list(names) or None, on_progress=bars.positions("rebuilding", 0, ledger.position()))
    click.echo(f"rebuilt {', '.join(names or known)} up to @{ledger.position()}", err=True)
    return EXIT_OK


@click.command()
@click.option("--pilot", type=click.Choice(PILOTS, case_sensitive=False), help="only flags of this pilot")
@click.option("--color", help="only flags about this color")
@click.option("--rule", "rule_codes", multiple=True, help="only this rule code, e.g. F01 (repeatable)")
@click.option("--severity", type=click.Choice(SEVERITIES), help="only flags at least this severe")
@click.option("--status", type=click.Choice(STATUS_FILTERS),
              help="only flags in this case status: open (no disposition), an auditor's latest disposition, "
                   "or closed (any disposition)")
@as_of_option
@format_option
@click.pass_obj
def flags(obj: Context, pilot: str | None, color: str | None, rule_codes: tuple[str, ...], severity: str | None,
          status: str | None, as_of: str | None, fmt: str | None) -> int:
    """Anomaly flags (RULES.md): what is allowed but looks like misuse, each explained.

    Judged as of --as-of T, or by default as of now: every window and deadline the clock has passed
    is closed (a year-end rush shows once the year is over, with no later event needed). Each flag
    has its id and its case status: open, or the latest disposition an auditor recorded (`dispose`)."""
    color = checked(parse_color, color, "--color")
    codes = {code.upper() for code in rule_codes}
    unknown = sorted(codes - set(CATALOG_ORDER))
    if unknown:
        raise UsageProblem(f"--rule: no rule {', '.join(unknown)}; rules: {', '.join(CATALOG_ORDER)}")
    read, now = _read_side(obj)
    position = _position(read, as_of, now)
    least = SEVERITIES.index(severity) if severity else 0
    wall_time = wall_clock() if as_of is None else None  # by default, windows the clock has passed are closed
    documents = [
        flag for flag in read.with_status(read.flags(position, now, as_of, wall_time), position, now, as_of)
        if status_matches(flag, status) and (not pilot or flag["pilot"] == pilot.upper()) and (not color or flag["color"] == color)
        and (not codes or flag["rule"] in codes) and SEVERITIES.index(flag["severity"]) >= least
    ]
    fmt = fmt or render.default_format()
    if fmt == "json":
        render.dump_json(documents)
    elif fmt == "jsonl":
        render.dump_jsonl(documents)
    else:
        rows = ([f["id"], f["severity"], f["pilot"] or "", f["at"][:10], f["status"], f["explanation"]] for f in documents)
        judged = as_of or f"@{position}, {wall_time.isoformat(timespec='seconds') if wall_time else 'now'}"
        render.print_table(f"{len(documents)} flag(s) as of {judged}", ["flag", "severity", "pilot", "date", "status", "explanation"], rows)
    return EXIT_OK


READ_COMMANDS: list[Any] = [balance, history, trace, flags, rebuild]
