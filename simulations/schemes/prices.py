"""R01–R04 — prices and quantities above what the references and the geometry justify.

- `R01-overpriced-item`: a contract with an item at 1.35–1.7 × its reference — in LOCAL an extra
  contract of the akimat with a contractor it has not used this year; in ROAD an extra bitumen
  supply the general contractor buys from a second supplier.
- `R03-asphalt-overbilling`: the general contract bills 15–35 % more asphalt tonnes than the
  road's length × width × thickness × 2.35 t/m³ needs (and is paid for them).
- `R02-costly-road`: the general contract bills so much more earthworks that the road costs
  1.55–1.9 × the `ROAD-KM` reference per km (asphalt and prices stay as the references say).
- `R04-machine-above-catalog`: a machine priced 1.12–1.28 × its catalog price (below R01's 1.30).
"""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction
from math import ceil

from simulations.amounts import F01_BANDS, KZT, log_uniform
from simulations.pilots.common import (
    final_day_for, item, near, quantity_for, sign, works_contract,
)
from simulations.pilots.local import CONTRACTOR_SPENDS, LAST_FINAL, PURPOSES
from simulations.pilots.road import SUPPLIER_SPENDS
from simulations.plan import Plan, Truth
from simulations.prices import MODELS, reference
from simulations.schemes.base import Scheme, grow_allocation, of_role, reprice, truth


def overpriced_item(plan: Plan, rng: random.Random) -> Truth | None:
    if plan.pilot == "ROAD":
        return _overpriced_bitumen(plan, rng)
    contracts = of_role(plan, "local")
    a = plan.index % plan.world.pools["local_akimat"]
    j = plan.index // plan.world.pools["local_akimat"]
    contractor = plan.world.party("local_contractor", a * 13 + j * 6 + 5)  # a slot the clean plan never uses
    code, unit, _ = rng.choice(PURPOSES[:5])
    price = reference(code) * rng.randint(135, 170) // 100
    target = log_uniform(rng, min(c.amount for c in contracts), max(c.amount for c in contracts))
    sign_day = plan.day(plan.start, 10, 45, rng)
    contract = sign(plan, plan.admin, contractor, [item(code, unit, quantity_for(target, price), price)], sign_day,
                    "extra", method="direct")
    end = final_day_for(plan, sign_day, contract.amount, LAST_FINAL, rng)
    works_contract(plan, contract, sign_day, end, stages=rng.randint(1, 2), advance=False,
                   spends=CONTRACTOR_SPENDS, spend_count=2)
    grow_allocation(plan, contract.amount)
    return truth(plan, "R01-overpriced-item", transactions=[contract.sign["id"]],
                 parties=[plan.admin.party, contractor.party], contracts=[contract.contract],
                 note=f"{code} at {price * 100 // reference(code)} % of its reference")


def _overpriced_bitumen(plan: Plan, rng: random.Random) -> Truth | None:
    [main] = of_role(plan, "main")
    [supply] = of_role(plan, "supply")
    pool = plan.world.pools["road_supplier"]
    second = plan.world.party("road_supplier", supply.supplier.index + 1 + rng.randrange(pool - 1))
    if second.party == supply.supplier.party:
        return None
    price = reference("BITUMEN") * rng.randint(135, 170) // 100
    tonnes = int(supply.sign["items"][0]["quantity"]) * rng.randint(15, 30) // 100
    sign_day = plan.day(supply.sign["at"].date(), 20, 50, rng)
    contract = sign(plan, main.supplier, second, [item("BITUMEN", "t", max(1, tonnes), price)], sign_day, "extra",
                    method="direct")
    end = final_day_for(plan, sign_day, contract.amount, main.sign["ends_on"], rng)
    works_contract(plan, contract, sign_day, end, stages=rng.randint(1, 2), advance=False, spends=SUPPLIER_SPENDS,
                   spend_count=1)
    return truth(plan, "R01-overpriced-item", transactions=[contract.sign["id"]],
                 parties=[main.supplier.party, second.party], contracts=[contract.contract],
                 note=f"bitumen at {price * 100 // reference('BITUMEN')} % of its reference")


def asphalt_overbilling(plan: Plan, rng: random.Random) -> Truth | None:
    [main] = of_role(plan, "main")
    items = [dict(i) for i in main.sign["items"]]
    asphalt = next(i for i in items if i["code"] == "ASPHALT")
    asphalt["quantity"] = str(int(asphalt["quantity"]) * rng.randint(115, 135) // 100)
    reprice(plan, main, items)
    return truth(plan, "R03-asphalt-overbilling", transactions=[main.sign["id"]],
                 parties=[plan.admin.party, main.supplier.party], contracts=[main.contract],
                 note=f"{asphalt['quantity']} t of asphalt billed for the geometry {main.sign['road']}")


def costly_road(plan: Plan, rng: random.Random) -> Truth | None:
    [main] = of_role(plan, "main")
    items = [dict(i) for i in main.sign["items"]]
    length = Fraction(Decimal(main.sign["road"]["length_km"]))
    target = length * reference("ROAD-KM") * rng.randint(155, 190) / 100
    earthworks = next(i for i in items if i["code"] == "EARTHWORKS")
    missing = target - main.amount
    if missing > 0:
        earthworks["quantity"] = str(int(earthworks["quantity"]) + ceil(missing / earthworks["unit_price"]))
    reprice(plan, main, items)
    assert main.amount >= length * reference("ROAD-KM") * 3 / 2
    return truth(plan, "R02-costly-road", transactions=[main.sign["id"]], parties=[main.supplier.party],
                 contracts=[main.contract],
                 note=f"{main.amount // KZT // int(length * 1000) * 1000} KZT per km of {main.sign['road']['length_km']} km")


def machine_above_catalog(plan: Plan, rng: random.Random) -> Truth | None:
    contract = rng.choice(of_role(plan, "machine"))
    items = [dict(i) for i in contract.sign["items"]]
    model = MODELS[items[0]["code"]]
    price = near(rng, model.price, 112, 128)
    low, high = F01_BANDS["AGRO"]
    items[0]["unit_price"] = high + rng.randint(1, 99_999) if low < price < high else price  # stay out of F01's band
    reprice(plan, contract, items)
    return truth(plan, "R04-machine-above-catalog", transactions=[contract.sign["id"]],
                 parties=[plan.admin.party, contract.supplier.party], contracts=[contract.contract],
                 note=f"{model.code} at {items[0]['unit_price'] * 100 // model.price} % of its catalog price")


SCHEMES = (
    Scheme("R01-overpriced-item", ("R01",), frozenset({"ROAD", "LOCAL"}), overpriced_item,
           "an item priced 1.35–1.7 × its reference"),
    Scheme("R03-asphalt-overbilling", ("R03",), frozenset({"ROAD"}), asphalt_overbilling,
           "15–35 % more asphalt billed than the road's geometry needs"),
    Scheme("R02-costly-road", ("R02",), frozenset({"ROAD"}), costly_road,
           "a road costing 1.55–1.9 × the reference per km"),
    Scheme("R04-machine-above-catalog", ("R04",), frozenset({"AGRO"}), machine_above_catalog,
           "a machine priced 1.12–1.28 × its catalog price"),
)
