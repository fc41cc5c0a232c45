"""One store for all export tests, built once: a small simulated three-pilot world (with misuse) and
a hand-written road world that has every kind of movement (allocate, transfer, reserve, release,
void, spend, return), an amendment, a person (IIN), a transaction id longer than 35 characters, and
a second color allocated a month later (for `--as-of`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.cli import main
from tests.support import Script, at, color_id

LONG_ID = "TRANSFER-with-an-id-longer-than-35-characters-0001"


@dataclass(frozen=True)
class World:
    url: str
    folder: Path
    color: str  # the hand-written road color
    late_color: str  # allocated a month later
    admin: str
    contractor: str
    sub: str
    person: str
    mid_time: str  # after the void, before the contractor pays its subcontractor
    before_late: str  # before the late color's allocation

    def export(self, fmt: str, *options: str, name: str | None = None) -> Path:
        """`tenge-ledger export FMT OPTIONS --out PATH` on this world (it must succeed); PATH."""
        out = self.folder / (name or f"{fmt}-{abs(hash(options))}")
        code = main(["--store", self.url, "export", fmt, *options, "--out", str(out), "--progress", "none"])
        assert code == 0, (fmt, options, code)
        return out


def hand_written(s: Script) -> dict[str, str]:
    treasury, admin = s.party("treasury"), s.party("administrator")
    contractor, sub = s.party("contractor"), s.party("contractor")
    person = s.party("individual")
    color, late = color_id("ROAD", 9001), color_id("ROAD", 9002)
    s.allocate(color, treasury, admin, "1000000.00")
    s.contract("X-C1", color, admin, contractor, "600000.00")
    s.contract("X-C2", color, contractor, sub, "200000.00")
    s.contract("X-C3", color, admin, person, "1000.50")
    s.transfer(color, admin, contractor, "250000.00", contract="X-C1", kind="advance")
    s.add("amend_contract", contract="X-C1", amount="650000.00", reason="more asphalt",
          items=[{"code": "WORKS", "unit": "lot", "quantity": "1", "unit_price": "650000.00"}])
    s.add("accept", contract="X-C1", amount="350000.00", final=False)
    s.reserve(color, admin, contractor, "100000.00", "X-C1", id="X-RES-1")
    s.add("release", reservation="X-RES-1")
    s.reserve(color, admin, contractor, "50000.00", "X-C1", id="X-RES-2")
    s.add("void", reservation="X-RES-2", reason="wrong invoice")
    mid = s.day + 0.005
    s.transfer(color, contractor, sub, "120000.00", contract="X-C2", id=LONG_ID)
    s.spend(color, sub, "20000.37", category="machinery_rental", id="X-SPEND")
    s.return_(color, contractor, "10000.01", reason="unused")
    s.transfer(color, admin, person, "1000.50", contract="X-C3")
    before_late = at(s.day + 15)
    s.allocate(late, treasury, admin, "5000.00", days=s.day + 30)
    s.contract("X-L1", late, admin, contractor, "5000.00")
    s.transfer(late, admin, contractor, "4999.99", contract="X-L1")
    return {"color": color, "late_color": late, "admin": admin, "contractor": contractor, "sub": sub,
            "person": person, "mid_time": at(mid), "before_late": before_late}


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    folder = tmp_path_factory.mktemp("export-world")
    simulated = folder / "simulated.jsonl"
    assert main(["simulate", "road", "agro", "local", "--seed", "5", "--transactions", "300", "--misuse-rate", "0.3",
                 "--out", str(simulated), "--progress", "none", "--format", "json"]) == 0
    s = Script()
    names = hand_written(s)
    written = s.write(folder / "hand.jsonl")
    url = f"sqlite:///{folder / 'ledger.sqlite'}"
    assert main(["--store", url, "import", str(simulated), str(written), "--progress", "none",
                 "--report", str(folder / "report.jsonl")]) == 0
    return World(url, folder, **names)


@pytest.fixture
def read_balances(world: World, capsys: pytest.CaptureFixture[str]) -> Callable[..., dict[tuple[str, str], int]]:
    """The ledger's own `balance --format json OPTIONS` answer, as {(color, holder): tiyn}."""

    def balances(*options: str) -> dict[tuple[str, str], int]:
        capsys.readouterr()
        assert main(["--store", world.url, "balance", "--format", "json", *options]) == 0
        document = json.loads(capsys.readouterr().out)
        return {(row["color"], row["party"]): row["balance_tiyn"] for row in document["balances"]}

    return balances
