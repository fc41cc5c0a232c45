"""Streaming generation of a simulated world: records in business-time order, and its ground truth.

Sources are merged with a heap keyed by (business time, creation-before-steps, source, sequence):
- the preamble: every party registered in January, then the reference prices (parties of misuse
  schemes are registered later, as steps of their project);
- per pilot, a *creation* entry for its next project, keyed by the project's start day (project
  starts never decrease with the index). Popping it plans the project (`PLANNERS`), maybe injects
  a misuse scheme, and pushes the project's first step and the next project's creation entry;
- per active project, its next step. Popping it writes the step (amounts resolved now, see
  `simulations.realize`) and pushes the following one.

A planned project is compiled and its steps spilled to a temporary file in blocks of
`BLOCK_STEPS`; it keeps in memory only its current block and what its color did so far (balances
per holder, contracts paid and accepted). Memory therefore follows the projects in progress, plus
the Benford counts per payer and the truth entries — never the records written or to come. Each
project draws from its own random streams (plan, payments, scheme), seeded by (seed, pilot, index),
so the output never depends on iteration order or on PYTHONHASHSEED; the heap's ties are broken by
numbers, never by hashing.
"""

from __future__ import annotations

import heapq
import itertools
import os
import pickle
import tempfile
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import orjson

from simulations.amounts import BenfordBook
from simulations.pilots import PLANNERS
from simulations.pilots.common import finalize, season_day
from simulations.plan import MONEY_TYPES, Plan, Truth, render
from simulations.realize import Realizer, Step, compile_steps, epoch
from simulations.prices import reference_records
from simulations.schemes import BY_NAME, for_pilot
from simulations.world import FISCAL_YEAR, GENERATOR, SimulationConfig, World, tz_of

REGISTRATION_DAYS = (date(FISCAL_YEAR, 1, 6), 14)  # first day, number of days
PRICES_DAY = date(FISCAL_YEAR, 1, 21)
EVALUATE_AS_OF = f"{FISCAL_YEAR + 1}-12-31T23:59:59+05:00"  # every window of the fiscal year has closed
_CREATE, _STEP = 0, 1
BLOCK_STEPS = 4  # compiled steps per spilled block: what an active project keeps in memory


class SchemeDoesNotApply(ValueError):
    """A forced scheme found no place in its project."""


@dataclass
class Summary:
    """What a generation wrote."""

    lines: int = 0
    money_moving: int = 0
    expected_blocked: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    projects: dict[str, int] = field(default_factory=dict)
    instances: list[dict[str, Any]] = field(default_factory=list)


