"""The fault suite's results table (case × store → outcome), printed at the end of the run."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.faults.support import BATCH, ROUNDS, SEED, SEED_ENV, blocked_lines, run, state_of, write_world

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


@pytest.fixture(scope="session")
def fault_world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The interchange file and a clean, uninterrupted run of it (the reference)."""
    print(f"\nfault suite seed {SEED} (reproduce with {SEED_ENV}={SEED})")
    where = tmp_path_factory.mktemp("faults-world")
    path = where / "world.jsonl"
    lines, colors = write_world(path, ROUNDS)
    clean = f"sqlite:///{where / 'clean.sqlite'}"
    started = time.monotonic()
    report = where / "clean.report.jsonl"
    imported = run(clean, "import", path, "--batch-size", str(BATCH), "--progress", "none", "--report", report, cwd=where)
    import_s = time.monotonic() - started
    assert imported.code == 1, imported.err  # the planted overspends are blocked
    blocked = blocked_lines(report)
    assert blocked, "the world plants blocked commands"
    started = time.monotonic()
    caught_up = run(clean, "balance", "--format", "json", cwd=where)  # start-up and the whole catch-up
    catch_up_s = time.monotonic() - started
    assert caught_up.code == 0, caught_up.err
    state = state_of(clean, colors, where)
    keygen = run(clean, "keygen", "--out", where / "signing.key", cwd=where)
    assert keygen.code == 0, keygen.err
    return {"path": path, "lines": lines, "colors": colors, "clean": state, "dir": where,
            "key": where / "signing.key", "import_s": import_s, "catch_up_s": catch_up_s, "blocked": blocked}
