"""Generation streams: memory follows the projects in progress, not the records written.

tracemalloc's peak while writing a world stays far below what holding the world's records would
take; every active project keeps at most one small block of its steps in memory."""

from __future__ import annotations

import tracemalloc

from simulations.generator import BLOCK_STEPS, Generator, _Project
from simulations.world import SimulationConfig

STREAMED = SimulationConfig(pilots=("ROAD", "AGRO", "LOCAL"), seed=9, transactions=12_000)
HELD = SimulationConfig(pilots=("ROAD", "AGRO", "LOCAL"), seed=9, transactions=3_000)


def _streaming_peak(config: SimulationConfig) -> tuple[int, int]:
    tracemalloc.start()
    try:
        generator = Generator(config)
        lines = sum(1 for _ in generator.lines())
        return tracemalloc.get_traced_memory()[1], lines
    finally:
        tracemalloc.stop()


def _held_bytes_per_line(config: SimulationConfig) -> float:
    """What holding every record as the objects a reader gets costs, per line."""
    tracemalloc.start()
    try:
        records = list(Generator(config).records())
        held = tracemalloc.get_traced_memory()[0]
        return held / len(records)
    finally:
        tracemalloc.stop()


def test_peak_memory_is_far_below_holding_the_records() -> None:
    peak, lines = _streaming_peak(STREAMED)
    holding = _held_bytes_per_line(HELD) * lines
    assert lines > 15_000
    assert peak < holding / 4, (peak, holding)


def test_an_active_project_holds_one_small_block() -> None:
    generator = Generator(SimulationConfig(pilots=("ROAD",), seed=2, transactions=600))
    sizes = []
    original = _Project.next_step

    def watched(self: _Project):  # type: ignore[no-untyped-def]
        step = original(self)
        sizes.append(len(self.current))
        return step

    _Project.next_step = watched  # type: ignore[method-assign]
    try:
        assert sum(1 for _ in generator.lines()) > 500
    finally:
        _Project.next_step = original  # type: ignore[method-assign]
    assert max(sizes) < BLOCK_STEPS
