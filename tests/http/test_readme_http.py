"""README's "The HTTP service" block runs as written: the demo, a token, `serve`, `/docs`, and a
transfer posted with curl is applied (then replayed). Only the port is changed (a free one), the
shell waits for the server before the first curl, and stops it at the end."""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bench.http_load import free_port
from tests.http.support import ROOT, cli_env


def readme_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## The HTTP service\n(.*?)(?=^## )", text, re.MULTILINE | re.DOTALL)
    assert section, "README.md has no 'The HTTP service' section"
    block = re.search(r"```sh\n(.*?)```", section.group(1), re.DOTALL)
    assert block, "the section has no sh block"
    return block.group(1)


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_readme_http_walkthrough_works(tmp_path: Path) -> None:
    port = free_port()
    tool = tmp_path / "bin" / "tl"
    tool.parent.mkdir()
    tool.write_text(f'#!/bin/sh\nexec {sys.executable} -m ledger "$@"\n', encoding="utf-8")
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    lines = []
    for line in readme_block().replace("8000", str(port)).splitlines():
        lines.append(line)
        if line.startswith("tl serve") and line.rstrip().split("#")[0].rstrip().endswith("&"):
            lines.append("SERVER=$!")
            lines.append(f"for _ in $(seq 300); do curl -sf http://127.0.0.1:{port}/healthz >/dev/null && break; sleep 0.2; done")
            lines.append(f"curl -s -o /dev/null -w 'docs %{{http_code}}\\n' http://127.0.0.1:{port}/docs")
    body = "\n".join(lines)
    post = body[body.index("curl -s -H"):]
    script = "set -e\ntrap 'kill $SERVER 2>/dev/null || true' EXIT\n" + body + "\necho\n" + post + "\necho\n"
    env = {**cli_env(), "PATH": f"{tool.parent}:{cli_env()['PATH']}"}
    env.pop("TENGE_LEDGER_STORE", None)
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "docs 200" in out and '{"status":"ok"}' in out
    assert '"status":"applied"' in out and '"status":"duplicate"' in out
    assert (tmp_path / "token.txt").read_text(encoding="utf-8").startswith("tl_")
