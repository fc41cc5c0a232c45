"""Starting measured processes (`bench.probe`) and reading back their figures and peak memory.

Each probe is a process of its own, started through a small launcher (`bench.probe --launch`);
its peak resident set size comes from the launcher's `os.wait4` (the kernel's `ru_maxrss` of
exactly that process), so concurrent probes and this process's own memory never mix.
A probe that exits badly, or a command in it that returns an unexpected exit code, raises
`BenchError` with the tail of the probe's standard error.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent  # the checkout whose code is measured
STDERR_TAIL_CHARS = 2_000
# Settings a user's shell might carry that would change what is measured.
CLEARED_ENV = ("TENGE_LEDGER_STORE", "TENGE_LEDGER_KEY", "TENGE_LEDGER_RULES", "TENGE_LEDGER_ROLES",
               "TENGE_LEDGER_SIGNING_KEY")


class BenchError(Exception):
    """A measurement could not be made (a command failed); the message says which and why."""


@dataclass
class Step:
    """One CLI command to run `repeat` times in a probe; `ok` are the exit codes that count as success."""

    label: str
    argv: list[str]
    repeat: int = 1
    ok: tuple[int, ...] = (0,)
    attempts: int = 1  # >1: a failed run is re-run (in the same process), as an operator would

    def spec(self) -> dict[str, Any]:
        return {"label": self.label, "argv": self.argv, "repeat": self.repeat, "ok": list(self.ok), "attempts": self.attempts}


@dataclass
class StepResult:
    label: str
    seconds: list[float]
    started_at: float
    ended_at: float
    rss_kb: int  # the probe's peak so far, after this step
    failures: list[int]  # exit codes of failed attempts that were re-run


@dataclass
class ProbeResult:
    steps: list[StepResult]
    peak_rss_kb: int  # the whole measured process, from wait4 in its launcher
    baseline_rss_kb: int  # after importing the CLI, before any command

    def step(self, label: str) -> StepResult:
        [found] = [s for s in self.steps if s.label == label]
        return found


def probe_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED_ENV}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    env["TENGE_LEDGER_ACTOR"] = "bench"
    env.pop("COLUMNS", None)
    return env


class Probe:
    """A started probe process; `finish()` waits for it and returns its figures."""

    def __init__(self, store: str, steps: list[Step], *, barrier: bool = False) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="bench-probe-")
        directory = Path(self._dir.name)
        self._result = directory / "result.json"
        self._stderr_path = directory / "stderr.txt"
        self.steps = steps
        self._finished = False
        spec = {"result": str(self._result), "store": store, "barrier": barrier, "steps": [s.spec() for s in steps]}
        self._stderr = self._stderr_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.probe", "--launch", orjson.dumps(spec).decode()],
            cwd=ROOT, env=probe_env(), stdout=subprocess.PIPE if barrier else subprocess.DEVNULL,
            stdin=subprocess.PIPE if barrier else subprocess.DEVNULL, stderr=self._stderr,
        )

    def wait_ready(self) -> None:
        """With a barrier: block until the probe has imported everything and waits for `go()`."""
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if line.strip() != b"ready":
            self.finish()  # raises with the probe's error
            raise BenchError("a probe stopped before it was ready")

    def go(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"go\n")
        self.process.stdin.close()

    def finish(self) -> ProbeResult:
        if self._finished:
            raise BenchError("this probe was already finished")
        self._finished = True
        self.process.wait()
        for pipe in (self.process.stdout, self.process.stdin):
            if pipe is not None and not pipe.closed:
                pipe.close()
        self._stderr.close()
        try:
            return self._read()
        finally:
            self._dir.cleanup()

    def _read(self) -> ProbeResult:
        tail = self._stderr_path.read_text(errors="replace")[-STDERR_TAIL_CHARS:]
        commands = "; ".join(" ".join(s.argv) for s in self.steps)
        if self.process.returncode != 0 or not self._result.exists():
            raise BenchError(f"probe exited {self.process.returncode} running: {commands}\n{tail}")
        document = orjson.loads(self._result.read_bytes())
        results = []
        for step, done in zip(self.steps, document["steps"], strict=False):
            bad = [code for code in done["exit"] if code not in step.ok]
            if bad or len(done["exit"]) != step.repeat:
                raise BenchError(f"`tenge-ledger {' '.join(step.argv)}` exited {bad or done['exit']}\n{tail}")
            results.append(StepResult(done["label"], done["seconds"], done["started_at"], done["ended_at"], done["rss_kb"],
                                      done["failures"]))
        if len(results) != len(self.steps):
            raise BenchError(f"probe ran {len(results)} of {len(self.steps)} steps: {commands}\n{tail}")
        return ProbeResult(results, int(document["peak_rss_kb"]), int(document["baseline_rss_kb"]))


def run_probe(store: str, steps: list[Step]) -> ProbeResult:
    """Run the steps in a fresh process and return their figures."""
    return Probe(store, steps).finish()


def run_concurrent(store: str, step_lists: list[list[Step]]) -> list[ProbeResult]:
    """One probe per step list, all started together (after every one has imported the CLI)."""
    probes = [Probe(store, steps, barrier=True) for steps in step_lists]
    try:
        for probe in probes:
            probe.wait_ready()
        for probe in probes:
            probe.go()
    except BaseException:
        for probe in probes:
            if not probe._finished:
                probe.process.kill()  # a signal to an exited, unreaped child is harmless
        for probe in probes:
            try:
                probe.finish()
            except BenchError:
                pass
        raise
    results, errors = [], []
    for probe in probes:
        try:
            results.append(probe.finish())
        except BenchError as error:
            errors.append(str(error))
    if errors:
        raise BenchError("\n".join(errors))
    return results
