"""The pilots' planners: `PLANNERS[pilot](world, index)` plans project `index` of that pilot."""

from __future__ import annotations

from collections.abc import Callable

from simulations.pilots.agro import plan_agro
from simulations.pilots.local import plan_local
from simulations.pilots.road import plan_road
from simulations.plan import Plan
from simulations.world import World

PLANNERS: dict[str, Callable[[World, int], Plan]] = {"ROAD": plan_road, "AGRO": plan_agro, "LOCAL": plan_local}
