"""`tenge-ledger serve` as a process: it serves a store, never creates one, and stops gracefully."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from tests.http.support import World, cli_env, served


def test_serve_answers_over_tcp_with_the_token_s_actor(world: World, tmp_path: Path) -> None:
    with served(world.url, log_path=tmp_path / "serve.log") as base:
        answer = httpx.get(base + "/v1/me", headers=world.auth("auditor"), timeout=10)
        assert answer.json() == {"actor": "dana", "role": "auditor"}
        assert httpx.get(base + "/openapi.json", timeout=10).json()["info"]["title"] == "tenge-ledger"
    log = (tmp_path / "serve.log").read_text(encoding="utf-8")
    assert '"route": "/v1/me"' in log and '"actor": "dana"' in log  # the JSON access log


def test_serve_never_creates_a_store(tmp_path: Path) -> None:
    missing = tmp_path / "missing.sqlite"
    done = subprocess.run([sys.executable, "-m", "ledger", "--store", str(missing), "serve", "--port", "0"],
                          env=cli_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 69, done.stderr
    assert not missing.exists()


def test_serve_refuses_an_encrypted_store_without_its_key_before_listening(tmp_path: Path) -> None:
    import base64
    import os

    from ledger.app import Ledger

    key = base64.b64encode(os.urandom(32)).decode()
    store = tmp_path / "sealed.sqlite"
    Ledger(f"sqlite:///{store}", cipher_key=key).close()
    env = {k: v for k, v in cli_env().items() if k != "TENGE_LEDGER_KEY"}
    done = subprocess.run([sys.executable, "-m", "ledger", "--store", str(store), "serve", "--port", "0"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "TENGE_LEDGER_KEY" in done.stderr
