"""RULES.md's catalog rows: read from ../shared/RULES.md where it exists, else from the registry.

On a fresh clone without the shared folder the registry is the catalog (each rule carries its
title, pilots and definition word for word), so the tests that read the catalog still run; where
RULES.md is present they check the code against it.
"""

from __future__ import annotations

import re
from pathlib import Path

from domain.identifiers import PILOTS
from projections.rules.registry import REGISTRY

RULES_MD = Path(__file__).resolve().parents[3] / "shared" / "RULES.md"


def catalog_rows() -> dict[str, dict[str, str]]:
    """code -> {title, pilots, definition}, in catalog order."""
    if not RULES_MD.is_file():
        return {rule.code: {"title": rule.title, "definition": rule.definition,
                            "pilots": "all" if set(rule.pilots) == set(PILOTS) else
                            ", ".join(p for p in PILOTS if p in rule.pilots)} for rule in REGISTRY.rules}
    rows: dict[str, dict[str, str]] = {}
    for line in RULES_MD.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 5 and re.fullmatch(r"[A-Z]\d\d", cells[0]):
            rows[cells[0]] = {"title": cells[1], "pilots": cells[2], "definition": cells[3]}
    assert rows, f"no rule rows found in {RULES_MD}"
    return rows
