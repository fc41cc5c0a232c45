"""kill -9 a projection worker (`project --follow`) at seeded points while the store is being
imported into, restart it each time; at the end the projections equal a rebuild, on SQLite and
PostgreSQL, and SIGTERM stops the worker cleanly (exit 0, its heartbeat row gone).

Kill points are counted in events the store holds (the worker is killed once the importer has
written N events, N drawn from the seed, and the current worker has applied a chunk since it
started), then moved by a seeded jitter so the kill lands anywhere in the worker's cycle; every
wait polls a condition under a deadline, no assertion rests on a sleep. The seed is printed (tests.faults.conftest).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.faults.conftest import record
from tests.faults.support import (
    BATCH,
    CHILD_TIMEOUT_S,
    POLL_PAUSE_S,
    SEED,
    Probe,
    case_random,
    child_env,
    command,
    events_table,
    read,
    state_of,
    verify_ok,
)

KILLS = 4
SLICES = 10
KILL_JITTER_S = 0.3  # spreads the kill over the worker's apply/commit/wait cycle (never asserted on)
DEADLINE_S = 120.0
WORKERS = "projection_workers"
POSITIONS = "projection_positions"

STORES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _store(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    return request.getfixturevalue("postgres_url")


class Looker(Probe):
    """Probe plus the two numbers the test waits on: the store's head and the projections' position."""

    def scalar(self, sql: str, table: str) -> int:
        if self.count(table) == 0:
            return 0
        if self._pg is not None:
            self._pg.execute(f'SET search_path TO "{self.schema}"')
            value = self._pg.execute(sql).fetchone()[0]
            return int(value or 0)
        import sqlite3
        from contextlib import closing

        path = self.url[len("sqlite:///"):]
        try:
            with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as conn:
                return int(conn.execute(sql).fetchone()[0] or 0)
        except sqlite3.OperationalError as problem:
            if "locked" in str(problem):
                return -1
            raise

    def head(self) -> int:
        column = "notification_id" if self._pg is not None else "rowid"
        table = events_table(self.url)
        return self.scalar(f"SELECT MAX({column}) FROM {table}", table)

    def reached(self) -> int:
        return self.scalar(f"SELECT MIN(position) FROM {POSITIONS}", POSITIONS)

    def workers(self) -> int:
        return self.count(WORKERS)


def _slices(path: Path, where: Path) -> list[Path]:
    """The world file in SLICES consecutive pieces: imported one after another, they keep the
    store growing for several seconds while the workers are killed and restarted."""
    lines = path.read_bytes().splitlines(keepends=True)
    size = -(-len(lines) // SLICES)
    pieces = []
    for number, start in enumerate(range(0, len(lines), size)):
        piece = where / f"slice-{number}.jsonl"
        piece.write_bytes(b"".join(lines[start:start + size]))
        pieces.append(piece)
    return pieces


class Importer(threading.Thread):
    """Imports the slices in order, each in a child process; `codes` their exit codes."""

    def __init__(self, url: str, pieces: list[Path], cwd: Path) -> None:
        super().__init__(daemon=True)
        self.url, self.pieces, self.cwd = url, pieces, cwd
        self.codes: list[int] = []

    def run(self) -> None:
        for piece in self.pieces:
            done = subprocess.run(command(self.url, "import", piece, "--batch-size", str(BATCH), "--progress", "none"),
                                  cwd=self.cwd, env=child_env(), capture_output=True, timeout=CHILD_TIMEOUT_S, check=False)
            self.codes.append(done.returncode)


def _start_worker(url: str, cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command(url, "project", "--follow", "--poll", "0.05", "--progress", "none"), cwd=cwd,
                            env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_for(condition: Any, what: str, *children: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        for child in children:
            assert child.poll() is None, f"seed {SEED}: a child ended ({child.returncode}) while waiting for {what}"
        assert time.monotonic() < deadline, f"seed {SEED}: timed out waiting for {what}"
        time.sleep(POLL_PAUSE_S)


def _read_state(url: str, colors: list[str], head: int) -> dict[str, Any]:
    """Everything the read side answers: balances, histories, traces and flags (as of the head)."""
    state = state_of(url, colors)
    for color in colors:
        done = read(url, "trace", color, "--format", "json")
        assert done.code == 0, f"seed {SEED}: trace: {done.err}"
        state[f"trace {color}"] = done.json()
    done = read(url, "flags", "--as-of", f"@{head}", "--format", "json")
    assert done.code == 0, f"seed {SEED}: flags: {done.err}"
    state["flags"] = done.json()
    return state


@pytest.mark.parametrize("kind", STORES)
def test_projection_worker_killed_at_random_points_and_restarted_equals_a_rebuild(fault_world, kind, request, tmp_path):
    url = _store(kind, request, tmp_path)
    rng = case_random(SEED, f"worker/{kind}")
    kill_points = sorted(rng.randrange(1, fault_world["lines"] - BATCH) for _ in range(KILLS))
    look = Looker(url)
    importer = Importer(url, _slices(Path(fault_world["path"]), tmp_path), tmp_path)
    importer.start()
    worker = None
    killed_at: list[int] = []
    try:
        _wait_for(lambda: look.head() > 0, "the first events")  # the store exists: a worker may open it
        for started, kill_at in enumerate(kill_points, start=1):
            worker = _start_worker(url, tmp_path)
            _wait_for(lambda n=started: look.workers() >= n, "the worker's first beat", worker)
            _wait_for(lambda k=kill_at: look.head() >= k or not importer.is_alive(), f"{kill_at} events", worker)
            before = look.reached()
            # the worker has applied something since it started (or has nothing left to apply) ...
            _wait_for(lambda b=before: look.reached() > b or (not importer.is_alive() and look.reached() >= look.head()),
                      "the worker's progress", worker)
            time.sleep(rng.uniform(0, KILL_JITTER_S))  # ... then a seeded moment of its next round: where the kill lands
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(CHILD_TIMEOUT_S)
            killed_at.append(look.reached())
        worker = _start_worker(url, tmp_path)
        _wait_for(lambda: look.workers() > KILLS, "the last worker's first beat", worker)
        importer.join(DEADLINE_S)
        assert not importer.is_alive() and importer.codes and set(importer.codes) <= {0, 1}, f"seed {SEED}: {importer.codes}"
        assert 1 in importer.codes, f"seed {SEED}: the planted overspends are blocked"
        head = look.head()
        _wait_for(lambda: look.reached() >= head, f"the worker to reach @{head}", worker)
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=CHILD_TIMEOUT_S)
        assert worker.returncode == 0, f"seed {SEED}: SIGTERM: exit {worker.returncode}: {err.decode()}"
        assert "stopped: projections at" in err.decode()
        assert look.workers() == KILLS, f"seed {SEED}: a stopped worker retires; killed ones leave stale rows"
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
            worker.wait(CHILD_TIMEOUT_S)
        importer.join(DEADLINE_S)
        look.close()

    followed = _read_state(url, fault_world["colors"], head)
    rebuilt = read(url, "rebuild")
    assert rebuilt.code == 0, f"seed {SEED}: rebuild: {rebuilt.err}"
    assert _read_state(url, fault_world["colors"], head) == followed, f"seed {SEED}: the followed projections differ from a rebuild"
    assert state_of(url, fault_world["colors"]) == fault_world["clean"], f"seed {SEED}: differs from a clean run"
    verify_ok(url)
    record("kill -9 of a projection worker (project --follow)", kind,
           f"killed {KILLS}× at events {kill_points} (projections then at {killed_at}); restarted; = rebuild, verify ok")
