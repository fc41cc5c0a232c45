"""The world `tenge-ledger demo` simulates: a modest three-pilot year with a few misuse schemes.

The same every time (seed `DEMO_SEED`): about `DEMO_TRANSACTIONS` money-moving records over the
three pilots (≈ 55 projects, ≈ 3 500 lines), clean except for the schemes of `DEMO_SCHEMES`, each
forced onto the first project of its pilot that has a place for it. The tour (`ledger.demo`) traces
the color of `TRACED`, a road allocation part of which a shell company passes straight on.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from simulations.evaluate import score
from simulations.generator import write
from simulations.runs import project_for_scheme
from simulations.world import SimulationConfig

DEMO_SEED = 2025
DEMO_TRANSACTIONS = 2_400
PILOTS = ("ROAD", "AGRO", "LOCAL")
TRACED = "F03-pass-through-shell"
DEMO_SCHEMES = (
    ("ROAD", TRACED), ("ROAD", "R03-asphalt-overbilling"),
    ("AGRO", "A01-same-vin-twice"), ("AGRO", "F07-cash-withdrawal"),
    ("LOCAL", "P03-official-owns-supplier"), ("LOCAL", "F09-duplicate-invoice"), ("LOCAL", "L04-idle-allocation"),
)


def demo_config() -> SimulationConfig:
    """The demo's configuration: each scheme on its own project."""
    forced: list[tuple[str, int, str]] = []
    for pilot, scheme in DEMO_SCHEMES:
        taken = {index for p, index, _ in forced if p == pilot}
        index = project_for_scheme(pilot, scheme, seed=DEMO_SEED, transactions=DEMO_TRANSACTIONS, pilots=PILOTS,
                                   exclude=taken)
        assert index is not None, f"no project of the demo world takes {scheme}"
        forced.append((pilot, index, scheme))
    return SimulationConfig(pilots=PILOTS, seed=DEMO_SEED, transactions=DEMO_TRANSACTIONS, forced=tuple(forced))


def write_demo_world(folder: Path) -> tuple[Path, dict[str, Any]]:
    """Write the demo's interchange file into `folder`; its path and ground truth."""
    path = folder / "tenge-ledger-demo.jsonl"
    generator = write(demo_config(), path)
    return path, generator.truth_document()


def caught(truth: dict[str, Any], flags: list[dict[str, Any]]) -> tuple[list[bool], int]:
    """Whether each scheme instance was flagged by all its rules; and how many flags match none."""
    instances = truth["instances"]
    result = score("demo", truth["lines"], Counter(), instances, flags)
    missed = {miss["instance"] for miss in result.missed}
    return [instance["id"] not in missed for instance in instances], sum(s.false_positives for s in result.rules)

