"""`tenge-ledger export FORMAT` (SPEC §3.2): camt.053, OCDS, Beancount or Parquet out.

A read command: it never creates a store (exit 69 when it is missing). It catches the projections
up, resolves `--as-of`, then walks the colors (a progress bar on a terminal for long exports) and
writes `--out` whole or not at all (exit 74, one line, when `--out` cannot be written).
"""

from __future__ import annotations

from pathlib import Path

import click

from domain.identifiers import parse_color, parse_party_id
from ledger.cli.base import EXIT_BLOCKED, EXIT_OK, Context, as_of_option, checked
from ledger.cli.read import _position, _read_side, wall_clock
from ledger.export import FORMATS
from ledger.export.ocds import DEFAULT_OCID_PREFIX
from ledger.export.run import ExportOptions, NothingToExport, Staging, write_export
from ledger.export.source import ExportSource, OnColor
from ledger.render.progress import Bars, progress_bars

BAR_MIN_COLORS = 50  # fewer colors export in about a second: no bar


def _on_color(bars: Bars) -> OnColor | None:
    """A bar over the colors, made on the first report (when the total is known)."""
    if not bars.on:
        return None
    ticks: list = []

    def on_color(done: int, total: int) -> None:
        if not ticks:
            ticks.append(bars.task("exporting colors", total) if total >= BAR_MIN_COLORS else None)
        if ticks[0] is not None:
            ticks[0](done)

    return on_color


@click.command("export")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(FORMATS, case_sensitive=False))
@click.option("--out", "out_path", required=True, type=click.Path(),
              help="the file to write (for parquet: a folder, one file per table)")
@click.option("--color", help="only this color")
@click.option("--party", help="only this holder's movements and the contracts it is a party to (BIN/IIN)")
@as_of_option
@click.option("--ocid-prefix", default=DEFAULT_OCID_PREFIX, show_default=True,
              help="ocds: the publisher's registered ocid prefix (ocds-xxxxxx)")
@click.option("--progress", type=click.Choice(["auto", "bar", "none"]), default="auto", show_default=True,
              help="auto: a bar on a terminal for a long export")
@click.pass_obj
def export(obj: Context, fmt: str, out_path: str, color: str | None, party: str | None, as_of: str | None,
           ocid_prefix: str, progress: str) -> int:
    """Export the ledger as camt.053 statements, OCDS releases, a Beancount ledger or Parquet tables."""
    fmt = fmt.lower()
    color = checked(parse_color, color, "--color")
    party = checked(parse_party_id, party, "--party")
    out = Path(out_path)
    staging = Staging(out, folder=fmt == "parquet")
    try:
        read, now = _read_side(obj)
        position = _position(read, as_of, now)
        source = ExportSource(read, position, as_of, color, party)
        options = ExportOptions(ocid_prefix, wall_clock() if as_of is None else None)
        with progress_bars(progress, unit="colors") as bars:
            summary = write_export(fmt, source, staging.path, options, _on_color(bars))
        staging.commit()
    except NothingToExport as nothing:
        staging.discard()
        click.echo(f"error: nothing to export: {nothing}", err=True)
        return EXIT_BLOCKED
    except BaseException:
        staging.discard()
        raise
    click.echo(f"wrote {out} ({fmt} as of {as_of or f'@{position}'}: {summary})", err=True)
    return EXIT_OK
