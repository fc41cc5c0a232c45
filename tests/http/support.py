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
import subprocess
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.http_load import serving as bench_serving
from ledger.app import Ledger
from ledger.tokens import issue_token
from tests.support import Script, road_world

ROOT = Path(__file__).resolve().parents[2]
# actor -> role; the tokens of `World` are keyed by role
ACTORS = {"root": "admin", "olzhas": "operator", "dana": "auditor"}


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


def cli_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


@contextmanager
def served(url: str, *, workers: int = 1, log_path: Path | None = None, args: tuple[str, ...] = ()) -> Iterator[str]:
    """`tenge-ledger serve` on a free loopback port; yields its base URL once /healthz answers.
    Stopped with SIGTERM (graceful) when the block ends; its stderr goes to `log_path`."""
    with serving(url, workers=workers, log_path=log_path, args=args) as (base, _process):
        yield base


def serving(url: str, *, workers: int = 1, log_path: Path | None = None,
            args: tuple[str, ...] = ()) -> AbstractContextManager[tuple[str, subprocess.Popen[bytes]]]:
    """As `served`, yielding (base URL, the serve process): the bench's launcher, ready on /healthz."""
    return bench_serving(url, workers=workers, log_path=log_path, args=args, ready_path="/healthz")


def record(world: World, type_: str, **fields: Any) -> dict[str, Any]:
    """A new interchange record after the world's script (fresh id, later business time)."""
    return world.script.add(type_, **fields)
