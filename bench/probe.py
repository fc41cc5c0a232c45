"""One measured process: runs `tenge-ledger` commands in-process, timed, as a user would run them.

    python -m bench.probe SPEC_JSON

The parent (`bench.runner.run_probe`) starts this module as a subprocess so that each measurement
has a process of its own: its peak resident memory is what the command costs (the parent reads it
with `os.wait4`), and nothing the parent holds leaks into it. The CLI modules are imported before
the clock starts, so the times are the command's own work, not the interpreter's start-up; the
memory includes that start-up, as a real `tenge-ledger` run does (`baseline_rss_kb` says how much).

SPEC_JSON: {"result": PATH, "store": URL, "barrier": bool,
            "steps": [{"label": str, "argv": [...], "repeat": int, "ok": [exit codes], "attempts": int}]}
Each step runs `ledger.cli.main(["--store", URL, *argv])` `repeat` times; a run whose exit code is
not `ok` is run again, up to `attempts` times in all, as an operator re-runs a failed (idempotent)
import — the time includes the failed attempts, and their exit codes are reported as `failures`. The result file gets, per
step, the seconds of each run, the wall-clock start and end (epoch seconds: several concurrent
probes compare them), the exit codes, and the peak memory of this process after the step.
With `barrier`, the probe writes "ready" on its standard output once imported and waits for a line
on its standard input before the first step, so that concurrent writers start together.
The commands' own output goes to /dev/null (standard output) and stays on standard error.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from typing import Any

import orjson


def _silence_stdout() -> Any:
    """Point file descriptor 1 at /dev/null (the commands print documents); return the old stdout."""
    sys.stdout.flush()
    saved = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    return saved


def _peak_kb() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # kilobytes on Linux


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the spec's steps; the figures as a document (see the module docstring)."""
    from ledger.cli import main as cli_main  # imported before any clock starts

    baseline = _peak_kb()
    control = _silence_stdout()
    if spec.get("barrier"):
        control.write("ready\n")
        control.flush()
        sys.stdin.readline()
    steps = []
    for step in spec["steps"]:
        argv = ["--store", spec["store"], *step["argv"]]
        seconds, codes, failures = [], [], []
        ok = step.get("ok", [0])
        started_at = time.time()
        for _ in range(int(step.get("repeat", 1))):
            started = time.perf_counter()
            for _attempt in range(int(step.get("attempts", 1))):
                code = cli_main(argv)
                if code in ok:
                    break
                failures.append(code)
            seconds.append(time.perf_counter() - started)
            codes.append(code)
            if code not in ok:
                break
        steps.append({"label": step.get("label", step["argv"][0]), "seconds": seconds, "exit": codes, "failures": failures,
                      "started_at": started_at, "ended_at": time.time(), "rss_kb": _peak_kb()})
    return {"baseline_rss_kb": baseline, "steps": steps}


def main() -> None:
    spec = orjson.loads(sys.argv[1])
    result = run(spec)
    with open(spec["result"], "wb") as out:
        out.write(orjson.dumps(result))


if __name__ == "__main__":
    main()
