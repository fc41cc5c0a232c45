"""What the fault-injection tests share: a seeded world, the CLI in a child process, store probes.

The seed comes from TENGE_LEDGER_FAULT_SEED (to reproduce a run) or is drawn fresh; every test
prints it, and every failure message carries it.
"""

from __future__ import annotations

import io
import json
import os
import random
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import color_id, road_world

REPO = Path(__file__).resolve().parents[2]
SEED_ENV = "TENGE_LEDGER_FAULT_SEED"
POLL_PAUSE_S = 0.002  # between two looks at the store while waiting for a kill point (never asserted on)
CHILD_TIMEOUT_S = 60
ROUNDS = 80  # about 400 commands: a few seconds per case
BATCH = 20


def fault_seed() -> int:
    """The run's seed: TENGE_LEDGER_FAULT_SEED, or a fresh one (printed by the tests)."""
    given = os.environ.get(SEED_ENV)
    return int(given) if given else secrets.randbelow(2**32)


SEED = fault_seed()


def case_random(seed: int, case: str) -> random.Random:
    """An independent, reproducible random stream per case."""
    return random.Random(f"{seed}:{case}")


def write_world(path: Path, rounds: int) -> tuple[int, list[str]]:
    """About 5 × `rounds` commands over two colors (a few blocked on purpose); (lines, colors)."""
    s, n = road_world(amount="10000000.00")
    road = n["color"]
    local = color_id("LOCAL", 2, program=7)
    s.allocate(local, n["treasury"], n["admin"], "500000.00", id="ALL-LOCAL")
    s.contract("L-1", local, n["admin"], n["contractor"], "500000.00")
    for i in range(rounds):
        s.transfer(road, n["admin"], n["contractor"], "100.00", id=f"R-A-{i}", contract="C-1")
        s.transfer(road, n["contractor"], n["sub"], "60.50", id=f"R-B-{i}", contract="C-2")
        s.spend(road, n["sub"], "50.25" if i % 97 else "999999.00", id=f"R-S-{i}", category="fuel")
        s.transfer(local, n["admin"], n["contractor"], "10.00", id=f"L-A-{i}")
        s.spend(local, n["contractor"], "7.01", id=f"L-S-{i}", category="livestock")
    s.write(path)
    return len(s.records), [road, local]


# --- the CLI in a child process -------------------------------------------------------------


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENGE_LEDGER_")}
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def command(url: str, *args: str | Path) -> list[str]:
    return [sys.executable, "-m", "ledger", "--store", url, *[str(a) for a in args]]


@dataclass(frozen=True)
class Done:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run(url: str, *args: str | Path, cwd: Path, **popen: Any) -> Done:
    """`tenge-ledger --store URL ARGS…` to the end."""
    done = subprocess.run(command(url, *args), cwd=cwd, env=child_env(), capture_output=True,
                          timeout=CHILD_TIMEOUT_S, check=False, **popen)
    return Done(done.returncode, done.stdout.decode(), done.stderr.decode())


def read(url: str, *args: str | Path) -> Done:
    """A command run in this process (no interpreter start-up): for reading the outcome of a fault."""
    from ledger.cli import main

    out, err = (io.TextIOWrapper(io.BytesIO(), encoding="utf-8") for _ in range(2))
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["--store", url, *[str(a) for a in args]])
    out.flush()
    err.flush()
    return Done(code, out.buffer.getvalue().decode(), err.buffer.getvalue().decode())  # type: ignore[attr-defined]


def run_and_kill(url: str, args: list[str | Path], cwd: Path, rows: Any, kill_at: int) -> tuple[int, int]:
    """Start the command and kill -9 it once `rows()` (a count read from the store) reaches
    `kill_at`; returns (exit status, rows seen at the kill). Deterministic in what it waits for:
    the store's content, not the clock."""
    child = subprocess.Popen(command(url, *args), cwd=cwd, env=child_env(),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen = 0
    try:
        while child.poll() is None:
            seen = rows()
            if seen >= kill_at:
                os.kill(child.pid, signal.SIGKILL)
                break
            time.sleep(POLL_PAUSE_S)
    finally:
        child.wait(timeout=CHILD_TIMEOUT_S)
    return child.returncode, seen


# --- looking into a store without the code under test ------------------------------------------


class Probe:
    """Counts rows of one table of a store, or 0 while the table does not exist yet."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._pg: Any = None
        if url.startswith("postgresql://"):
            import psycopg

            dsn, _, query = url.partition("?")
            self.schema = query.split("schema=")[1] if "schema=" in query else "public"
            self._pg = psycopg.connect(dsn, autocommit=True)

    def count(self, table: str) -> int:
        if self._pg is not None:
            found = self._pg.execute("SELECT to_regclass(%s)", (f'"{self.schema}"."{table}"',)).fetchone()[0]
            if found is None:
                return 0
            return int(self._pg.execute(f'SELECT COUNT(*) FROM "{self.schema}"."{table}"').fetchone()[0])
        path = self.url[len("sqlite:///"):]
        if not os.path.exists(path):
            return 0
        try:
            with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as conn:
                return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
        except sqlite3.OperationalError as problem:  # not created yet, or the writer is mid-setup
            if "no such table" in str(problem) or "locked" in str(problem):
                return 0
            raise

    def close(self) -> None:
        if self._pg is not None:
            self._pg.close()


def events_table(url: str) -> str:
    return "ledger_events" if url.startswith("postgresql://") else "stored_events"


# --- comparing with a clean run ---------------------------------------------------------------


def _without_positions(document: Any) -> Any:
    """A read document without store positions (PostgreSQL sequences may skip numbers after a kill)."""
    if isinstance(document, dict):
        return {k: _without_positions(v) for k, v in document.items() if k not in ("position", "as_of")}
    if isinstance(document, list):
        return [_without_positions(item) for item in document]
    return document


def state_of(url: str, colors: list[str], cwd: Path | None = None) -> dict[str, Any]:
    """What a user can read: balances and every color's history (positions left out)."""
    state: dict[str, Any] = {}
    for name, args in [("balance", ["balance"]), *[(color, ["history", color]) for color in colors]]:
        done = read(url, *args, "--format", "json")
        assert done.code == 0, f"seed {SEED}: {name}: {done.err}"
        state[name] = _without_positions(done.json())
    return state


def blocked_lines(report: Path) -> list[tuple[int, str, str]]:
    """The (line, id, rule) of every line an import's `--report` lists as blocked."""
    rows = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(row["line"], row["id"], row["reason"]) for row in rows if row["status"] == "blocked"]


def verify_ok(url: str, cwd: Path | None = None) -> None:
    done = read(url, "verify", "--format", "json")
    assert done.code == 0 and done.json()["ok"], f"seed {SEED}: verify: {done.out} {done.err}"
