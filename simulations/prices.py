"""Reference prices and the machine catalog of simulated worlds (the `set_reference_price` records).

Clean contracts price every referenced item within ±10 % of its reference (R01 flags from 130 %,
R04 from 110 %), roads cost well under the `ROAD-KM` reference per km (R02 flags from 150 %), and
machine prices stay out of AGRO's F01 band just under 15 728 000 KZT.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulations.amounts import KZT
from simulations.identity import REGIONS
from simulations.world import World


@dataclass(frozen=True)
class Reference:
    code: str
    unit: str
    price: int  # tiyn
    description: str


ROAD_REFERENCES = (
    Reference("ROAD-KM", "km", 180_000_000 * KZT, "reconstruction of one km of a two-lane regional road"),
    Reference("EARTHWORKS", "m3", 9_800 * KZT, "excavation and embankment"),
    Reference("ROAD-SIGNS", "pcs", 186_000 * KZT, "road sign with post"),
    Reference("DRAINAGE", "m", 9_400 * KZT, "drainage ditch and culvert, per metre"),
    Reference("BITUMEN", "t", 286_000 * KZT, "road bitumen BND 70/100"),
)
ASPHALT_KZT = (38_000, 46_000)  # the regional ASPHALT references lie in this range
LOCAL_REFERENCES = (
    Reference("PAVING", "m2", 12_100 * KZT, "paving stones laid on sand base"),
    Reference("LIGHTING", "pcs", 412_000 * KZT, "LED street light with pole"),
    Reference("SCHOOL-REPAIR", "m2", 38_500 * KZT, "capital repair of school premises"),
    Reference("WATER-PIPE", "m", 24_800 * KZT, "water main, polyethylene, laid"),
    Reference("PLAYGROUND", "pcs", 7_850_000 * KZT, "children's playground set, installed"),
    Reference("LIVESTOCK", "head", 465_000 * KZT, "heifer, pedigree, 12–18 months"),
)


@dataclass(frozen=True)
class Model:
    code: str
    price: int  # catalog price, tiyn
    maker: int  # index into the agro_maker pool
    wmi: str
    vds: str


# Machine classes, one per AGRO budget program; within a class prices differ at most ~3× (C01).
MACHINE_CLASSES: dict[int, tuple[Model, ...]] = {
    112: (Model("TRACTOR-82HP", 12_900_000 * KZT, 0, "Y3B", "T82MK"), Model("TRACTOR-140HP", 27_600_000 * KZT, 1, "XTZ", "K7414"),
          Model("TRACTOR-240HP", 41_800_000 * KZT, 2, "1RW", "8R240")),
    113: (Model("COMBINE-5", 68_500_000 * KZT, 3, "X7A", "AC5RS"), Model("COMBINE-7", 96_000_000 * KZT, 2, "1H0", "S7700"),
          Model("COMBINE-9", 128_000_000 * KZT, 4, "WCL", "LX900")),
    114: (Model("SEEDER-9M", 8_900_000 * KZT, 5, "WAZ", "CT900"), Model("SEEDER-12M", 14_600_000 * KZT, 5, "WAZ", "CT120"),
          Model("SPRAYER-24M", 11_600_000 * KZT, 5, "WAZ", "UX240"), Model("BALER-R", 6_400_000 * KZT, 4, "WCL", "RL455"),
          Model("CULTIVATOR-8M", 5_700_000 * KZT, 1, "XKM", "KP800")),
}
MODELS = {model.code: model for models in MACHINE_CLASSES.values() for model in models}
AGRO_PROGRAMS = tuple(MACHINE_CLASSES)


def asphalt_reference(world: World, region: int) -> int:
    """The ASPHALT reference price (tiyn per tonne) of a region."""
    low, high = ASPHALT_KZT
    return world.rng("price", "ASPHALT", region).randint(low * 100, high * 100) * KZT // 100


def reference_records(world: World) -> list[tuple[str, str, int, str | None, str]]:
    """(code, unit, price tiyn, region, description) of every reference the world's pilots use."""
    records: list[tuple[str, str, int, str | None, str]] = []
    pilots = world.config.pilots
    if "ROAD" in pilots:
        for region, (name, _, _) in enumerate(REGIONS):
            records.append(("ASPHALT", "t", asphalt_reference(world, region), name, "hot asphalt mix, laid"))
        records += [(r.code, r.unit, r.price, None, r.description) for r in ROAD_REFERENCES]
    if "AGRO" in pilots:
        records += [(m.code, "pcs", m.price, None, f"catalog price of machine model {m.code}") for m in MODELS.values()]
    if "LOCAL" in pilots:
        records += [(r.code, r.unit, r.price, None, r.description) for r in LOCAL_REFERENCES]
    return records


def reference(code: str) -> int:
    """The national reference price of a code (tiyn)."""
    for group in (ROAD_REFERENCES, LOCAL_REFERENCES):
        for ref in group:
            if ref.code == code:
                return ref.price
    return MODELS[code].price
