"""Helpers for the end-to-end CLI tests: run the CLI as a user does, build realistic files.

Everything here that checks identifiers or amounts is written from SPEC §1–§2 directly, not by
calling the production parsers, so the tests do not inherit a bug from the code under test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ledger.cli import main
from tests.support import Script, color_id, road_world

REPO = Path(__file__).resolve().parents[2]


# --- running the CLI ------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def cli(capsys: pytest.CaptureFixture[str], *args: str | os.PathLike[str]) -> Run:
    """`tenge-ledger ARGS...` in-process; stdout and stderr of this one call."""
    capsys.readouterr()  # drop anything printed before
    code = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return Run(code, out, err)


def process_env() -> dict[str, str]:
    """The environment for a child `tenge-ledger`: no store from the caller's environment."""
    env = {k: v for k, v in os.environ.items() if k != "TENGE_LEDGER_STORE"}
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def run_process(*args: str | os.PathLike[str], cwd: Path, input: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    """`python -m ledger ARGS...` in a real child process."""
    return subprocess.run(
        [sys.executable, "-m", "ledger", *[str(a) for a in args]],
        cwd=cwd, input=input, capture_output=True, env=process_env(), timeout=timeout, check=False,
    )


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


# --- reading the store through the CLI -------------------------------------------------------


def balance_json(capsys: pytest.CaptureFixture[str], url: str) -> str:
    run = cli(capsys, "--store", url, "balance", "--format", "json")
    assert run.code == 0, run.err
    return run.out


def assert_nothing_written(capsys: pytest.CaptureFixture[str], url: str) -> None:
    """The store holds nothing: a SQLite file was not even created (and a read does not create it:
    exit 69, SPEC §5), any other store reads as empty."""
    path = Path(url[len("sqlite:///"):]) if url.startswith("sqlite:///") else None
    if path is not None and not path.exists():
        run = cli(capsys, "--store", url, "balance", "--format", "json")
        assert run.code == 69 and "no store file" in run.err, (run.code, run.err)
        assert not path.exists(), "a read created the store file"
        return
    assert json.loads(balance_json(capsys, url)) == {"as_of": "@0", "position": 0, "balances": []}


def history_json(capsys: pytest.CaptureFixture[str], url: str, color: str) -> str:
    run = cli(capsys, "--store", url, "history", color, "--format", "json")
    assert run.code == 0, run.err
    return run.out


def snapshot(capsys: pytest.CaptureFixture[str], url: str, colors: list[str]) -> dict[str, str]:
    """Everything a user can read about the store: balances and each color's history, as bytes."""
    state = {"balance": balance_json(capsys, url)}
    for color in colors:
        state[color] = history_json(capsys, url, color)
    return state


def balances_by_key(document: dict[str, Any]) -> dict[tuple[str, str], int]:
    rows = document["balances"]
    for row in rows:
        assert row["balance"] == kzt_text(row["balance_tiyn"]), row
    keyed = {(row["color"], row["party"]): row["balance_tiyn"] for row in rows}
    assert len(keyed) == len(rows), "one row per (color, party)"
    return keyed


def read_report(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- money and identifiers, straight from SPEC §1-§2 -----------------------------------------


def tiyn(kzt: str) -> int:
    """SPEC §1: a KZT string as tiyn (the test's own arithmetic, not domain.money)."""
    value = Decimal(kzt) * 100
    assert value == value.to_integral_value(), kzt
    return int(value)


def kzt_text(amount_tiyn: int) -> str:
    return f"{amount_tiyn // 100}.{amount_tiyn % 100:02d}"


def bin_is_valid(text: str) -> bool:
    """SPEC §2.1 checksum."""
    if len(text) != 12 or not text.isdigit():
        return False
    d = [int(ch) for ch in text]
    s = sum(d[i] * (i + 1) for i in range(11)) % 11
    if s == 10:
        w2 = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]
        s = sum(d[i] * w2[i] for i in range(11)) % 11
        if s == 10:
            return False
    return d[11] == s


def color_is_valid(text: str) -> bool:
    """SPEC §2.2: ISO 7064 MOD 97-10 over PILOT FY PROGRAM SEQ CC."""
    parts = text.split("-")
    if len(parts) != 5 or parts[0] not in ("ROAD", "AGRO", "LOCAL"):
        return False
    digits = "".join(str(ord(ch) - ord("A") + 10) if ch.isalpha() else ch for ch in "".join(parts))
    return int(digits) % 97 == 1


def mistyped_bin(valid: str) -> str:
    """`valid` with a wrong check digit."""
    assert bin_is_valid(valid)
    for digit in "0123456789":
        candidate = valid[:11] + digit
        if not bin_is_valid(candidate):
            return candidate
    raise AssertionError(valid)


def mistyped_color(valid: str) -> str:
    """`valid` with wrong check digits."""
    assert color_is_valid(valid)
    stem, check = valid.rsplit("-", 1)
    candidate = f"{stem}-{(int(check) + 1) % 100:02d}"
    assert not color_is_valid(candidate)
    return candidate


# --- files ------------------------------------------------------------------------------------


def write_jsonl(path: Path, records: list[dict[str, Any]], blanks_before: dict[int, list[str]] | None = None, trailing: str = "\n") -> list[int]:
    """Write records one per line, with blank lines before some (index -> blank lines' text).

    Returns the 1-based physical line number of each record.
    """
    blanks_before = blanks_before or {}
    lines: list[str] = []
    numbers: list[int] = []
    for index, record in enumerate(records):
        lines.extend(blanks_before.get(index, []))
        lines.append(json.dumps(record))
        numbers.append(len(lines))
    path.write_text("\n".join(lines) + "\n" + trailing, encoding="utf-8")
    return numbers


# --- the realistic road + local world --------------------------------------------------------


@dataclass
class World:
    script: Script
    names: dict[str, str]
    road: str
    local: str

    @property
    def colors(self) -> list[str]:
        return [self.road, self.local]


def realistic_world() -> World:
    """Registrations, two allocations, contracts (one with several items), transfers (one with
    lot sources), reserve/accept/release, reserve/void, spends, freeze/unfreeze, returns.

    Every command applies. Expected balances: see `expected_balances`.
    """
    s, n = road_world(amount="1000000.00")
    road = n["color"]
    n["supplier"] = s.party("supplier", region="Pavlodar", address="Toraigyrov st. 64")
    n["official"] = s.party("individual")
    s.add("update_party", party=n["admin"], officials=[n["official"]])
    s.contract("C-3", road, n["sub"], n["supplier"], "200000.00", items=[
        {"code": "BITUMEN", "unit": "t", "quantity": "40", "unit_price": "4000.00"},
        {"code": "SAND", "unit": "m3", "quantity": "1000", "unit_price": "40.00"},
    ], method="quotation")
    s.transfer(road, n["admin"], n["contractor"], "300000.50", id="TX-ROAD-1", contract="C-1", kind="advance",
               sources=[{"lot": "ALL-00005", "amount": "300000.50"}])
    s.transfer(road, n["contractor"], n["sub"], "120000.25", id="TX-ROAD-2", invoice="INV-77")
    s.reserve(road, n["admin"], n["contractor"], "50000.00", "C-1", id="RS-ROAD-1")
    s.add("accept", id="ACC-ROAD-1", contract="C-1", amount="50000.00", final=True,
          evidence_sha256="ab" * 32)
    s.add("release", id="REL-ROAD-1", reservation="RS-ROAD-1")
    s.reserve(road, n["admin"], n["contractor"], "10000.00", "C-1", id="RS-ROAD-2")
    s.add("void", id="VOID-ROAD-2", reservation="RS-ROAD-2", reason="invoice withdrawn")
    s.transfer(road, n["sub"], n["supplier"], "80000.00", id="TX-ROAD-3", contract="C-3")
    s.spend(road, n["supplier"], "30000.00", id="SP-ROAD-1", category="materials", invoice="F-1")
    s.spend(road, n["contractor"], "10000.00", id="SP-ROAD-2", category="fuel")
    s.add("freeze", id="FRZ-1", color=road, holder=n["sub"], reason="audit request 12")
    s.add("unfreeze", id="UNF-1", color=road, holder=n["sub"], reason="audit closed")
    s.spend(road, n["sub"], "20000.25", id="SP-ROAD-3", category="wages")
    s.return_(road, n["admin"], "100000.00", id="RET-ROAD-1", reason="savings")

    local = color_id("LOCAL", 7, program=12)
    s.allocate(local, n["treasury"], n["admin"], "250000.00", id="ALL-LOCAL")
    s.contract("L-1", local, n["admin"], n["contractor"], "250000.00")
    s.transfer(local, n["admin"], n["contractor"], "75000.00", id="TX-LOCAL-1")
    s.spend(local, n["contractor"], "5000.10", id="SP-LOCAL-1", category="livestock")
    s.return_(local, n["contractor"], "0.90", id="RET-LOCAL-1")
    return World(s, n, road, local)


def expected_balances(world: World) -> dict[tuple[str, str], int]:
    """Balances after `realistic_world`, from the amounts written above (SPEC §4 conservation)."""
    n, road, local = world.names, world.road, world.local
    admin = tiyn("1000000.00") - tiyn("300000.50") - tiyn("50000.00") - tiyn("10000.00") + tiyn("10000.00") - tiyn("100000.00")
    contractor = tiyn("300000.50") - tiyn("120000.25") + tiyn("50000.00") - tiyn("10000.00")
    sub = tiyn("120000.25") - tiyn("80000.00") - tiyn("20000.25")
    supplier = tiyn("80000.00") - tiyn("30000.00")
    # conservation: allocated = held + spent + returned (nothing reserved at the end)
    assert admin + contractor + sub + supplier + tiyn("60000.25") + tiyn("100000.00") == tiyn("1000000.00")
    return {
        (road, n["admin"]): admin,
        (road, n["contractor"]): contractor,
        (road, n["sub"]): sub,
        (road, n["supplier"]): supplier,
        (local, n["admin"]): tiyn("250000.00") - tiyn("75000.00"),
        (local, n["contractor"]): tiyn("75000.00") - tiyn("5000.10") - tiyn("0.90"),
    }


# --- the same records as single CLI subcommands (SPEC §5: flags named as the fields) ----------

_LIST_FLAGS = {"owners": "--owner", "directors": "--director", "officials": "--official", "assets": "--asset"}
_NESTED_FLAGS = {
    "items": ("--item", ("code", "unit", "quantity", "unit_price")),
    "sources": ("--source", ("lot", "amount")),
    "quantities": ("--quantity", ("code", "quantity")),
}


def record_to_argv(record: dict[str, Any]) -> list[str]:
    """`tenge-ledger <type> --field value ...` for one interchange record."""
    argv = [record["type"].replace("_", "-")]
    for field, value in record.items():
        if field == "type":
            continue
        if field in _LIST_FLAGS:
            for entry in value:
                argv += [_LIST_FLAGS[field], entry]
        elif field in _NESTED_FLAGS:
            flag, parts = _NESTED_FLAGS[field]
            for entry in value:
                argv += [flag, *[entry[part] for part in parts]]
        elif field == "road":
            argv += ["--road", value["length_km"], value["width_m"], value["asphalt_cm"]]
        elif value is True:
            argv.append("--" + field.replace("_", "-"))
        else:
            assert isinstance(value, str), (field, value)
            argv += ["--" + field.replace("_", "-"), value]
    return argv
