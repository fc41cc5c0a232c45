"""Builders for tests: valid identifiers and interchange records that read as sentences.

    s = Script()
    admin = s.party("administrator")
    ...
    s.allocate(color, admin, "1000.00")
    s.transfer(color, admin, contractor, "250.00")
    outcomes = ledger.execute(s.commands())
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from datetime import datetime, timedelta, timezone
from pathlib import Path
from collections.abc import Sequence
from typing import Any

from bench.stores import postgres_schema as bench_postgres_schema
from domain.commands import Command
from domain.identifiers import make_color, make_party_id
from ledger.app import APPLIED, BLOCKED, CONFLICT, DUPLICATE, Outcome
from ledger.interchange import parse_record

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=5)))


def party_id(n: int, *, person: bool = False) -> str:
    """A valid BIN (or IIN) numbered n; distinct n give distinct ids."""
    assert 0 <= n < 10_000
    prefix = "850312" if person else "150740"
    for spare in range(10):  # the rare stems without a check digit get another spare digit
        made = make_party_id(f"{prefix}{spare}{n:04d}")
        if made:
            return made
    raise AssertionError(f"no valid id for {n}")


def color_id(pilot: str = "ROAD", seq: int = 1, fiscal_year: int = 2025, program: int = 41) -> str:
    return make_color(pilot, fiscal_year, program, seq)


def at(days: float = 0) -> str:
    return (T0 + timedelta(days=days)).isoformat()


class Script:
    """Builds interchange records with fresh ids and increasing business time."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.day = 0.0
        self._parties = 0

    def add(self, type_: str, *, id: str | None = None, days: float | None = None, **fields: Any) -> dict[str, Any]:
        self.day = self.day + 0.01 if days is None else days
        record = {"id": id or f"{type_[:3].upper()}-{len(self.records) + 1:05d}", "type": type_, "at": at(self.day)}
        record.update({k.rstrip("_"): v for k, v in fields.items() if v is not None})
        self.records.append(record)
        return record

    def party(self, kind: str, **fields: Any) -> str:
        self._parties += 1
        party = party_id(self._parties, person=kind == "individual")
        self.add("register_party", party=party, name=f"{kind.title()} {self._parties}", kind=kind, **fields)
        return party

    def allocate(self, color: str, treasury: str, administrator: str, amount: str, expires_on: str = "2025-12-31", **kw: Any) -> dict[str, Any]:
        program = color.split("-")[2]
        return self.add("allocate", color=color, program=program, purpose="test allocation", amount=amount,
                        treasury=treasury, administrator=administrator, expires_on=expires_on, **kw)

    def contract(self, contract: str, color: str, customer: str, supplier: str, amount: str, **kw: Any) -> dict[str, Any]:
        items = kw.pop("items", None) or [{"code": "WORKS", "unit": "lot", "quantity": "1", "unit_price": amount}]
        return self.add("sign_contract", contract=contract, color=color, customer=customer, supplier=supplier,
                        amount=amount, items=items, **kw)

    def transfer(self, color: str, payer: str, payee: str, amount: str, **kw: Any) -> dict[str, Any]:
        return self.add("transfer", color=color, from_=payer, to=payee, amount=amount, **kw)

    def reserve(self, color: str, payer: str, payee: str, amount: str, contract: str, **kw: Any) -> dict[str, Any]:
        return self.add("reserve", color=color, from_=payer, to=payee, amount=amount, contract=contract, **kw)

    def spend(self, color: str, holder: str, amount: str, category: str = "materials", **kw: Any) -> dict[str, Any]:
        return self.add("spend", color=color, from_=holder, amount=amount, category=category, **kw)

    def return_(self, color: str, holder: str, amount: str, **kw: Any) -> dict[str, Any]:
        return self.add("return", color=color, from_=holder, amount=amount, **kw)

    def commands(self) -> list[Command]:
        return [parse_record(record) for record in self.records]

    def write(self, path: Path) -> Path:
        path.write_text("".join(json.dumps(record) + "\n" for record in self.records), encoding="utf-8")
        return path


def road_world(s: Script | None = None, amount: str = "1000000.00") -> tuple[Script, dict[str, str]]:
    """A small valid road world: treasury, administrator, contractor with a contract, allocated color."""
    s = s or Script()
    names = {
        "treasury": s.party("treasury"),
        "admin": s.party("administrator"),
        "contractor": s.party("contractor"),
        "sub": s.party("contractor"),
        "color": color_id("ROAD", 1),
    }
    s.allocate(names["color"], names["treasury"], names["admin"], amount)
    s.contract("C-1", names["color"], names["admin"], names["contractor"], amount)
    s.contract("C-2", names["color"], names["contractor"], names["sub"], amount)
    return s, names


def execute_in_chunks(ledger: Any, commands: Sequence[Command], sizes: Sequence[int]) -> list[Outcome]:
    """`commands` through `ledger`, one `execute` (fresh cache) per chunk of the given sizes, in turn."""
    assert sizes and all(size > 0 for size in sizes), sizes
    outcomes: list[Outcome] = []
    start, i = 0, 0
    while start < len(commands):
        size = sizes[i % len(sizes)]
        outcomes += ledger.execute(commands[start:start + size])
        start, i = start + size, i + 1
    return outcomes


def outcomes_again(first: Sequence[Outcome]) -> list[Outcome]:
    """What submitting the same commands again answers, given what the first run answered.

    A command recorded as applied is a `duplicate`; one recorded as blocked is `blocked` again with
    its original rule and sentence (the same attempt, issue 10 item 11); a conflict stays one.
    """
    recorded: dict[str, Outcome] = {}
    for outcome in first:
        if outcome.status in (APPLIED, BLOCKED):
            recorded.setdefault(outcome.command_id, outcome)
    again = []
    for outcome in first:
        if outcome.status == CONFLICT:
            again.append(outcome)
            continue
        original = recorded.get(outcome.command_id)
        blocked = original is not None and original.status == BLOCKED
        again.append(original if blocked else Outcome(outcome.command_id, DUPLICATE))
    return again


# --- stores for tests ---------------------------------------------------------------------------

POSTGRES_URL = os.environ.get("TENGE_LEDGER_TEST_POSTGRES", "")


def postgres_schema(url: str, schema: str | None = None) -> AbstractContextManager[str]:
    """A fresh schema on the server `url` names (its `?schema=` ignored), as a store URL; dropped after."""
    return bench_postgres_schema(url, "t_", schema)


def memory_store() -> tuple[str, Callable[[], None]]:
    """An in-memory store, gone with its Ledger: (url, cleanup)."""
    return "memory://", lambda: None


def sqlite_store() -> tuple[str, Callable[[], None]]:
    """A SQLite file in a fresh temporary folder, removed by the cleanup: (url, cleanup)."""
    folder = tempfile.mkdtemp(prefix="tenge-ledger-test-")
    return f"sqlite:///{folder}/ledger.sqlite", lambda: shutil.rmtree(folder, ignore_errors=True)


def postgres_store() -> tuple[str, Callable[[], None]]:
    """A fresh schema on the test server, dropped by the cleanup: (url, cleanup)."""
    assert POSTGRES_URL, "PostgreSQL stores need TENGE_LEDGER_TEST_POSTGRES"
    stack = ExitStack()
    return stack.enter_context(postgres_schema(POSTGRES_URL)), stack.close
