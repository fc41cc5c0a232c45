"""kill -9 a `rebuild` while it fills the projections in bulk (their versions marked as building),
at a seeded moment after the mark appears; the next command resets what was being built and
catches up, and every answer (balances, histories, traces, flags) equals the one before the
rebuild, `verify` ok — on SQLite and PostgreSQL. A half-built projection never looks complete."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from projections.runner import BUILDING_MARK
from tests.faults.conftest import record
from tests.faults.support import BATCH, CHILD_TIMEOUT_S, SEED, case_random, child_env, command, run, verify_ok
from tests.faults.test_projection_worker_kill9 import DEADLINE_S, POSITIONS, STORES, Looker, _read_state, _store

KILL_JITTER_S = 0.2  # spreads the kill over the rebuild's chunks (never asserted on)


def _marked(look: Looker) -> int:
    return look.scalar(f"SELECT COUNT(*) FROM {POSITIONS} WHERE version LIKE '%{BUILDING_MARK}'", POSITIONS)


@pytest.mark.parametrize("kind", STORES)
def test_a_rebuild_killed_part_way_is_redone_by_the_next_command(fault_world: dict[str, Any], kind: str,
                                                                 request: pytest.FixtureRequest, tmp_path: Path) -> None:
    url = _store(kind, request, tmp_path)
    imported = run(url, "import", fault_world["path"], "--batch-size", str(BATCH), "--progress", "none", cwd=tmp_path)
    assert imported.code == 1, imported.err  # the planted overspends are blocked
    look = Looker(url)
    head = look.head()
    before = _read_state(url, fault_world["colors"], head)
    rng = case_random(SEED, f"rebuild/{kind}")
    child = subprocess.Popen(command(url, "rebuild"), cwd=tmp_path, env=child_env(),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + DEADLINE_S
        while _marked(look) <= 0 and child.poll() is None:
            assert time.monotonic() < deadline, f"seed {SEED}: the rebuild never marked a projection"
            time.sleep(0.002)
        time.sleep(rng.uniform(0, KILL_JITTER_S))
        killed = child.poll() is None
        if killed:
            os.kill(child.pid, signal.SIGKILL)
        child.wait(CHILD_TIMEOUT_S)
        marked = _marked(look)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(CHILD_TIMEOUT_S)
        look.close()
    assert killed or child.returncode == 0, f"seed {SEED}: rebuild exit {child.returncode}"
    assert marked == 0 or killed, f"seed {SEED}: a finished rebuild leaves no projection marked"
    assert _read_state(url, fault_world["colors"], head) == before, f"seed {SEED}: answers after the killed rebuild differ"
    verify_ok(url)
    record("kill -9 of a bulk rebuild", kind,
           f"{'killed with ' + str(marked) + ' projection(s) marked as building' if killed else 'finished before the kill'}; "
           "next command rebuilt; answers equal, verify ok")
