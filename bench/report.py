"""Figures of one bench run: rows of min/median/max over repeats, printed as tables and saved as JSON.

Every figure is kept with all its runs (`values`), so a later run can be compared with this one
(`--json FILE`); ratios are computed from medians and printed beside the rows they compare.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

RATE_UNITS = ("commands/s", "events/s")
NAME_WIDTH = 58


@dataclass
class Row:
    """One measured figure: its runs in `unit`; `note` is printed after it."""

    section: str
    label: str
    unit: str
    values: list[float]
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def document(self) -> dict[str, Any]:
        return {"section": self.section, "label": self.label, "unit": self.unit, "values": self.values,
                "min": min(self.values), "median": self.median, "max": max(self.values), "note": self.note}


def number(value: float, unit: str) -> str:
    if unit in RATE_UNITS or unit in ("MB", "count"):
        return f"{value:,.0f}"
    if unit == "ms":
        return f"{value:,.1f}"
    if unit == "×":
        return f"{value:.2f}"
    return f"{value:,.2f}"


@dataclass
class Report:
    """The run's rows and notes, printed as they come (so a long run shows progress)."""

    meta: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    notes: list[dict[str, str]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    _section: str = ""

    def section(self, title: str) -> None:
        self._section = title
        print(f"\n{title}", flush=True)
        print(f"  {'':{NAME_WIDTH}s} {'unit':>10s} {'min':>10s} {'median':>10s} {'max':>10s}  runs", flush=True)

    def add(self, label: str, unit: str, values: list[float], note: str = "") -> Row:
        assert values, label
        row = Row(self._section, label, unit, [float(v) for v in values], note)
        self.rows.append(row)
        cells = " ".join(f"{number(v, unit):>10s}" for v in (min(values), row.median, max(values)))
        print(f"  {label:{NAME_WIDTH}s} {unit:>10s} {cells}  {len(values):>4d}{'  ' + note if note else ''}", flush=True)
        return row

    def ratio(self, label: str, numerator: Row, denominator: Row, note: str = "") -> float:
        """Print and keep median(numerator) / median(denominator)."""
        value = numerator.median / denominator.median
        self.say(f"{label:{NAME_WIDTH}s} {'':>10s} {'':>10s} {value:>9.2f}×{'  ' + note if note else ''}", kind="ratio",
                 label=label, value=f"{value:.4f}")
        return value

    def say(self, text: str, kind: str = "note", **extra: str) -> None:
        print(f"  {text}", flush=True)
        self.notes.append({"section": self._section, "kind": kind, "text": text.strip(), **extra})

    def fail(self, what: str, error: BaseException) -> None:
        self.failed.append(what)
        self.say(f"FAILED: {what}: {error}", kind="failure")

    def document(self) -> dict[str, Any]:
        return {"meta": self.meta, "rows": [r.document() for r in self.rows], "notes": self.notes, "failed": self.failed}
