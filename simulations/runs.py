"""Simulated worlds in memory: generate, run through a ledger, read the flags, score them.

    from simulations.runs import SimulatedWorld, project_for_scheme
    from simulations.world import SimulationConfig

    world = SimulatedWorld(SimulationConfig(pilots=("ROAD", "LOCAL"), seed=3, transactions=800))
    assert world.flags() == []                       # a clean world raises nothing

    index = project_for_scheme("ROAD", "R03-asphalt-overbilling", seed=3, transactions=800)
    world = world.with_scheme("ROAD", index, "R03-asphalt-overbilling")
    result = world.evaluate()                        # per rule: expected, raised, TP, FP, recall, precision

Everything runs on a `memory://` ledger; `write(path)` gives the files `simulate --out` writes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import Any

import orjson

from domain.commands import Command
from ledger.app import Ledger
from ledger.interchange import parse_record
from simulations.evaluate import Evaluation, score, truth_path
from simulations.generator import Generator
from simulations.pilots import PLANNERS
from simulations.schemes import BY_NAME
from simulations.world import SimulationConfig, World


class SimulatedWorld:
    """One configuration's records and ground truth, generated on first use."""

    def __init__(self, config: SimulationConfig) -> None:
        self.config = config

    def __repr__(self) -> str:
        return f"SimulatedWorld({self.config!r})"

    @cached_property
    def _generated(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        generator = Generator(self.config)
        records = list(generator.records())
        return records, generator.truth_document()

    @property
    def records(self) -> list[dict[str, Any]]:
        return self._generated[0]

    @property
    def truth(self) -> dict[str, Any]:
        return self._generated[1]

    def commands(self) -> list[Command]:
        return [parse_record(record) for record in self.records]

    def with_scheme(self, pilot: str, index: int, scheme: str) -> SimulatedWorld:
        """The same world with `scheme` forced onto project `index` of `pilot`."""
        return SimulatedWorld(replace(self.config, forced=(*self.config.forced, (pilot, index, scheme))))

    @cached_property
    def ledger(self) -> Ledger:
        """A memory ledger with every record applied (blocked attempts recorded as such)."""
        ledger = Ledger("memory://")
        self.outcomes = ledger.execute(self.commands())
        return ledger

    def flags(self) -> list[dict[str, Any]]:
        """Every flag, as of the truth's `evaluate_as_of` (after all the year's windows closed)."""
        read = self.ledger.read_side()
        now = read.catch_up()
        as_of = self.truth["evaluate_as_of"]
        return read.flags(read.resolve_as_of(as_of, now), now, as_of)

    def evaluate(self) -> Evaluation:
        """Score the flags against the truth (see `simulations.evaluate`)."""
        flags = self.flags()
        counts = Counter(outcome.status for outcome in self.outcomes)
        return replace(score("<memory>", len(self.records), counts, self.truth["instances"], flags),
                       as_of=self.truth["evaluate_as_of"])

    def write(self, path: Path) -> Path:
        """Write the interchange file and its `.truth.json`, as `simulate --out` does."""
        with path.open("wb") as stream:
            for record in self.records:
                stream.write(orjson.dumps(record) + b"\n")  # the same bytes as the generator's lines
        truth_path(path).write_bytes(orjson.dumps(self.truth, option=orjson.OPT_INDENT_2) + b"\n")
        return path


def project_for_scheme(pilot: str, scheme: str, *, seed: int = 0, transactions: int = 500,
                       pilots: tuple[str, ...] | None = None, exclude: Collection[int] = ()) -> int | None:
    """The first project of `pilot` (in a world of these parameters, other than those in `exclude`)
    that `scheme` can be injected into."""
    found = BY_NAME[scheme]
    if pilot not in found.pilots:
        return None
    world = World(SimulationConfig(pilots=pilots or (pilot,), seed=seed, transactions=transactions))
    for index in range(world.projects[pilot]):
        if index in exclude:
            continue
        plan = PLANNERS[pilot](world, index)
        if found.inject(plan, world.rng("scheme", pilot, index, scheme)) is not None:
            return index
    return None
