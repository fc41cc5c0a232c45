"""LOCAL: a district akimat runs a local development programme through small contractors.

One project = one allocation (color) to an akimat, 2–5 contracts with different local contractors
(paving, street lights, school repair, water mains, playgrounds) or a livestock farm (heifers for
families), each priced within ±10 % of the reference. Per contract: sometimes an advance, one to
three acceptances with a payment of what is due after each, and the contractor's spends on
materials, fuel, machinery, utilities, taxes and wages (to registered workers), or the farm's
purchases of livestock from farmers. What is left returns to the treasury in December.

Clean by construction: each akimat has a contract scale (6–45 M KZT) and its contracts stay within
about 3× of it, each with a different contractor (C01); the final acceptance of a contract of
20 M KZT or more comes ≥ 62 days after signing (L02); payments follow acceptances (F11).
"""

from __future__ import annotations

from datetime import date

from simulations.amounts import between, log_uniform
from simulations.pilots.common import (
    allocate, final_day_for, finalize, give_back, item, near, out_of_band_items, pick, quantity_for, season_day,
    sign, works_contract,
)
from simulations.plan import Plan, workday
from simulations.prices import reference
from simulations.world import FISCAL_YEAR, World

PROGRAM = 205
LAST_FINAL = date(FISCAL_YEAR, 11, 5)  # the last payments follow within ~3 weeks, before L04 looks on 1 December
PURPOSES = (
    ("PAVING", "m2", "paving of streets"), ("LIGHTING", "pcs", "street lighting"),
    ("SCHOOL-REPAIR", "m2", "repair of the school"), ("WATER-PIPE", "m", "water supply"),
    ("PLAYGROUND", "pcs", "children's playgrounds"), ("LIVESTOCK", "head", "heifers for large families"),
)
CONTRACTOR_SPENDS = ("materials", "fuel", "wages", "machinery_rental", "taxes", "utilities")
FARM_SPENDS = ("livestock", "livestock", "services", "taxes")


def plan_local(world: World, index: int) -> Plan:
    akimats = world.pools["local_akimat"]
    a, j = index % akimats, index // akimats
    akimat = world.party("local_akimat", a)
    plan = Plan(world, "LOCAL", index, akimat, PROGRAM, workday(season_day("LOCAL", index, world.projects["LOCAL"])))
    rng = plan.rng
    scale = pick(world.rng("scale", "local_akimat", a), 6_000_000, 45_000_000)
    allocation = allocate(plan, 0, plan.start, f"Local development programme {index + 1} of {akimat.name}")
    workers = [world.party("worker", rng.randrange(world.pools["worker"])) for _ in range(5)]
    sellers = [world.party("local_seller", rng.randrange(world.pools["local_seller"])) for _ in range(4)]
    total = 0
    livestock_done = False
    for k in range(rng.randint(2, 5)):
        code, unit, what = rng.choice(PURPOSES)
        if code == "LIVESTOCK" and livestock_done:
            code, unit, what = PURPOSES[0]
        livestock = code == "LIVESTOCK"
        livestock_done |= livestock
        supplier = (world.party("local_farm", a * 8 + j) if livestock
                    else world.party("local_contractor", a * 13 + j * 6 + k))  # different ones per akimat (C01)
        target = log_uniform(rng, scale * 60 // 100, scale * 2)
        price = near(rng, reference(code))
        items = [item(code, unit, quantity_for(target * rng.randint(85, 95) // 100, price), price)]
        if not livestock and rng.randrange(2):
            items.append(item("WORKS-MISC", "lot", 1, between(rng, target, 5, 15)))
        items = out_of_band_items(items, "LOCAL")
        sign_day = plan.day(plan.start, 3, 40)
        contract = sign(plan, akimat, supplier, items, sign_day, "local", method=rng.choice(("open", "quotation")))
        contract.sign["ends_on"] = final_day_for(plan, sign_day, contract.amount, LAST_FINAL, rng)
        works_contract(plan, contract, sign_day, contract.sign["ends_on"], stages=rng.randint(1, 3),
                       advance=rng.randrange(100) < 40, spends=FARM_SPENDS if livestock else CONTRACTOR_SPENDS,
                       spend_count=rng.randint(2, 4),
                       payees={"livestock": sellers} if livestock else {"wages": workers})
        total += contract.amount
    allocation["amount"] = between(rng, total, 102, 106)
    give_back(plan)
    return finalize(plan)
