"""The ISO 20022 side of `import`: the ledger's time zone for a pain.001, the pain.002 answer.

A pain.001 time written without an offset is in the ledger's time zone (SPEC §3.1, §2.5), which
is recorded in the store. It is looked up only when a file needs it: from the store if there is
one (opening it), else `--time-zone` or the default, so that a malformed file still creates no
SQLite file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path

from domain.errors import InvalidValue
from domain.policy import LEDGER_TIME_ZONE_DEFAULT, parse_time_zone
from ledger.cli.base import Context, UsageProblem, store_config
from ledger.importer import Source
from ledger.inputs import is_pain001
from ledger.render.pain002 import Pain002Answer

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


def pain002_answer(sources: list[Source], report_path: str) -> tuple[Pain002Answer, Path]:
    """The pain.002 answer of this import, to be written to `report_path` (one pain.001 file only)."""
    if len(sources) != 1:
        raise UsageProblem("--report-format pain.002 answers one pain.001 file: give exactly one file")
    try:
        with sources[0].path.open("rb") as stream:
            xml = is_pain001(stream)
    except OSError:
        xml = True  # the import's own validation says the file cannot be read
    if not xml:
        raise UsageProblem(f"--report-format pain.002 answers a pain.001 file; {sources[0].name} is JSON Lines "
                           "(use --report-format jsonl)")
    return Pain002Answer(sources[0].path, sources[0].time_zone), Path(report_path)
