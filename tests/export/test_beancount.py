"""`export beancount`: Beancount's own checker accepts the ledger, one commodity per color, one
account per holder; bean-query's balances are the ledger's (tests/export/test_balances_agree.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from beancount import loader
from beancount.core import data


def test_bean_check_accepts_the_export_of_a_simulated_world(world) -> None:
    path = world.export("beancount", name="all.beancount")
    entries, errors, _ = loader.load_file(str(path))
    assert errors == []
    commodities = {entry.currency for entry in entries if isinstance(entry, data.Commodity)}
    assert world.color in commodities and len(commodities) > 5, "one commodity per color"
    assertions = [entry for entry in entries if isinstance(entry, data.Balance)]
    assert len(assertions) > 40, "bean-check checked the ledger's balances"


def test_a_wrong_balance_fails_bean_check(world) -> None:
    """The check above could fail: one tiyn off in an assertion is an error."""
    path = world.export("beancount", "--color", world.color, name="wrong.beancount")
    text = path.read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if " balance Assets:Holders:" in line and world.sub in line)
    path.write_text(text.replace(line, line.replace("99999.63", "99999.64")), encoding="utf-8")
    _, errors, _ = loader.load_file(str(path))
    assert len(errors) == 1 and "Balance failed" in errors[0].message


def test_money_is_exact_decimal_tenge(world) -> None:
    text = world.export("beancount", "--color", world.color, name="exact.beancount").read_text(encoding="utf-8")
    assert f"Expenses:Spent:MachineryRental  20000.37 {world.color}" in text
    assert f"Equity:Returned  10000.01 {world.color}" in text
    assert not re.search(r"\d[eE][+-]?\d", text), "no exponent notation"


def test_a_party_export_books_the_others_as_counterparties(world) -> None:
    path = world.export("beancount", "--party", world.sub, name="party.beancount")
    entries, errors, _ = loader.load_file(str(path))
    assert errors == []
    accounts = {entry.account for entry in entries if isinstance(entry, data.Open)}
    assert {a for a in accounts if a.startswith("Assets:Holders:")} == {f"Assets:Holders:BIN-{world.sub}"}
    assert f"Equity:Counterparties:{world.contractor}" in accounts


@pytest.mark.skipif(shutil.which("bean-check", path=str(Path(sys.executable).parent)) is None, reason="no bean-check")
def test_the_bean_check_command_accepts_it(world) -> None:
    path = world.export("beancount", "--as-of", world.mid_time, name="cli.beancount")
    done = subprocess.run([str(Path(sys.executable).parent / "bean-check"), str(path)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
