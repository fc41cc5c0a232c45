"""The ISO 20022 side of `import`: the ledger's time zone for a pain.001, the pain.002 answer.

A pain.001 time written without an offset is in the ledger's time zone (SPEC §3.1, §2.5), which
is recorded in the store. It is looked up only when a file needs it: from the store if there is
one (opening it), else `--time-zone` or the default, so that a malformed file still creates no
SQLite file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timezone, tzinfo
from pathlib import Path

from domain.errors import InvalidValue
from domain.policy import LEDGER_TIME_ZONE_DEFAULT, parse_time_zone
from ledger.app import Outcome
from ledger.cli.base import Context, UsageProblem, store_config
from ledger.importer import Source
from ledger.iso20022.pain001 import Pain001Header, read_header, read_transactions
from ledger.render.pain002 import StatusBook, write_pain002

REPORT_FORMATS = ("jsonl", "pain.002")


def zone_source(obj: Context, batch_size: int) -> Callable[[], tzinfo]:
    """`zone()`: the ledger's time zone, found on first call and kept."""
    found: list[tzinfo] = []

    def zone() -> tzinfo:
        if not found:
            found.append(_zone(obj, batch_size))
        return found[0]

    return zone


def _zone(obj: Context, batch_size: int) -> tzinfo:
    config = store_config(obj.store_url)
    if config.kind == "sqlite" and not os.path.exists(config.env["SQLITE_DBNAME"]):
        try:
            return parse_time_zone(obj.time_zone) if obj.time_zone else LEDGER_TIME_ZONE_DEFAULT
        except InvalidValue as problem:
            raise UsageProblem(f"--time-zone: {problem}") from problem
    return obj.ledger(batch_size).time_zone


class Pain002Answer:
    """Collects what became of each transaction of one pain.001 and writes the pain.002."""

    def __init__(self, sources: list[Source], report_path: str) -> None:
        if len(sources) != 1:
            raise UsageProblem("--report-format pain.002 answers one pain.001 file: give exactly one file")
        self.source = sources[0]
        self.path = Path(report_path)
        self.book = StatusBook()
        self.header: Pain001Header | None = None
        try:
            with self.source.path.open("rb") as stream:
                self.header = read_header(stream)
        except OSError:
            self.header = None  # the import's own validation names the file it cannot read
        except Exception:  # noqa: BLE001 - a broken file: validation reports where; no report then
            self.header = None

    def on_outcome(self, source: Source, line: int, outcome: Outcome) -> None:
        self.book.outcome(line, outcome)

    def write(self) -> None:
        """Write the report (nothing when the input is not a pain.001 at all: there is no message to answer)."""
        if self.header is None:
            return
        source = self.source

        def transactions():  # type: ignore[no-untyped-def]
            with source.path.open("rb") as stream:
                yield from read_transactions(stream, source.time_zone)

        with self.path.open("wb") as out:
            write_pain002(out, self.header, transactions, self.book, datetime.now(timezone.utc).replace(microsecond=0))
