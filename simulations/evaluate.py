"""Evaluation of the anomaly rules against a simulated world's ground truth (`simulate --evaluate`).

The world's file is imported into a fresh temporary SQLite store, the projections catch up, and the
flags are read as of `evaluate_as_of` from the truth file (a business time after every window of
the fiscal year has closed: idle funds, ghost projects, year-end rush, pass-through). Then, per rule:

- expected: scheme instances whose `rules` name it;
- raised: flags of that rule;
- true positives (TP): flags that share at least one transaction, party or contract id with an
  instance expecting the rule; false positives (FP): the other flags of the rule;
- recall: instances detected (matched by at least one flag) / expected (None when none expected);
- precision: TP / raised (None when nothing was raised).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import orjson

from ledger.app import Ledger
from ledger.importer import ImportSummary, Source, apply, validate
from projections.rules.registry import CATALOG_ORDER

ProgressCallback = Callable[[int, int], None]


@dataclass
class RuleScore:
    rule: str
    expected: int = 0
    detected: int = 0
    raised: int = 0
    true_positives: int = 0

    @property
    def false_positives(self) -> int:
        return self.raised - self.true_positives

    @property
    def recall(self) -> Fraction | None:
        return Fraction(self.detected, self.expected) if self.expected else None

    @property
    def precision(self) -> Fraction | None:
        return Fraction(self.true_positives, self.raised) if self.raised else None

    def document(self) -> dict[str, Any]:
        return {"rule": self.rule, "expected": self.expected, "raised": self.raised, "true_positives": self.true_positives,
                "false_positives": self.false_positives, "detected": self.detected,
                "recall": _ratio(self.recall), "precision": _ratio(self.precision)}


@dataclass
class Evaluation:
    file: str
    lines: int
    counts: Counter[str]
    rules: list[RuleScore]
    flags: list[dict[str, Any]] = field(repr=False, default_factory=list)
    missed: list[dict[str, Any]] = field(default_factory=list)  # (instance, rule) not detected
    as_of: str | None = None  # the business time the flags were read as of

    def document(self) -> dict[str, Any]:
        return {"file": self.file, "lines": self.lines, "as_of": self.as_of, "applied": self.counts["applied"],
                "blocked": self.counts["blocked"], "duplicate": self.counts["duplicate"],
                "conflict": self.counts["conflict"], "flags": len(self.flags),
                "rules": [score.document() for score in self.rules], "missed": self.missed}


def truth_path(path: Path) -> Path:
    return path.with_name(path.name + ".truth.json")


def evaluate(path: Path, *, on_batch: ProgressCallback | None = None, batch_size: int = 1_000) -> Evaluation:
    """Import `path` into a fresh store and score the flags against `path`.truth.json."""
    truth = orjson.loads(truth_path(path).read_bytes())
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tenge-ledger-evaluate-")))
        ledger = Ledger(f"sqlite:///{folder / 'store.sqlite'}", batch_size=batch_size)
        stack.callback(ledger.close)
        summary, total = import_file(ledger, path, on_batch)
        read = ledger.read_side()
        now = read.catch_up()
        as_of = truth["evaluate_as_of"]
        flags = read.flags(read.resolve_as_of(as_of, now), now, as_of)
    return replace(score(str(path), total, summary.counts, truth["instances"], flags), as_of=as_of)


def import_file(ledger: Ledger, path: Path, on_batch: ProgressCallback | None = None) -> tuple[ImportSummary, int]:
    source = Source(str(path), path)
    summary, total, kept = validate([source])
    if summary.error_count:
        raise ValueError(f"{path} is not a valid interchange file: " + "; ".join(summary.errors[:5]))
    apply(ledger, [source], total, kept, summary, on_batch=on_batch)
    return summary, total


def score(file: str, lines: int, counts: Counter[str], instances: list[dict[str, Any]],
          flags: list[dict[str, Any]]) -> Evaluation:
    """Match flags to scheme instances (see the module docstring) and score every rule."""
    scores = {rule: RuleScore(rule) for rule in CATALOG_ORDER}
    by_id: dict[tuple[str, str], list[int]] = {}  # (rule, id) -> instances expecting the rule and naming the id
    detected: set[tuple[int, str]] = set()
    for n, instance in enumerate(instances):
        for rule in instance["rules"]:
            scores.setdefault(rule, RuleScore(rule)).expected += 1
            for named_id in {*instance["transactions"], *instance["parties"], *instance["contracts"]}:
                by_id.setdefault((rule, named_id), []).append(n)
    for flag in flags:
        rule = flag["rule"]
        scores.setdefault(rule, RuleScore(rule)).raised += 1
        named = {*flag["transactions"], *flag["parties"], *flag["contracts"]}
        matches = sorted({n for named_id in named for n in by_id.get((rule, named_id), ())})
        if matches:
            scores[rule].true_positives += 1
            detected.update((n, rule) for n in matches)
    missed = []
    for n, instance in enumerate(instances):
        for rule in instance["rules"]:
            if (n, rule) in detected:
                scores[rule].detected += 1
            else:
                missed.append({"instance": instance["id"], "scheme": instance["scheme"], "rule": rule,
                               "project": instance["project"]})
    return Evaluation(file, lines, counts, list(scores.values()), flags, missed)


def _ratio(value: Fraction | None) -> str | None:
    """A ratio as a decimal string with four places ("0.9500"), None stays None."""
    if value is None:
        return None
    scaled = value * 10_000
    rounded = (scaled.numerator * 2 + scaled.denominator) // (2 * scaled.denominator)  # half up
    return f"{rounded // 10_000}.{rounded % 10_000:04d}"
