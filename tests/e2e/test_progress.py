"""Progress on long work (`ledger.render.progress`): a bar with events/s and time left on a
terminal, nothing extra on a pipe. The terminal is a real pseudo-terminal (pty) for the child's
stderr; the pipe is the usual captured stderr."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from pathlib import Path

from e2e_support import process_env, run_process, sqlite_url, write_jsonl
from tests.support import road_world

DEADLINE_S = 120.0


def _store(tmp_path: Path, rounds: int = 40) -> str:
    s, n = road_world(amount="1000000.00")
    for i in range(rounds):
        s.transfer(n["color"], n["admin"], n["contractor"], "10.00", id=f"P-{i}", contract="C-1")
    path = tmp_path / "world.jsonl"
    write_jsonl(path, s.records)
    url = sqlite_url(tmp_path / "ledger.sqlite")
    done = run_process("--store", url, "import", path, cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    return url


def _on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run `tenge-ledger ARGS` with stderr on a pseudo-terminal; (exit code, what the terminal got)."""
    master, slave = pty.openpty()
    env = dict(process_env(), TERM="xterm-256color", COLUMNS="160")
    env.pop("NO_COLOR", None)
    child = subprocess.Popen([sys.executable, "-m", "ledger", *args], cwd=cwd, env=env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    seen = bytearray()
    deadline = time.monotonic() + DEADLINE_S
    try:
        while time.monotonic() < deadline:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        code = child.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        os.close(master)
        if child.poll() is None:
            child.kill()
            child.wait()
        assert child.stdout is not None
        child.stdout.close()
    return code, seen.decode("utf-8", "replace")


def test_rebuild_on_a_terminal_shows_a_bar_with_events_per_second(tmp_path):
    url = _store(tmp_path)
    code, terminal = _on_a_terminal(["--store", url, "rebuild"], tmp_path)
    assert code == 0, terminal
    assert "rebuilding" in terminal and "events/s" in terminal, terminal
    assert "rebuilt" in terminal


def test_on_a_pipe_long_work_prints_nothing_extra(tmp_path):
    url = _store(tmp_path)
    for args, expected in [(["rebuild"], "rebuilt"), (["project"], "projections at @"), (["verify"], "")]:
        done = run_process("--store", url, *args, cwd=tmp_path)
        assert done.returncode == 0, done.stderr.decode()
        err = done.stderr.decode()
        assert "events/s" not in err and "\x1b" not in err and "\r" not in err, (args, err)
        lines = [line for line in err.splitlines() if line]
        assert len(lines) == (1 if expected else 0) and expected in err, (args, err)


def test_import_on_a_pipe_prints_only_its_summary(tmp_path):
    s, n = road_world(amount="1000000.00")
    path = tmp_path / "world.jsonl"
    write_jsonl(path, s.records)
    done = run_process("--store", sqlite_url(tmp_path / "ledger.sqlite"), "import", path, cwd=tmp_path)
    assert done.returncode == 0
    assert done.stderr.decode().splitlines() == [f"{len(s.records)} line(s): {len(s.records)} applied, 0 duplicate, 0 blocked, 0 conflict"]
