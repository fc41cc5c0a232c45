"""`tenge-ledger project`: bring the projections up to date; with `--follow`, keep them so.

A follower is a separate, long-running process (`ledger.worker`): SIGTERM or SIGINT makes it end
after the chunk it is in (exit 0); kill -9 loses nothing (the next run resumes where the
projections' positions say). While one is alive and close behind, queries leave the catch-up to it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from ledger.cli.base import EXIT_OK, Context
from ledger.render.progress import MODES, Bars, progress_bars
from ledger.worker import POLL_S_DEFAULT, ProjectionWorker

FOLLOW_BAR_MIN_EVENTS = 2_000  # a follower draws a bar only for a backlog this large (not for every new batch)


@click.command()
@click.option("--follow", is_flag=True, help="keep following the log (PostgreSQL LISTEN/NOTIFY, polling on SQLite) "
                                             "until SIGTERM or SIGINT")
@click.option("--poll", "poll_s", type=click.FloatRange(0.01, 60.0), default=POLL_S_DEFAULT, show_default=True,
              help="with --follow: seconds between two looks at the log (on PostgreSQL, the longest wait for a notification)")
@click.option("--progress", type=click.Choice(MODES), default="auto", show_default=True,
              help="auto: a progress bar on a terminal")
@click.pass_obj
def project(obj: Context, follow: bool, poll_s: float, progress: str) -> int:
    """Apply new events to the projections (catch up once), or with --follow keep doing so as a worker."""
    ledger = obj.ledger()
    worker = ProjectionWorker(obj.read_side())
    if not follow:
        with progress_bars(progress) as bars:
            reached = worker.catch_up_once(_on_backlog(bars))
        click.echo(f"projections at @{reached} of @{ledger.position()}", err=True)
        return EXIT_OK
    with _stop_on_signals() as stop, progress_bars(progress, transient=True, drop_finished=True) as bars:
        click.echo(f"following the log as worker {worker.name} (SIGTERM or Ctrl-C stops)", err=True)
        reached = worker.follow(stop, poll_s, _on_backlog(bars, FOLLOW_BAR_MIN_EVENTS))
    click.echo(f"stopped: projections at @{reached}", err=True)
    return EXIT_OK


def _on_backlog(bars: Bars, least: int = 0) -> Any:
    """For each backlog the worker takes on: a bar, when bars are on and it has `least` events."""
    if not bars.on:
        return None
    return lambda start, last: bars.positions("projecting", start, last) if last - start >= least else None


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """An event SIGTERM and SIGINT set (the previous handlers come back afterwards)."""
    stop = threading.Event()
    previous = {number: signal.signal(number, lambda *_: stop.set()) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
