"""AGRO: a branch of the subsidy operator subsidises machines that dealers sell to farmers.

One project = one allocation (color) to an operator branch for a batch of 4–12 machines of its
program's class (tractors 112, combines 113, implements 114). Per machine: a contract operator →
dealer (one item at the catalog price ±6 %, the machine's VIN, the farmer as beneficiary), the
subsidy reserved (30–60 % of the price), the final acceptance carrying the registration record's
SHA-256, the release with the same evidence — money reaches the dealer only after delivery is
proven — and the dealer's spends: the manufacturer paid for that VIN, taxes, transport.

Clean by construction: VINs are unique (A01), prices below 1.10 × catalog (R04) and outside the
F01 band, dealers never pay farmers (A03), each branch's machines go round-robin to many dealers
(C01), and the branch has reserved most of its allocation long before December (L04).
"""

from __future__ import annotations

from datetime import date, timedelta

from simulations.amounts import between, out_of_band
from simulations.identity import vin_for
from simulations.pilots.common import (
    LAST_SPEND_DAY, accept, allocate, contractor_spends, finalize, give_back, item, pay, season_day, sign, spend,
)
from simulations.plan import ContractPlan, Plan, ShareOfBalance, UpTo, Window, workday
from simulations.prices import AGRO_PROGRAMS, MACHINE_CLASSES, MODELS, Model
from simulations.world import FISCAL_YEAR, Party, World

MACHINES_PER_BATCH = (4, 12)
VIN_STRIDE = 16  # machine k of project i has VIN serial 16·i + k; k ≥ 12 is left for schemes
SUBSIDY_PERCENT = (33, 60)  # of the price, in all
FIRST_TRANCHE_PERCENT = 30
DEALER_SPENDS = ("taxes", "services")
LAST_SIGNING = date(FISCAL_YEAR, 10, 15)
LAST_DELIVERY = date(FISCAL_YEAR, 12, 18)  # a Thursday: the release follows by the 24th


def plan_agro(world: World, index: int) -> Plan:
    operators = world.pools["agro_operator"]
    a, j = index % operators, index // operators
    operator = world.party("agro_operator", a)
    program = AGRO_PROGRAMS[a % len(AGRO_PROGRAMS)]
    plan = Plan(world, "AGRO", index, operator, program, workday(season_day("AGRO", index, world.projects["AGRO"])))
    rng = plan.rng
    machines = rng.randint(*MACHINES_PER_BATCH)
    allocation = allocate(plan, 0, plan.start, f"Investment subsidies for agricultural machinery, batch {index + 1}")
    total = 0
    for k in range(machines):
        dealer = world.party("agro_dealer", a * 11 + j * 12 + k)  # round-robin over dealers (C01)
        farmer = world.party("agro_farmer", index * 12 + k)
        model = rng.choice(MACHINE_CLASSES[program])
        contract = machine_contract(plan, dealer, farmer, model, VIN_STRIDE * index + k, plan.day(plan.start, 2, 45))
        total += contract.amount * SUBSIDY_PERCENT[1] // 100
    allocation["amount"] = between(rng, total, 100, 102)
    give_back(plan)
    return finalize(plan)


def machine_price(plan: Plan, model: Model) -> int:
    """A price near the catalog (94–106 %), never in the F01 band for goods."""
    return out_of_band(between(plan.rng, model.price, 94, 106), "AGRO")


def machine_contract(plan: Plan, dealer: Party, farmer: Party, model: Model, serial: int, sign_day: date,
                     price: int | None = None, vin: str | None = None) -> ContractPlan:
    """A machine sold by `dealer` to `farmer` with a subsidy, delivered, proven and paid."""
    price = machine_price(plan, model) if price is None else price
    vin = vin or vin_for(serial, model.wmi, model.vds)
    contract = sign(plan, plan.admin, dealer, [item(model.code, "pcs", 1, price)], min(sign_day, LAST_SIGNING),
                    "machine", method="quotation", assets=[vin], beneficiary=farmer.party)
    machine_lifecycle(plan, contract, vin, contract.sign["at"].date())
    return contract


def machine_lifecycle(plan: Plan, contract: ContractPlan, vin: str, sign_day: date) -> None:
    """Reserve the subsidy, accept delivery with the registration record, release, dealer spends."""
    rng = plan.rng
    low, high = SUBSIDY_PERCENT
    reserve_day = plan.day(sign_day, 1, 7)
    delivered = min(plan.day(reserve_day, 14, 55), LAST_DELIVERY)
    registration = plan.evidence(f"registration-{vin}")
    accepted = accept(plan, contract, contract.amount, plan.at(delivered), final=True,
                      quantities=[{"code": contract.sign["items"][0]["code"], "quantity": "1"}])
    accepted["evidence_sha256"] = registration
    released = plan.at(plan.day(delivered, 1, 4))
    price = contract.amount
    # Two tranches: a first of 6–30 % of the price, then up to 33–60 % in all (wide windows keep the
    # operator's amounts on Benford's curve although it subsidises machines of similar prices).
    pay(plan, contract, plan.at(reserve_day), Window(price * 6 // 100, price * FIRST_TRANCHE_PERCENT // 100),
        kind="subsidy", release_at=released, release_evidence=registration)
    second = plan.at(min(plan.day(reserve_day, 1, 10), delivered))
    pay(plan, contract, second, UpTo(price * low // 100, price * high // 100), kind="subsidy",
        release_at=plan.later(max(released, second), 30), release_evidence=registration)
    maker = plan.world.party("agro_maker", MODELS[contract.sign["items"][0]["code"]].maker)
    paid_maker = min(plan.day(released.date(), 2, 15), LAST_SPEND_DAY)
    spend(plan, contract.supplier, plan.at(paid_maker), "equipment", ShareOfBalance(45, 85), payee=maker,
          contract=contract.contract, assets=[vin])
    contractor_spends(plan, contract.supplier, paid_maker, paid_maker + timedelta(days=30), DEALER_SPENDS,
                      rng.randint(1, 2), (20, 50))
