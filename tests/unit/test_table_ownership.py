"""Each projection table is queried only by the projection that owns it (issue 9 item 2).

The application asks the read side (`ledger/read.py`), which asks the projections' named
functions; no module outside `projections/` names a projection table, and inside `projections/`
no module names another projection's table. A grep, so the rule stays true as code moves.
"""

from __future__ import annotations

import re
from pathlib import Path

import projections.balances
import projections.dispositions
import projections.flags
import projections.index
from projections.balances import Balances
from projections.dispositions import Dispositions
from projections.flags import Flags
from projections.index import LogIndex
from projections.rules.config import default_config
from projections.runner import POSITIONS_TABLE

ROOT = Path(__file__).resolve().parents[2]
OWNERS = {
    Path(projections.index.__file__).resolve(): LogIndex.tables,
    Path(projections.balances.__file__).resolve(): Balances.tables,
    Path(projections.flags.__file__).resolve(): Flags(default_config()).tables,
    Path(projections.dispositions.__file__).resolve(): Dispositions.tables,
}
ALL_TABLES = sorted({table for tables in OWNERS.values() for table in tables})


def naming(path: Path, tables: list[str] | tuple[str, ...]) -> list[str]:
    """`path:line: table` for every line of a Python file that names one of `tables`."""
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, tables)) + r")\b")
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        for match in pattern.finditer(line):
            found.append(f"{path.relative_to(path.parents[1]) if len(path.parts) > 1 else path}:{number}: {match.group(1)}")
    return found


def violations(directory: Path, tables: list[str] | tuple[str, ...]) -> list[str]:
    return [hit for path in sorted(directory.rglob("*.py")) for hit in naming(path, tables)]


def test_the_tables_are_known():
    assert {"ledger_transactions", "ledger_colors", "ledger_parties", "ledger_party_names", "ledger_balance_changes",
            "ledger_balances", "ledger_flags", "ledger_rule_state"} <= set(ALL_TABLES)


def test_no_module_outside_projections_names_a_projection_table():
    hits = []
    for package in ("ledger", "simulations"):
        hits += violations(ROOT / package, [*ALL_TABLES, POSITIONS_TABLE])
    assert hits == [], "ask the read side (ledger/read.py) instead:\n" + "\n".join(hits)


def test_inside_projections_only_the_owner_names_its_tables():
    hits = []
    for path in sorted((ROOT / "projections").rglob("*.py")):
        others = [table for owner, tables in OWNERS.items() if owner != path.resolve() for table in tables]
        hits += naming(path, others)
    assert hits == [], "\n".join(hits)


def test_the_check_catches_a_query_added_outside_its_owner(tmp_path):
    module = tmp_path / "ledger" / "app.py"
    module.parent.mkdir()
    module.write_text('rows = db.query("SELECT color FROM ledger_colors")\nother = "ledger_colors_backup"\n')
    assert violations(tmp_path / "ledger", ALL_TABLES) == ["ledger/app.py:1: ledger_colors"]
