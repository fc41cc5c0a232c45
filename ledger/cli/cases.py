"""Case work on anomaly flags: `dispose FLAG_ID` records an auditor's disposition, `precision`
compares the rules' precision on real dispositions with simulated figures (`domain.cases`)."""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click
import orjson

from domain.cases import DISPOSITIONS, parse_flag_id
from domain.errors import InvalidValue
from ledger.app import BLOCKED, CONFLICT
from ledger.cli.base import EXIT_BLOCKED, EXIT_OK, Context, UsageProblem, as_of_option, checked, format_option
from ledger.cli.read import _position, _read_side, wall_clock
from ledger.interchange import parse_business_time
from ledger.read import precision_by_rule
from ledger.render import text as render


@click.command()
@click.argument("flag_id", metavar="FLAG_ID")
@click.option("--disposition", required=True, type=click.Choice(DISPOSITIONS),
              help="confirmed (misuse), explained (allowed, for the reason given) or false_positive (the rule was wrong)")
@click.option("--comment", required=True, help="what was found (required; no control characters, at most 2000 characters)")
@click.option("--id", "command_id", help="the transaction id; generated and printed when absent")
@click.option("--at", help="business time, RFC 3339 with offset; default now")
@format_option
@click.pass_obj
def dispose(obj: Context, flag_id: str, disposition: str, comment: str, command_id: str | None, at: str | None,
            fmt: str | None) -> int:
    """Record an auditor's disposition of flag FLAG_ID (its `id` in `flags`), with a comment.

    Needs the auditor role; the latest disposition is the flag's status (`flags --status`)."""
    flag_id = checked(parse_flag_id, flag_id, "FLAG_ID") or ""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    command_id = command_id or f"cli-{now:%Y%m%d%H%M%S}-{secrets.token_hex(4)}"
    try:
        moment = parse_business_time(at) if at else now
    except InvalidValue as problem:
        raise UsageProblem(f"--at: {problem}") from problem
    try:
        outcome = obj.ledger().dispose_flag(flag_id, disposition, comment, command_id, moment)
    except InvalidValue as problem:
        raise UsageProblem(str(problem)) from problem
    document = {"id": outcome.command_id, "type": "dispose_flag", "flag": flag_id, "disposition": disposition,
                "status": outcome.status, "reason": outcome.reason, "detail": outcome.detail}
    fmt = fmt or render.default_format()
    if fmt == "table":
        line = f"{outcome.status} dispose_flag {outcome.command_id}: {flag_id} {disposition}"
        click.echo(line + (f": {outcome.reason}: {outcome.detail}" if outcome.reason else ""))
    elif fmt == "jsonl":
        render.dump_jsonl([document])
    else:
        render.dump_json(document)
    return EXIT_BLOCKED if outcome.status in (BLOCKED, CONFLICT) else EXIT_OK


def load_evaluation(path: str | None) -> dict[str, str | None]:
    """Per rule, the simulated precision of an evaluation (`simulate --evaluate --format json`)."""
    if path is None:
        return {}
    try:
        document = orjson.loads(Path(path).read_bytes())
        return {entry["rule"]: entry["precision"] for entry in document["rules"]}
    except OSError as problem:
        raise UsageProblem(f"--evaluation: cannot read {path}: {problem.strerror or problem}") from problem
    except (orjson.JSONDecodeError, KeyError, TypeError) as problem:
        raise UsageProblem(f"--evaluation: {path} is not the JSON of `simulate --evaluate --format json`") from problem


@click.command()
@click.option("--evaluation", "evaluation_path", type=click.Path(dir_okay=False),
              help="the JSON of `simulate --evaluate --format json`: its per-rule precision is shown beside")
@as_of_option
@format_option
@click.pass_obj
def precision(obj: Context, evaluation_path: str | None, as_of: str | None, fmt: str | None) -> int:
    """Per rule: flags raised, open and disposed of, and precision on real dispositions
    (confirmed / (confirmed + false_positive)), beside the simulated precision of an evaluation."""
    simulated = load_evaluation(evaluation_path)
    read, now = _read_side(obj)
    position = _position(read, as_of, now)
    wall_time = wall_clock() if as_of is None else None
    documents = read.with_status(read.flags(position, now, as_of, wall_time), position, now, as_of)
    rules = precision_by_rule(documents)
    entries: list[dict[str, Any]] = [
        {**entry, "simulated_precision": simulated.get(code)} for code, entry in rules.items()
    ] + [{"rule": code, "raised": 0, "open": 0, **{name: 0 for name in DISPOSITIONS}, "precision": None,
          "simulated_precision": value} for code, value in sorted(simulated.items()) if code not in rules and value]
    entries.sort(key=lambda entry: entry["rule"])
    fmt = fmt or render.default_format()
    if fmt == "json":
        render.dump_json({"as_of": as_of or f"@{position}", "position": position, "rules": entries})
    elif fmt == "jsonl":
        render.dump_jsonl(entries)
    else:
        columns = ["rule", "raised", "open", *DISPOSITIONS, "precision", "simulated"]
        rows = ([e["rule"], e["raised"], e["open"], *(e[name] for name in DISPOSITIONS), e["precision"] or "—",
                 e["simulated_precision"] or "—"] for e in entries)
        render.print_table(f"Precision on real dispositions as of @{position}", columns, rows,
                           right=columns[1:])
    return EXIT_OK


CASE_COMMANDS: list[Any] = [dispose, precision]
