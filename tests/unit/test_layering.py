"""The import arrows of DESIGN.md hold: domain imports nothing of ours (and of eventsourcing only its
domain module), projections only domain, ledger domain and projections, simulations all three.
The CLI modules (`ledger/cli*.py`) are the composition root: they may also reach `simulations`
for `tenge-ledger simulate`."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = {"domain", "ledger", "projections", "simulations"}
ALLOWED = {
    "domain": {"domain"},
    "projections": {"domain", "projections"},
    "ledger": {"domain", "projections", "ledger"},
    "simulations": {"domain", "projections", "ledger", "simulations"},
}


def imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_what_its_layer_may(package: str) -> None:
    wrong = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, module in imports(path):
            top = module.split(".")[0]
            composition_root = package == "ledger" and path.name.startswith("cli") and top == "simulations"
            if top in OURS and top not in ALLOWED[package] and not composition_root:
                wrong.append(f"{path.relative_to(ROOT)}:{line}: imports {module}")
    assert wrong == []


def test_the_domain_uses_only_the_standard_library_and_eventsourcing_domain() -> None:
    wrong = []
    for path in sorted((ROOT / "domain").rglob("*.py")):
        for line, module in imports(path):
            top = module.split(".")[0]
            if top in OURS or top in sys.stdlib_module_names or module == "eventsourcing.domain":
                continue
            wrong.append(f"{path.relative_to(ROOT)}:{line}: imports {module}")
    assert wrong == []


def test_the_domain_reads_no_clock_and_draws_no_randomness() -> None:
    """No wall clock and no randomness in domain/ (DESIGN.md: two clocks; deterministic)."""
    wrong = []
    for path in sorted((ROOT / "domain").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for needle in ("datetime.now", "date.today", "time.time(", "import random", "from random", "uuid4("):
            if needle in text:
                wrong.append(f"{path.relative_to(ROOT)}: {needle}")
    assert wrong == []
