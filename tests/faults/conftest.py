"""The fault suite's results table (case × store → outcome), printed at the end of the run."""

from __future__ import annotations

from typing import Any

from tests.faults.support import SEED, SEED_ENV

RESULTS: list[tuple[str, str, str]] = []


def record(case: str, store: str, outcome: str) -> None:
    """One row of the results table."""
    RESULTS.append((case, store, outcome))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not RESULTS:
        return
    write = terminalreporter.write_line
    write(f"fault injection results (seed {SEED}; reproduce with {SEED_ENV}={SEED}):")
    write("| case | store | outcome |")
    write("|---|---|---|")
    for case, store, outcome in RESULTS:
        write(f"| {case} | {store} | {outcome} |")
