"""One measured process: runs `tenge-ledger` commands in-process, timed, as a user would run them.

    python -m bench.probe --launch SPEC_JSON

The parent (`bench.runner.run_probe`) starts this module as a subprocess so that each measurement
has a process of its own: its peak resident memory is what the command costs. `--launch` is a
small launcher that runs the measured `--worker` as its child and reads the child's peak with
`os.wait4` (see `launch`: a big parent would otherwise pass its own peak on to the child). The CLI modules are imported before
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
        if sys.stdin.readline().strip() != "go":
            raise SystemExit("the bench withdrew the start signal")  # another writer failed to start
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


def launch(spec_text: str) -> int:
    """Run the measured process as a child of this small one and add its peak memory to the result.

    Linux carries a parent's peak resident size into a child it forks (`ru_maxrss` of the child
    starts at the parent's high-water mark), so the bench's own process, which holds whole tables
    for the raw ceilings, must not be the measured process's parent. This launcher imports almost
    nothing, so the only peak it can pass on is far below any command's.
    """
    import subprocess

    worker = subprocess.Popen([sys.executable, "-m", "bench.probe", "--worker", spec_text])
    _, status, usage = os.wait4(worker.pid, 0)
    worker.returncode = code = os.waitstatus_to_exitcode(status)
    result_path = orjson.loads(spec_text)["result"]
    if code == 0 and os.path.exists(result_path):
        with open(result_path, "rb") as stream:
            result = orjson.loads(stream.read())
        result["peak_rss_kb"] = int(usage.ru_maxrss)
        with open(result_path, "wb") as out:
            out.write(orjson.dumps(result))
    return code


def main() -> None:
    mode, spec_text = sys.argv[1], sys.argv[2]
    if mode == "--launch":
        sys.exit(launch(spec_text))
    assert mode == "--worker", mode
    spec = orjson.loads(spec_text)
    result = run(spec)
    with open(spec["result"], "wb") as out:
        out.write(orjson.dumps(result))


if __name__ == "__main__":
    main()
