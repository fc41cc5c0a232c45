"""`tenge-ledger rules`: the anomaly-rule catalog with the thresholds in force (RULES.md, `--rules`)."""

from __future__ import annotations

from typing import Any

import click

from ledger.cli.base import EXIT_OK, Context, UsageProblem, format_choice
from ledger.render import text as render
from projections.rules.catalog import catalog_entries, pilots_text, thresholds_text
from projections.rules.config import RulesConfigError, load_config
from projections.rules.registry import REGISTRY


@click.command()
@format_choice("table", "json")
@click.pass_obj
def rules(obj: Context, fmt: str | None) -> int:
    """The anomaly rules: code, title, severity, pilots, definition and thresholds in force per pilot."""
    try:
        config = load_config(obj.rules_path)
    except RulesConfigError as problem:
        raise UsageProblem(str(problem)) from problem
    entries = catalog_entries(config)
    fmt = fmt or render.default_format()
    if fmt == "json":
        render.dump_json(entries)
    else:
        rows = ([entry["code"], entry["title"], entry["severity"], pilots_text(REGISTRY.rule(entry["code"])),
                 entry["definition"], thresholds_text(entry["thresholds"])] for entry in entries)
        source = obj.rules_path or "RULES.md defaults"
        render.print_table(f"{len(entries)} rules, thresholds from {source}",
                           ["code", "title", "severity", "pilots", "definition", "thresholds in force"], rows)
    return EXIT_OK


RULES_COMMANDS: list[Any] = [rules]
