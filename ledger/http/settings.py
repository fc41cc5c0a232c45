"""What a server is started with (`tenge-ledger serve`), also readable from the environment so
that each of uvicorn's worker processes builds the same application."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ledger.app import WAIT_SECONDS_DEFAULT

READY_LAG_EVENTS_DEFAULT = 1_000
LEDGERS_DEFAULT = 4  # ledgers (connections) per process serving requests at once
WAIT_SECONDS_HTTP_DEFAULT = 10


@dataclass(frozen=True)
class Settings:
    """`store_url` as `--store`; `rules_path`, `roles_path` as `--rules`, `--roles` (the bootstrap
    policy, in force only while the store has none recorded); `wait_seconds`: how long a write waits
    for what other writers hold before answering 503; `ready_lag_events`: `/readyz` fails when the
    projections are further behind the store than this."""

    store_url: str
    rules_path: str | None = None
    roles_path: str | None = None
    wait_seconds: int = WAIT_SECONDS_HTTP_DEFAULT
    ready_lag_events: int = READY_LAG_EVENTS_DEFAULT
    ledgers: int = LEDGERS_DEFAULT

    def to_env(self) -> dict[str, str]:
        env = {"TENGE_LEDGER_STORE": self.store_url, "TENGE_LEDGER_HTTP_WAIT": str(self.wait_seconds),
               "TENGE_LEDGER_HTTP_READY_LAG": str(self.ready_lag_events),
               "TENGE_LEDGER_HTTP_LEDGERS": str(self.ledgers)}
        if self.rules_path:
            env["TENGE_LEDGER_RULES"] = self.rules_path
        if self.roles_path:
            env["TENGE_LEDGER_ROLES"] = self.roles_path
        return env

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            store_url=os.environ["TENGE_LEDGER_STORE"],
            rules_path=os.environ.get("TENGE_LEDGER_RULES") or None,
            roles_path=os.environ.get("TENGE_LEDGER_ROLES") or None,
            wait_seconds=int(os.environ.get("TENGE_LEDGER_HTTP_WAIT", WAIT_SECONDS_HTTP_DEFAULT)),
            ready_lag_events=int(os.environ.get("TENGE_LEDGER_HTTP_READY_LAG", READY_LAG_EVENTS_DEFAULT)),
            ledgers=int(os.environ.get("TENGE_LEDGER_HTTP_LEDGERS", LEDGERS_DEFAULT)),
        )


assert WAIT_SECONDS_HTTP_DEFAULT <= WAIT_SECONDS_DEFAULT
