"""`tenge-ledger simulate` (SPEC §8): synthetic worlds with injected misuse, and their evaluation.

    tenge-ledger simulate road agro local --seed 7 --transactions 20000 --misuse-rate 0.05 --out world.jsonl
    tenge-ledger simulate --evaluate world.jsonl [--format table|json]
    tenge-ledger simulate --list-schemes

The first writes `world.jsonl` and `world.jsonl.truth.json` (the same seed gives the same bytes);
the second imports the file into a fresh temporary SQLite store and prints, per rule, the scheme
instances expected, the flags raised, true and false positives, recall and precision — the flags
read as of the truth's `evaluate_as_of` (the end of the following year), so that windows closing
after the year's last record (S01's share, L03, F10's 90 days, L01) are judged too.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from contextlib import ExitStack
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import click

from ledger.render import text as render
from ledger.render.progress import progress_bars
from ledger.cli.base import EXIT_OK, Context, UsageProblem, format_choice

_RATE = re.compile(r"[0-9]+(?:\.[0-9]+)?")


@click.command()
@click.argument("pilots", nargs=-1, metavar="[PILOT]...")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True, help="the same seed gives the same bytes")
@click.option("--transactions", type=click.IntRange(1, 10_000_000), default=10_000, show_default=True,
              help="about this many money-moving records (transfer, reserve, release, void, spend, return)")
@click.option("--misuse-rate", default="0", show_default=True, help="share of projects given a misuse scheme, 0..1")
@click.option("--scheme", "schemes", multiple=True, metavar="NAME", help="draw only these schemes (repeatable; see --list-schemes)")
@click.option("--out", type=click.Path(dir_okay=False), help="the interchange file to write (and OUT.truth.json)")
@click.option("--evaluate", "evaluate_path", type=click.Path(dir_okay=False), help="score the rules on a simulated FILE")
@click.option("--list-schemes", is_flag=True, help="list the misuse schemes and exit")
@click.option("--progress", type=click.Choice(["auto", "bar", "none"]), default="auto", show_default=True,
              help="auto: a progress bar on a terminal")
@format_choice("table", "json")
@click.pass_obj
def simulate(obj: Context, pilots: tuple[str, ...], seed: int, transactions: int, misuse_rate: str,
             schemes: tuple[str, ...], out: str | None, evaluate_path: str | None, list_schemes: bool,
             progress: str, fmt: str | None) -> int:
    """Write a synthetic world of PILOTs (road, agro, local) with ground truth, or evaluate one."""
    fmt = fmt or render.default_format()
    if list_schemes:
        return _list_schemes(fmt)
    if evaluate_path is not None:
        if pilots or out:
            raise UsageProblem("--evaluate FILE takes no pilots and no --out")
        return _evaluate(Path(evaluate_path), fmt, progress)
    if not pilots or not out:
        raise UsageProblem("give the pilots and --out FILE (or --evaluate FILE, or --list-schemes)")
    return _generate(_config(pilots, seed, transactions, misuse_rate, schemes), Path(out), fmt, progress)


def _config(pilots: tuple[str, ...], seed: int, transactions: int, misuse_rate: str, schemes: tuple[str, ...]) -> Any:
    from simulations.schemes import BY_NAME
    from simulations.world import SimulationConfig

    names = tuple(p.upper() for p in pilots)
    unknown = [p for p in names if p not in ("ROAD", "AGRO", "LOCAL")]
    if unknown or len(set(names)) != len(names):
        raise UsageProblem(f"pilots must be distinct ones of road, agro, local; got {' '.join(pilots)}")
    if not _RATE.fullmatch(misuse_rate) or Decimal(misuse_rate) > 1:
        raise UsageProblem(f"--misuse-rate must be a decimal between 0 and 1, got {misuse_rate!r}")
    wrong = [s for s in schemes if s not in BY_NAME]
    if wrong:
        raise UsageProblem(f"no scheme {', '.join(wrong)}; see --list-schemes")
    return SimulationConfig(pilots=names, seed=seed, transactions=transactions,
                            misuse_rate=Fraction(Decimal(misuse_rate)), schemes=tuple(schemes) or None)


def _generate(config: Any, out: Path, fmt: str, progress: str) -> int:
    from simulations.evaluate import truth_path
    from simulations.generator import write

    truth_file = truth_path(out)
    if not out.parent.is_dir():
        raise UsageProblem(f"directory {out.parent} does not exist")
    if out.exists() or truth_file.exists():
        click.echo(f"overwriting {out} and {truth_file.name}", err=True)
    started = time.perf_counter()
    with ExitStack() as stack:
        generator = write(config, out, _bar(stack, progress, "simulating", config.transactions))
    _print_generation(generator.summary, out, truth_file, time.perf_counter() - started, fmt)
    return EXIT_OK


def _print_generation(summary: Any, out: Path, truth_file: Path, seconds: float, fmt: str) -> None:
    schemes = Counter(instance["scheme"] for instance in summary.instances)
    document = {"file": str(out), "truth": str(truth_file), "lines": summary.lines, "money_moving": summary.money_moving,
                "expected_blocked": summary.expected_blocked, "projects": summary.projects,
                "schemes": dict(sorted(schemes.items())), "seconds": round(seconds, 3),
                "lines_per_second": int(summary.lines / seconds) if seconds else None}
    if fmt == "json":
        render.dump_json(document)
        return
    rows = [["lines", summary.lines], ["money-moving records", summary.money_moving],
            ["projects", ", ".join(f"{p} {n}" for p, n in summary.projects.items())],
            ["scheme instances", sum(schemes.values())], ["attempts to be blocked", summary.expected_blocked],
            ["lines per second", document["lines_per_second"]]]
    rows += [[f"  {name}", count] for name, count in sorted(schemes.items())]
    render.print_table(f"{out} (+ {truth_file.name})", ["", "value"], rows, right=["value"])


def _evaluate(path: Path, fmt: str, progress: str) -> int:
    from simulations.evaluate import evaluate, truth_path

    if not path.is_file():
        raise UsageProblem(f"{path}: no such file")
    if not truth_path(path).is_file():
        raise UsageProblem(f"{truth_path(path)}: no such file (the ground truth written with {path.name})")
    with ExitStack() as stack:
        lines = sum(1 for _ in path.open("rb"))
        tick = _bar(stack, progress, "importing", lines)
        result = evaluate(path, on_batch=(lambda done, _total: tick(done)) if tick else None)
    if fmt == "json":
        render.dump_json(result.document())
        return EXIT_OK
    document = result.document()
    rows = [[r["rule"], r["expected"], r["raised"], r["true_positives"], r["false_positives"],
             r["recall"] or "—", r["precision"] or "—"] for r in document["rules"]]
    render.print_table(f"rules on {path.name}, flags as of {document['as_of']}",
                       ["rule", "expected", "raised", "TP", "FP", "recall", "precision"], rows,
                       right=["expected", "raised", "TP", "FP", "recall", "precision"])
    click.echo(f"{document['lines']} lines: {document['applied']} applied, {document['blocked']} blocked; "
               f"{document['flags']} flags; {sum(r['expected'] for r in document['rules'])} expected detections, "
               f"{len(document['missed'])} missed")
    for miss in document["missed"]:
        click.echo(f"missed: {miss['rule']} {miss['scheme']} in {miss['project']} ({miss['instance']})", err=True)
    return EXIT_OK


def _list_schemes(fmt: str) -> int:
    from simulations.schemes import SCHEMES

    rows = [{"name": s.name, "rules": list(s.rules), "pilots": sorted(s.pilots), "summary": s.summary} for s in SCHEMES]
    if fmt == "json":
        render.dump_json(rows)
    else:
        render.print_table("misuse schemes", ["name", "rules", "pilots", "what"],
                           ([r["name"], " ".join(r["rules"]), " ".join(r["pilots"]), r["summary"]] for r in rows))
    return EXIT_OK


def _bar(stack: ExitStack, mode: str, what: str, total: int) -> Any:
    """A progress callback (completed count) on stderr, or None."""
    unit = "transactions" if what == "simulating" else "lines"
    return stack.enter_context(progress_bars(mode, unit=unit)).task(what, total)


SIMULATE_COMMANDS = [simulate]