class _Spill:
    """A temporary file holding the compiled steps of active projects, block by block."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="tenge-ledger-simulate-")
        self._fd = self._file.fileno()
        self._end = 0

    def put(self, blobs: list[bytes]) -> array:
        """Append blobs; their (offset, length) pairs."""
        places = array("q")
        for blob in blobs:
            places.extend((self._end, len(blob)))
            self._end += len(blob)
        data = b"".join(blobs)
        written = 0
        while written < len(data):
            written += os.pwrite(self._fd, data[written:], self._end - len(data) + written)
        return places

    def get(self, offset: int, length: int) -> bytes:
        blob = os.pread(self._fd, length, offset)
        assert len(blob) == length, "the spill file lost data"
        return blob

    def close(self) -> None:
        self._file.close()


class _Project:
    """A project being written: its compiled steps, spilled in blocks, and the realizer following its
    color. Only the current block is in memory (`BLOCK_STEPS` steps)."""

    def __init__(self, plan: Plan, book: BenfordBook, spill: _Spill) -> None:
        steps, referenced = compile_steps(plan)
        self.spill = spill
        self.places = spill.put([pickle.dumps(steps[i:i + BLOCK_STEPS], protocol=pickle.HIGHEST_PROTOCOL)
                                 for i in range(0, len(steps), BLOCK_STEPS)])
        self.block = 0
        self.current: list[Step] = []
        self.realizer = Realizer(plan, book, referenced)

    def next_step(self) -> Step | None:
        if not self.current:
            if 2 * self.block == len(self.places):
                return None
            offset, length = self.places[2 * self.block], self.places[2 * self.block + 1]
            self.current = pickle.loads(self.spill.get(offset, length))[::-1]
            self.block += 1
        return self.current.pop()

    def realize(self, step: Step) -> bytes | None:
        return self.realizer.realize(step)


class _Preamble:
    """The January records: registrations, then reference prices (all fixed)."""

    def __init__(self, steps: Iterator[dict[str, Any]]) -> None:
        self.steps = steps

    def next_step(self) -> Step | None:
        step = next(self.steps, None)
        if step is None:
            return None
        line = orjson.dumps(render(step, None))  # written at once, never held
        return Step(epoch(step["at"]), step["type"], step["id"], None, None, None, None, None, None, False, line)

    def realize(self, step: Step) -> bytes:
        return step.template


class Generator:
    """Generates one world; iterate `records()` once, then read `summary`."""

    def __init__(self, config: SimulationConfig) -> None:
        self.config = config
        self.world = World(config)
        self.book = BenfordBook()
        self.summary = Summary(projects=dict(self.world.projects))
        self._truths: list[Truth] = []
        self._wanted: set[str] = set()  # transaction ids the truth names, to check they were written
        self._written: set[str] = set()
        self._sequence = itertools.count()
        forced: dict[tuple[str, int], str] = {}
        for pilot, index, name in config.forced:
            if name not in BY_NAME:
                raise SchemeDoesNotApply(f"no scheme named {name!r}; schemes: {', '.join(BY_NAME)}")
            forced[pilot, index] = name
        self._forced = forced

    def lines(self) -> Iterator[bytes]:
        """The world's interchange lines (JSON, without newline), in business-time order."""
        spill = _Spill()
        try:
            yield from self._merge(spill)
        finally:
            spill.close()
        self._finish()

    def _merge(self, spill: _Spill) -> Iterator[bytes]:
        heap: list[tuple[Any, ...]] = []
        self._push(heap, _Preamble(self._preamble()), 0)
        for rank, pilot in enumerate(self.config.pilots):
            self._push_creation(heap, rank, pilot, 0)
        while heap:
            _, kind, source_id, _, payload = heapq.heappop(heap)
            if kind == _CREATE:
                rank, pilot, index = payload
                self._push(heap, _Project(self._plan(pilot, index), self.book, spill), 1 + rank * 10_000_000 + index)
                self._push_creation(heap, rank, pilot, index + 1)
                continue
            source, step = payload
            line = source.realize(step)
            self._push(heap, source, source_id)
            if line is not None:
                self._count(step)
                yield line

    def records(self) -> Iterator[dict[str, Any]]:
        """The world's records as objects (for small worlds and tests)."""
        for line in self.lines():
            yield orjson.loads(line)

    # --- the heap ---------------------------------------------------------------------------

    def _push(self, heap: list[tuple[Any, ...]], source: Any, source_id: int) -> None:
        step = source.next_step()
        if step is not None:
            heapq.heappush(heap, (step.at, _STEP, source_id, next(self._sequence), (source, step)))

    def _push_creation(self, heap: list[tuple[Any, ...]], rank: int, pilot: str, index: int) -> None:
        count = self.world.projects[pilot]
        if index < count:
            start = epoch(datetime.combine(season_day(pilot, index, count), time(0), tzinfo=timezone.utc))
            heapq.heappush(heap, (start, _CREATE, rank, next(self._sequence), (rank, pilot, index)))

    # --- projects -----------------------------------------------------------------------------

    def _plan(self, pilot: str, index: int) -> Plan:
        plan = PLANNERS[pilot](self.world, index)
        truth = self._inject(plan)
        if truth is not None:
            finalize(plan)
            self._truths.append(truth)
            self._wanted.update(truth.transactions)
        first = min(step["at"] for step in plan.steps)
        assert first >= datetime.combine(season_day(pilot, index, self.world.projects[pilot]), time(0), tzinfo=timezone.utc)
        return plan

    def _inject(self, plan: Plan) -> Truth | None:
        """A scheme for this project: forced, or with probability `misuse_rate` (drawn per project)."""
        key = (plan.pilot, plan.index)
        if key in self._forced:
            scheme = BY_NAME[self._forced[key]]
            if plan.pilot not in scheme.pilots:
                raise SchemeDoesNotApply(f"scheme {scheme.name} is not for the {plan.pilot} pilot")
            truth = scheme.inject(plan, self.world.rng("scheme", plan.pilot, plan.index, scheme.name))
            if truth is None:
                raise SchemeDoesNotApply(f"scheme {scheme.name} found no place in project {plan.code}")
            return truth
        rate = self.config.misuse_rate
        rng = self.world.rng("misuse", plan.pilot, plan.index)
        if rate == 0 or rng.randrange(rate.denominator) >= rate.numerator:
            return None
        candidates = for_pilot(plan.pilot, self.config.schemes)
        rng.shuffle(candidates)
        for scheme in candidates:
            truth = scheme.inject(plan, self.world.rng("scheme", plan.pilot, plan.index, scheme.name))
            if truth is not None:
                return truth
        return None

    # --- the preamble -------------------------------------------------------------------------

    def _preamble(self) -> Iterator[dict[str, Any]]:
        first, days = REGISTRATION_DAYS
        total = sum(self.world.pools.values())
        step_seconds = max(1, days * 86_400 // total)
        start = datetime.combine(first, time(3), tzinfo=timezone.utc)
        for n, party in enumerate(self.world.parties()):
            at = (start + timedelta(seconds=n * step_seconds)).astimezone(tz_of(party.region))
            yield {"id": f"P-{party.party}", "type": "register_party", "at": at, **party.record_fields()}
        prices_at = datetime.combine(PRICES_DAY, time(4), tzinfo=timezone.utc)
        for n, (code, unit, price, region, description) in enumerate(reference_records(self.world)):
            suffix = "" if region is None else f"-R{_region_index(region):02d}"
            at = (prices_at + timedelta(seconds=60 * n)).astimezone(tz_of(0))
            yield {"id": f"RP-{code}{suffix}", "type": "set_reference_price", "at": at, "code": code, "unit": unit,
                   "price": price, "region": region, "description": description}

    # --- counting and truth -------------------------------------------------------------------

    def _count(self, step: Step) -> None:
        summary = self.summary
        summary.lines += 1
        summary.by_type[step.type] += 1
        if step.type in MONEY_TYPES:
            summary.money_moving += 1
        if step.id in self._wanted:
            self._written.add(step.id)

    def _finish(self) -> None:
        instances = []
        for n, truth in enumerate(self._truths, 1):
            truth.transactions = [tx for tx in truth.transactions if tx in self._written]
            instances.append(truth.document(f"M{n:05d}"))
        self.summary.instances = instances
        self.summary.expected_blocked = sum(truth.blocked for truth in self._truths)

    def truth_document(self) -> dict[str, Any]:
        """The ground truth (`FILE.truth.json`): the configuration, what was written, each scheme instance."""
        config, summary = self.config, self.summary
        return {
            "generator": GENERATOR, "seed": config.seed, "pilots": list(config.pilots),
            "transactions": config.transactions, "misuse_rate": decimal_text(config.misuse_rate),
            "schemes": list(config.schemes) if config.schemes is not None else None,
            "forced": [list(f) for f in config.forced], "projects": summary.projects,
            "lines": summary.lines, "money_moving": summary.money_moving, "expected_blocked": summary.expected_blocked,
            "evaluate_as_of": EVALUATE_AS_OF, "instances": summary.instances,
        }


def _region_index(name: str) -> int:
    from simulations.identity import REGIONS

    return next(i for i, (region, _, _) in enumerate(REGIONS) if region == name)


def decimal_text(value: Any) -> str:
    """A Fraction with a terminating decimal expansion as a plain decimal string ("0.05")."""
    text = format((Decimal(value.numerator) / Decimal(value.denominator)).normalize(), "f")
    return text


def write(config: SimulationConfig, out: Any, on_progress: Any = None) -> Generator:
    """Write the world's file and `.truth.json` next to it (written to `.partial`, then renamed);
    `on_progress(money_moving_records)` every 2 000 lines."""
    from pathlib import Path

    out = Path(out)
    generator = Generator(config)
    temporary = out.with_name(out.name + ".partial")
    try:
        with temporary.open("wb", buffering=1 << 20) as stream:
            for n, line in enumerate(generator.lines(), 1):
                stream.write(line + b"\n")
                if on_progress is not None and n % 2_000 == 0:
                    on_progress(generator.summary.money_moving)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, out)
    truth = out.with_name(out.name + ".truth.json")
    truth.write_bytes(orjson.dumps(generator.truth_document(), option=orjson.OPT_INDENT_2) + b"\n")
    if on_progress is not None:
        on_progress(generator.summary.money_moving)
    return generator
