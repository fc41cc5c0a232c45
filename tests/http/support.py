"""Builders for HTTP tests: a store with a road world, a roles policy and a token per role; the
application in-process (`TestClient`) or as a `tenge-ledger serve` subprocess (`served`).

    world = prepare_store(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    with TestClient(create_app(Settings(world.url))) as client:
        client.get("/v1/colors", headers=world.auth("operator"))

    with served(world.url, workers=4) as base_url:
        httpx.get(base_url + "/healthz")
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from ledger.app import Ledger
from ledger.tokens import issue_token
from tests.support import Script, road_world

ROOT = Path(__file__).resolve().parents[2]
# actor -> role; the tokens of `World` are keyed by role
ACTORS = {"root": "admin", "olzhas": "operator", "dana": "auditor"}
SERVER_START_S = 60.0


@dataclass
class World:
    """A prepared store: its URL, a token per role, the road world's names and script."""

    url: str
    tokens: dict[str, str]
    names: dict[str, str]
    script: Script
    token_ids: dict[str, str] = field(default_factory=dict)

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def prepare_store(url: str, amount: str = "1000000.00") -> World:
    """The road world (`tests.support.road_world`) applied, then the roles policy of ACTORS recorded
    and a token issued for each actor (by root, the admin)."""
    script, names = road_world(amount=amount)
    ledger = Ledger(url, actor="root")
    try:
        outcomes = ledger.execute(script.commands())
        assert all(outcome.status == "applied" for outcome in outcomes), outcomes
        now = datetime.now(UTC).replace(microsecond=0)
        assert ledger.set_roles(ACTORS, "ROLES-1", now)
        tokens, token_ids = {}, {}
        for n, (actor, role) in enumerate(sorted(ACTORS.items())):
            token_ids[role] = f"testtoken{n}"
            tokens[role] = issue_token(ledger, actor, token_ids[role], f"{role}-secret-".ljust(43, "x"), f"TOKEN-{n}", now)
    finally:
        ledger.close()
    return World(url, tokens, names, script, token_ids)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


@contextmanager
def served(url: str, *, workers: int = 1, log_path: Path | None = None, args: tuple[str, ...] = ()) -> Iterator[str]:
    """`tenge-ledger serve` on a free loopback port; yields its base URL once /healthz answers.
    Stopped with SIGTERM (graceful) when the block ends; its stderr goes to `log_path`."""
    with serving(url, workers=workers, log_path=log_path, args=args) as (base, _process):
        yield base


@contextmanager
def serving(url: str, *, workers: int = 1, log_path: Path | None = None,
            args: tuple[str, ...] = ()) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """As `served`, yielding (base URL, the serve process)."""
    port = free_port()
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "ledger", "--store", url, "serve", "--port", str(port), "--workers", str(workers), *args],
        env=cli_env(), stdout=subprocess.DEVNULL, stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            assert process.poll() is None, f"serve exited with {process.returncode} (log: {log_path})"
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not answer /healthz in time"
            time.sleep(0.1)
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log_path:
            log.close()  # type: ignore[union-attr]


def record(world: World, type_: str, **fields: Any) -> dict[str, Any]:
    """A new interchange record after the world's script (fresh id, later business time)."""
    return world.script.add(type_, **fields)
