"""`tenge-ledger import`: validate every line first, then apply in batches (SPEC §5).

1. Validation reads every input completely. If any line is malformed, every error is reported as
   `file:line: field: message` and nothing at all is written (exit 2).
2. Application runs in file order, `batch_size` commands per transaction. A kill at any moment
   leaves whole batches only; running the same import again skips what was applied (`duplicate`)
   and completes the rest, ending in the state an uninterrupted run gives.

Standard input (`-`) is spooled to a temporary file first so it can be read twice. Inputs of at
most `KEEP_PARSED_LINES_MAX` lines keep their parsed commands from the validation pass; larger ones
are parsed again while applying, so memory stays bounded.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import orjson

from domain.commands import Command
from ledger.app import APPLIED, BLOCKED, CONFLICT, DUPLICATE, BatchBusy, Ledger, Outcome
from ledger.store.errors import BUSY, StoreFailure
from ledger.interchange import format_error
from ledger.inputs import read_input
from ledger.iso20022.pain001 import ZoneSource

KEEP_PARSED_LINES_MAX = 200_000
ERRORS_SHOWN_MAX = 1_000


@dataclass(frozen=True)
class Source:
    """One input: a name for messages and a path to read (stdin is spooled to a file)."""

    name: str
    path: Path
    time_zone: ZoneSource | None = None  # the ledger's zone, for a pain.001 time without offset


@dataclass
class ImportSummary:
    counts: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    problems: list[str] = field(default_factory=list)  # blocked / conflict lines, for stderr
    command_types: set[str] = field(default_factory=set)  # what the input asks to do (roles)

    @property
    def exit_code(self) -> int:
        if self.error_count:
            return 2
        return 1 if self.counts[BLOCKED] or self.counts[CONFLICT] else 0


# on_batch(lines_done, lines_total) after each committed batch
ProgressCallback = Callable[[int, int], None]


def open_sources(names: list[str], stack: ExitStack, stdin: IO[bytes] | None = None,
                 time_zone: ZoneSource | None = None) -> list[Source]:
    """Sources for the given names; `-` is standard input, spooled to a temporary file."""
    sources = []
    for name in names:
        if name == "-":
            spool = stack.enter_context(tempfile.NamedTemporaryFile(prefix="tenge-ledger-stdin-", suffix=".jsonl"))
            shutil.copyfileobj(stdin or sys.stdin.buffer, spool)
            spool.flush()
            sources.append(Source("<stdin>", Path(spool.name), time_zone))
        else:
            sources.append(Source(name, Path(name), time_zone))
    return sources


def validate(sources: list[Source]) -> tuple[ImportSummary, int, list[tuple[Source, int, Command]] | None]:
    """Check every line; (summary with errors, line count, parsed commands if kept)."""
    summary = ImportSummary()
    kept: list[tuple[Source, int, Command]] | None = []
    total = 0
    for source in sources:
        try:
            stream = source.path.open("rb")
        except OSError as error:
            summary.error_count += 1
            summary.errors.append(f"{source.name}: cannot read: {error.strerror or error}")
            continue
        with stream:
            for parsed in read_input(stream, source.name, source.time_zone):
                total += 1
                if parsed.errors:
                    summary.error_count += len(parsed.errors)
                    for error in parsed.errors:
                        if len(summary.errors) < ERRORS_SHOWN_MAX:
                            summary.errors.append(format_error(source.name, parsed.line, error))
                    continue
                assert parsed.command is not None
                summary.command_types.add(parsed.command.TYPE)
                if kept is not None:
                    kept.append((source, parsed.line, parsed.command))
                    if len(kept) > KEEP_PARSED_LINES_MAX:
                        kept = None
    return summary, total, kept


def parsed_commands(sources: list[Source]) -> Iterator[tuple[Source, int, Command]]:
    """Every (source, line, command) of validated inputs, parsed again (for inputs too large to keep)."""
    for source in sources:
        with source.path.open("rb") as stream:
            for parsed in read_input(stream, source.name, source.time_zone):
                assert parsed.command is not None, "validated before"
                yield source, parsed.line, parsed.command


def apply(
    ledger: Ledger,
    sources: list[Source],
    total: int,
    kept: list[tuple[Source, int, Command]] | None,
    summary: ImportSummary,
    report: IO[bytes] | None = None,
    on_batch: ProgressCallback | None = None,
    on_outcome: Callable[[Source, int, Outcome], None] | None = None,
) -> None:
    """Apply validated inputs in order, batch by batch, reporting each line's outcome.

    The actor must be allowed every command type of the input (`summary.command_types`) by the
    ledger's roles policy; otherwise `NotAllowed` is raised before anything is written."""
    assert summary.error_count == 0, "nothing is applied from malformed input"
    ledger.authorize(*summary.command_types)
    lines = iter(kept) if kept is not None else parsed_commands(sources)
    with_file = len(sources) > 1
    done = 0
    while True:
        batch = [line for _, line in zip(range(ledger.batch_size), lines)]
        if not batch:
            break
        try:
            outcomes = ledger.execute_batch([command for _, _, command in batch])
        except BatchBusy as busy:
            raise busy_after(busy, ledger, summary, done, total) from busy
        for (source, line, _), outcome in zip(batch, outcomes, strict=True):
            _record(summary, source, line, outcome, report, with_file)
            if on_outcome is not None:
                on_outcome(source, line, outcome)
        if report is not None:
            report.flush()
        done += len(batch)
        if on_batch is not None:
            on_batch(done, total)


def busy_after(busy: BatchBusy, ledger: Ledger, summary: ImportSummary, done: int, total: int) -> StoreFailure:
    """The one line (exit 75) for an import that waited too long: what was applied before it, all of
    it in whole batches, and that running the same import again completes the rest (SPEC §5)."""
    counts = summary.counts
    return StoreFailure(BUSY, ledger.store.url,
                        f"{busy.cause}; {done} of {total} line(s) were done before it ({counts[APPLIED]} applied, "
                        f"{counts[DUPLICATE]} duplicate, {counts[BLOCKED]} blocked, {counts[CONFLICT]} conflict): "
                        "run the same import again to complete the rest")


def _record(summary: ImportSummary, source: Source, line: int, outcome: Outcome, report: IO[bytes] | None, with_file: bool) -> None:
    assert outcome.status in (APPLIED, DUPLICATE, BLOCKED, CONFLICT)
    summary.counts[outcome.status] += 1
    if outcome.status in (BLOCKED, CONFLICT) and len(summary.problems) < ERRORS_SHOWN_MAX:
        summary.problems.append(f"{source.name}:{line}: {outcome.command_id}: {outcome.status}: {outcome.reason}: {outcome.detail}")
    if report is not None:
        row: dict[str, object] = {"line": line, "id": outcome.command_id, "status": outcome.status, "reason": outcome.reason}
        if with_file:
            row = {"file": source.name, **row}
        report.write(orjson.dumps(row) + b"\n")
