"""Misuse schemes: one small function each, registered in `SCHEMES` (see `base` for how to write one).

Each scheme instance is injected into one project; its ground truth (rule codes expected, ids
involved) goes to `FILE.truth.json`. Names start with the rule code they target.
"""

from __future__ import annotations

from simulations.schemes import assets, blocked, flows, parties, passing, payments, prices, projects
from simulations.schemes.base import Scheme

SCHEMES: tuple[Scheme, ...] = (
    *blocked.SCHEMES, *flows.SCHEMES, *prices.SCHEMES, *assets.SCHEMES, *projects.SCHEMES, *passing.SCHEMES,
    *payments.SCHEMES, *parties.SCHEMES,
)
BY_NAME: dict[str, Scheme] = {scheme.name: scheme for scheme in SCHEMES}
assert len(BY_NAME) == len(SCHEMES), "scheme names are unique"


def for_pilot(pilot: str, names: tuple[str, ...] | None = None) -> list[Scheme]:
    """The schemes that apply to `pilot` (only those named, when `names` is given), in registry order."""
    return [s for s in SCHEMES if pilot in s.pilots and (names is None or s.name in names)]
