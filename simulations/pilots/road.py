"""ROAD: a regional roads department reconstructs a road section.

One project = one allocation (color) to the department (administrator), one open-tender contract
with a general contractor (items ASPHALT / EARTHWORKS / ROAD-SIGNS / DRAINAGE, road geometry),
which subcontracts asphalt laying and buys bitumen. The department pays an advance, then stage by
stage: it accepts works (with the asphalt tonnes laid), reserves and releases or transfers what is
due; the contractor pays its subcontractor and supplier what it accepted from them, and everybody
spends on fuel, machinery, materials and wages. What is left returns to the treasury in December.

Clean by construction: asphalt billed within ±4 % of the geometry (R03), prices within ±10 % of
the references (R01), cost per km ≤ ~0.9 × `ROAD-KM` (R02), each department's contracts go to
different general contractors with lengths within ~2× of each other (C01), the contractor passes
on at most 70 % of what it gets (S01), never within 4 days of receiving it (F03).
"""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from simulations.amounts import KZT, between, in_band
from simulations.pilots.common import (
    accept, allocate, contractor_spends, finalize, give_back, item, items_total, near, out_of_band_items, pay, pay_due,
    season_day, sign, spread_days, stage_values,
)
from simulations.plan import ContractPlan, Due, Plan, Window, workday
from simulations.prices import asphalt_reference, reference
from simulations.world import FISCAL_YEAR, Party, World

PROGRAM = 41
LAST_STAGE = date(FISCAL_YEAR, 11, 7)  # paid by ~25 November: L04 looks on 1 December
GC_SPENDS = ("fuel", "machinery_rental", "wages", "materials", "taxes", "utilities")
SUB_SPENDS = ("materials", "machinery_rental", "wages", "fuel")
SUPPLIER_SPENDS = ("materials", "fuel", "taxes")
LAYING_KZT = 36_500


