"""Put the figures of two `python -m bench --json` runs side by side, as a Markdown table.

    python -m bench.compare BEFORE.json [AFTER.json]

Each row: the measure, its unit, the median (min–max) before and after, and after/before. Ratios
the run printed (import / raw, time for 10× the events, …) follow as rows of their own. With one
file, the "after" column is left empty, to be filled by a later run.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import orjson

from bench.report import number


def _load(path: Path | None) -> dict[str, Any] | None:
    return orjson.loads(path.read_bytes()) if path else None


def _cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return ""
    unit = row["unit"]
    low, middle, high = (number(row[k], unit) for k in ("min", "median", "max"))
    return middle if low == high else f"{middle} ({low}–{high})"


def _ratio_cell(note: dict[str, Any] | None) -> str:
    return f"{float(note['value']):.2f}×" if note else ""


def table(before: dict[str, Any], after: dict[str, Any] | None) -> list[str]:
    """Markdown lines: one row per figure of `before` (and any only in `after`), in run order."""
    def rows_of(run: dict[str, Any] | None) -> dict[tuple[str, str], dict[str, Any]]:
        return {(r["section"], r["label"]): r for r in run["rows"]} if run else {}

    def ratios_of(run: dict[str, Any] | None) -> dict[tuple[str, str], dict[str, Any]]:
        return {(n["section"], n["label"]): n for n in run["notes"] if n["kind"] == "ratio"} if run else {}

    old_rows, new_rows = rows_of(before), rows_of(after)
    old_ratios, new_ratios = ratios_of(before), ratios_of(after)
    lines = ["| measure | unit | before: median (min–max) | after: median (min–max) | after / before |",
             "|---|---|---|---|---|"]
    keys = [*old_rows, *[k for k in new_rows if k not in old_rows]]
    ratio_keys = [*old_ratios, *[k for k in new_ratios if k not in old_ratios]]
    for section in dict.fromkeys(k[0] for k in [*keys, *ratio_keys]):
        lines.append(f"| **{section}** | | | | |")
        for key in (k for k in keys if k[0] == section):
            old, new = old_rows.get(key), new_rows.get(key)
            unit = (old or new or {}).get("unit", "")
            change = f"{new['median'] / old['median']:.2f}×" if old and new and old["median"] else ""
            lines.append(f"| {key[1]} | {unit} | {_cell(old)} | {_cell(new)} | {change} |")
        for key in (k for k in ratio_keys if k[0] == section):
            lines.append(f"| {key[1]} | ratio | {_ratio_cell(old_ratios.get(key))} | {_ratio_cell(new_ratios.get(key))} | |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path, nargs="?")
    args = parser.parse_args()
    print("\n".join(table(_load(args.before) or {}, _load(args.after))))


if __name__ == "__main__":
    main()
