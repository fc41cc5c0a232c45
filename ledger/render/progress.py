"""Progress of long work on stderr: one rich bar per task, with events/s and time left.

The one progress helper of the faces: `import`, `rebuild`, the catch-up before a query, `verify`,
`simulate` and `project` all use it. The core reports progress through plain callbacks
(`projections.runner.OnProgress`, the importer's `on_batch`, the verifier's `(phase, done, total)`);
this module turns them into bars. A bar is drawn only when stderr is a terminal (mode `auto`) or
when asked for (`bar`): a pipe or a file gets nothing extra.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

MODES = ("auto", "bar", "none")

Tick = Callable[[int], None]  # tick(completed)


def wanted(mode: str = "auto") -> bool:
    """Draw bars? `bar` always, `none` never, `auto` when stderr is a terminal."""
    assert mode in MODES or mode == "lines", mode
    return mode == "bar" or (mode == "auto" and sys.stderr.isatty())


class Bars:
    """The bars of one command; every method does nothing when bars are off (`progress` is None)."""

    def __init__(self, progress: Any = None, unit: str = "events", drop_finished: bool = False) -> None:
        self.progress = progress
        self.unit = unit
        self.drop_finished = drop_finished  # a long-running command's bars go once their work is done
        self._tasks: dict[str, Any] = {}

    @property
    def on(self) -> bool:
        return self.progress is not None

    def task(self, what: str, total: int, start: int = 0) -> Tick | None:
        """A callback `tick(completed)` for a new bar of `total` units, or None when bars are off.
        `start`: the count the work starts from (a catch-up from position 1 200 to 5 000)."""
        if self.progress is None:
            return None
        progress = self.progress
        task = progress.add_task(what, total=max(total - start, 0))

        def tick(completed: int) -> None:
            progress.update(task, completed=max(min(completed, total) - start, 0))
            if self.drop_finished and completed >= total:
                progress.remove_task(task)

        return tick

    def positions(self, what: str, start: int, last: int) -> Callable[[int, int], None] | None:
        """A runner callback `(position_reached, last_position)` drawing one bar from `start` to `last`."""
        tick = self.task(what, last, start)
        if tick is None:
            return None
        return lambda reached, _last: tick(reached)

    def phases(self, prefix: str) -> Callable[[str, int, int], None] | None:
        """A callback `(phase, done, total)` drawing one bar per phase (the verifier's)."""
        if self.progress is None:
            return None
        progress = self.progress

        def on_phase(phase: str, done: int, total: int) -> None:
            if phase not in self._tasks:
                self._tasks[phase] = progress.add_task(f"{prefix} {phase}", total=total)
            progress.update(self._tasks[phase], completed=done, total=total)

        return on_phase


@contextmanager
def progress_bars(mode: str = "auto", unit: str = "events", transient: bool = False,
                  drop_finished: bool = False) -> Iterator[Bars]:
    """Bars on stderr for the duration of the block (see `wanted`); `transient`: erase them at the
    end; `drop_finished`: erase each as soon as its work is done (a worker that runs for days)."""
    if not wanted(mode):
        yield Bars(None, unit)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(
        TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
        _RateColumn(unit), TimeRemainingColumn(), console=Console(stderr=True), transient=transient,
    )
    with progress:
        yield Bars(progress, unit, drop_finished)


def _rate_column_type() -> Any:
    from rich.progress import ProgressColumn
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Units per second, e.g. `6 300 events/s`."""

        def __init__(self, unit: str) -> None:
            super().__init__()
            self.unit = unit

        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            if speed is None and task.completed and task.elapsed:  # one update so far: the mean rate
                speed = task.completed / task.elapsed
            shown = "?" if speed is None else f"{speed:,.0f}".replace(",", " ")
            return Text(f"{shown} {self.unit}/s", style="progress.data.speed")

    return RateColumn


def _RateColumn(unit: str) -> Any:  # noqa: N802 - reads like the column it builds
    return _rate_column_type()(unit)
