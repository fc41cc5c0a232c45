"""Rules of RULES.md in this family (see catalog.py)."""

from __future__ import annotations

from projections.rules.engine import Rule

RULES: list[type[Rule]] = []