def plan_road(world: World, index: int) -> Plan:
    admins = world.pools["road_admin"]
    a, j = index % admins, index // admins
    admin = world.party("road_admin", a)
    plan = Plan(world, "ROAD", index, admin, PROGRAM, workday(season_day("ROAD", index, world.projects["ROAD"])))
    rng = plan.rng
    gc = world.party("road_gc", a * 7 + j)  # a department's contracts go to different contractors (C01)
    sub = world.party("road_sub", rng.randrange(world.pools["road_sub"]))
    supplier = world.party("road_supplier", rng.randrange(world.pools["road_supplier"]))
    workers = [world.party("worker", rng.randrange(world.pools["worker"])) for _ in range(4)]
    road, items, tonnes = _main_items(plan, a)
    allocation = allocate(plan, 0, plan.start, f"Reconstruction of a {admin.region_name} regional road, "
                                              f"{road['length_km']} km")
    sign_day = plan.day(plan.start, 5, 20)
    end_day = max(min(plan.day(sign_day, 120, 230), workday(LAST_STAGE)), workday(sign_day + timedelta(days=95)))
    main = sign(plan, admin, gc, items, sign_day, "main", method="open", ends_on=end_day, road=road)
    allocation["amount"] = between(rng, main.amount, 102, 106)
    sub_items = out_of_band_items([item("ASPHALT-LAYING", "t", tonnes * rng.randint(50, 70) // 100,
                                        near(rng, LAYING_KZT * KZT, 95, 105))], "ROAD")
    supply_items = out_of_band_items([item("BITUMEN", "t", max(1, tonnes * rng.randint(50, 60) // 1000),
                                           near(rng, reference("BITUMEN"), 92, 108))], "ROAD")
    subcontract = sign(plan, gc, sub, sub_items, plan.day(sign_day, 8, 20), "sub", method="direct")
    supply = sign(plan, gc, supplier, supply_items, plan.day(sign_day, 6, 18), "supply", method="quotation")
    _advances(plan, main, subcontract, sign_day, workers)
    _stages(plan, main, subcontract, supply, sign_day, end_day, tonnes, workers)
    give_back(plan)
    return finalize(plan)


def _main_items(plan: Plan, admin_index: int) -> tuple[dict[str, str], list[dict[str, Any]], int]:
    """Road geometry, the general contract's items, and the asphalt tonnes billed."""
    rng, world = plan.rng, plan.world
    length_tenths = max(20, world.rng("scale", "road_admin", admin_index).randint(40, 140) * rng.randint(70, 150) // 100)
    width_tenths = rng.choice((70, 75, 80, 85))
    asphalt_cm = rng.randint(6, 10)
    expected = Fraction(length_tenths * width_tenths * asphalt_cm * 235, 1000)
    tonnes = int(expected * rng.randint(960, 1040) / 1000)
    road = {"length_km": f"{length_tenths // 10}.{length_tenths % 10}", "width_m": f"{width_tenths // 10}.{width_tenths % 10}",
            "asphalt_cm": str(asphalt_cm)}
    items = [
        item("ASPHALT", "t", tonnes, near(rng, asphalt_reference(world, plan.region))),
        item("EARTHWORKS", "m3", length_tenths * width_tenths * rng.randint(50, 70) // 10, near(rng, reference("EARTHWORKS"))),
        item("ROAD-SIGNS", "pcs", max(4, length_tenths * rng.randint(8, 14) // 10), near(rng, reference("ROAD-SIGNS"))),
        item("DRAINAGE", "m", length_tenths * rng.randint(150, 250) // 10, near(rng, reference("DRAINAGE"))),
    ]
    while in_band(items_total(items), "ROAD"):  # a small road just under the tender threshold: more earthworks
        items[1]["quantity"] = str(int(items[1]["quantity"]) + 50)
    return road, items, tonnes


def _advances(plan: Plan, main: ContractPlan, subcontract: ContractPlan, sign_day: date, workers: list[Party]) -> None:
    rng = plan.rng
    advance_day = plan.day(sign_day, 5, 15)
    pay(plan, main, plan.at(advance_day), Window(main.amount * 10 // 100, main.amount * 22 // 100), kind="advance")
    sub_day = plan.day(max(advance_day, subcontract.sign["at"].date()), 4, 9)
    pay(plan, subcontract, plan.at(sub_day), Window(subcontract.amount * 8 // 100, subcontract.amount * 18 // 100),
        kind="advance")
    contractor_spends(plan, main.supplier, advance_day, advance_day + timedelta(days=30), GC_SPENDS, rng.randint(1, 2),
                      (5, 15), {"wages": workers})
    contractor_spends(plan, subcontract.supplier, sub_day, sub_day + timedelta(days=30), SUB_SPENDS, 1, (15, 35), {"wages": workers})


def _stages(plan: Plan, main: ContractPlan, subcontract: ContractPlan, supply: ContractPlan, sign_day: date,
            end_day: date, tonnes: int, workers: list[Party]) -> None:
    rng = plan.rng
    first = plan.day(sign_day, 40, 65)
    stages = rng.randint(3, 6)
    while stages > 2 and (end_day - first).days < 28 * (stages - 1):
        stages -= 1
    days = spread_days(first, end_day, stages)
    supply_sign = supply.sign["at"].date()
    supply_last = next((n for n, day in enumerate(days) if n >= (stages - 1) // 2 and day >= supply_sign + timedelta(days=72)),
                       stages - 1)
    main_values = stage_values(rng, main.amount, stages)
    sub_values = stage_values(rng, subcontract.amount, stages)
    supply_values = stage_values(rng, supply.amount, supply_last + 1)
    for n, day in enumerate(days):
        final = n == stages - 1
        next_day = days[n + 1] if n + 1 < stages else day + timedelta(days=45)
        accept(plan, subcontract, sub_values[n], plan.at(plan.day(day, -6, -3)), final=final)
        if n <= supply_last:
            accept(plan, supply, supply_values[n], plan.at(plan.day(day, -9, -7)), final=n == supply_last)
        quantities = [{"code": "ASPHALT", "quantity": str(max(1, tonnes * main_values[n] // main.amount))}]
        accepted = accept(plan, main, main_values[n], plan.at(day), final=final, quantities=quantities)
        inflow = _pay_stage(plan, main, accepted)
        paid_sub = plan.day(inflow.date(), 5, 10)
        pay(plan, subcontract, plan.at(paid_sub), Due(), kind="progress")
        if n <= supply_last:
            paid_supply = plan.day(inflow.date(), 5, 12)
            pay(plan, supply, plan.at(paid_supply), Due(), kind="progress")
            contractor_spends(plan, supply.supplier, paid_supply, paid_supply + timedelta(days=25), SUPPLIER_SPENDS, 1,
                              (30, 70))
        contractor_spends(plan, main.supplier, inflow.date(), next_day, GC_SPENDS, rng.randint(2, 3), (6, 18), {"wages": workers})
        contractor_spends(plan, subcontract.supplier, paid_sub, next_day + timedelta(days=10), SUB_SPENDS,
                          rng.randint(1, 2), (15, 40), {"wages": workers})


def _pay_stage(plan: Plan, main: ContractPlan, accepted: dict[str, Any]) -> Any:
    """The department pays what is due for a stage, in installments: reservations released days
    later, or transfers. Returns the moment the contractor last received money."""
    day = accepted["at"].date()
    if plan.rng.randrange(2):
        at = plan.at(plan.day(day, 0, 2))
        if at <= accepted["at"]:
            at = plan.later(accepted["at"], 45)
        return pay_due(plan, main, at, release_days=(2, 5))
    return pay_due(plan, main, plan.at(plan.day(day, 1, 4)))
