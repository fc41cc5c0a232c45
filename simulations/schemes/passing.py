"""F03, F04, F05, S01 — money passed on, sent round, paid out to people, subcontracted away.

- `F03-pass-through-shell`: the administrator contracts works with a shell company registered
  months before, which subcontracts all of it to a real contractor and passes 86–95 % of each
  payment on within 2–48 hours. A shell passes on nearly everything, so S01 (≥ 80 % paid on,
  judged after the color expires) flags it as well, and P01 when its contract is 50 M KZT or more.
- `F04-kickback-to-official`: days after its first payment, a contractor (or dealer) pays 8–20 % of
  its balance for "services" to a company directed by an official of the administrator.
- `F04-round-trip` (ROAD): the asphalt subcontractor "rents machinery" from the general contractor
  and pays part of its advance back to it within weeks — back to a party that held the money. The
  rental contract puts a third level under the department, which S01 flags (depth ≥ 3).
- `F05-cash-to-individuals`: hours after its first payment, a contractor (or dealer) pays two
  registered individuals 22–30 % of its balance each for "services" (not wages).
- `S01-pass-through-subcontracting` (LOCAL): a contractor subcontracts its whole contract to a
  company of the scheme's and passes 88–96 % of everything it receives on, four or more days after
  each payment (so F03 stays silent); its own spends disappear.
- `S01-deep-chain`: a subcontractor subcontracts again (ROAD: the asphalt subcontractor; LOCAL: a
  contractor's new subcontractor), three contracts below the administrator.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from simulations.amounts import KZT, log_uniform
from simulations.pilots.common import accept, contractor_spends, final_day_for, item, pay, sign, stage_days, stage_values
from simulations.plan import ContractPlan, Due, Onward, Plan, ShareOfBalance, Truth, Window
from simulations.schemes.base import (
    P01_AMOUNT, Scheme, default_spends, extra_sign_day, extra_target, grow_allocation, inflows_under, latest_final,
    mirror_accepts, new_company_date, of_role, register_before, scheme_party, subcontract, truth, works_items,
)

ALL = frozenset({"ROAD", "AGRO", "LOCAL"})
WORKS = frozenset({"ROAD", "LOCAL"})


def pass_through_shell(plan: Plan, rng: random.Random) -> Truth | None:
    sign_day = extra_sign_day(plan, rng)
    target = log_uniform(rng, 40_000_000 * KZT, 150_000_000 * KZT) if plan.pilot == "ROAD" else extra_target(plan, rng)
    items = works_items(plan, rng, target)
    registered = register_before(plan, plan.at(sign_day, rng), rng)
    shell = scheme_party(plan, rng, "contractor", "Invest Group", registered, registered_on=new_company_date(rng, sign_day))
    real = scheme_party(plan, rng, "contractor", "Kurylys Montazh", registered)
    contract = sign(plan, plan.admin, shell, items, sign_day, "extra", method="direct")
    grow_allocation(plan, contract.amount)
    end = final_day_for(plan, sign_day, contract.amount, latest_final(plan), rng)
    days = stage_days(plan, sign_day, end, rng.randint(1, 3))
    for n, (day, value) in enumerate(zip(days, stage_values(rng, contract.amount, len(days)), strict=True)):
        accept(plan, contract, value, plan.at(day, rng), final=n == len(days) - 1)
    passed_on = sign(plan, shell, real, [item("SUBCONTRACTED-WORKS", "lot", 1, contract.amount * rng.randint(94, 97) // 100)],
                     plan.day(sign_day, 1, 2, rng), "sub", method="direct")
    mirror_accepts(plan, contract, passed_on)
    moved = []
    for n, accepted in enumerate(contract.accepts):
        inflow = pay(plan, contract, plan.at(plan.day(accepted["at"].date(), 1, 4, rng), rng), Due(90, 100), kind="progress")
        pay(plan, passed_on, inflow + timedelta(minutes=rng.randint(120, 48 * 60)), Onward(86, 95), kind="progress")
        passed_on.payments[-1]["_allow_fast"] = True  # on purpose: within 72 h
        moved += [contract.payments[-1]["id"], passed_on.payments[-1]["id"]]
        following = (contract.accepts[n + 1]["at"].date() if n + 1 < len(contract.accepts)
                     else inflow.date() + timedelta(days=40))
        contractor_spends(plan, real, inflow.date(), following, default_spends(plan), rng.randint(2, 3), (20, 50))
    rules = ("F03", "S01", "P01") if contract.amount >= P01_AMOUNT else ("F03", "S01")
    return truth(plan, "F03-pass-through-shell", transactions=[contract.sign["id"], passed_on.sign["id"], *moved],
                 parties=[shell.party], contracts=[contract.contract, passed_on.contract], rules=rules,
                 note=f"shell {shell.party} (registered {shell.registered_on}) passes each payment on to {real.party} "
                      "within hours")


def _holder_contract(plan: Plan, rng: random.Random, *, direct: bool = False) -> ContractPlan | None:
    """A contract whose supplier gets paid (`direct`: by the administrator itself)."""
    roles = {"ROAD": ("main",) if direct else ("main", "sub"), "AGRO": ("machine",), "LOCAL": ("local",)}[plan.pilot]
    candidates = [c for c in plan.contracts.values() if c.role in roles and inflows_under(plan, c)]
    return rng.choice(candidates) if candidates else None


def _first_inflows(plan: Plan, contract: ContractPlan) -> tuple[list[str], datetime]:
    """The ids and last moment of the supplier's first inflows under `contract` (a release follows
    its reservation: both tranches of a subsidy arrive together)."""
    inflows = inflows_under(plan, contract)
    first = inflows[0][0]
    together = [(at, p) for at, p in inflows if at <= first + timedelta(hours=2)]
    return [p["id"] for _, p in together], max(at for at, _ in together)


def kickback_to_official(plan: Plan, rng: random.Random) -> Truth | None:
    # F04 measures the returned share against the administrator's payment that started the chain:
    # the kickback comes from a contractor the administrator pays itself
    contract = _holder_contract(plan, rng, direct=True)
    if contract is None or not plan.admin.officials:
        return None
    ids, received = _first_inflows(plan, contract)
    official = rng.choice(plan.admin.officials)
    company = scheme_party(plan, rng, "supplier", "Consulting", register_before(plan, received, rng), directors=[official])
    at = received + timedelta(minutes=rng.randint(180, 72 * 60))
    kickback = plan.add("spend", at, color=plan.color, from_=contract.supplier.party, amount=ShareOfBalance(8, 20),
                        category="services", payee=company.party, invoice=plan.invoice(company))
    return truth(plan, "F04-kickback-to-official", transactions=[kickback["id"], *ids],
                 parties=[contract.supplier.party, company.party], contracts=[contract.contract],
                 note=f"{contract.supplier.party} pays {company.party}, directed by official {official} of the administrator")


def round_trip(plan: Plan, rng: random.Random) -> Truth | None:
    [main] = of_role(plan, "main")
    [sub] = of_role(plan, "sub")
    inflows = inflows_under(plan, sub)
    if not inflows:
        return None
    advanced = inflows[0][0]
    amount = min(sub.amount * rng.randint(8, 15) // 100, 19_000_000 * KZT)
    months = rng.randint(2, 4)
    rental = sign(plan, sub.supplier, main.supplier, [item("MACHINERY-RENTAL", "month", months, amount // months)],
                  plan.day(advanced.date(), 2, 8, rng), "back", method="direct")
    accepted = accept(plan, rental, rental.amount, plan.at(plan.day(rental.sign["at"].date(), 2, 6, rng), rng), final=True)
    pay(plan, rental, plan.at(plan.day(accepted["at"].date(), 1, 3, rng), rng),
        Window(rental.amount * 60 // 100, rental.amount), kind="progress")
    back = rental.payments[-1]
    return truth(plan, "F04-round-trip", transactions=[back["id"], rental.sign["id"], inflows[0][1]["id"]],
                 parties=[sub.supplier.party, main.supplier.party], contracts=[rental.contract, sub.contract],
                 note=f"{sub.supplier.party} pays part of its advance back to {main.supplier.party} as machinery rent")


def cash_to_individuals(plan: Plan, rng: random.Random) -> Truth | None:
    contract = _holder_contract(plan, rng)
    if contract is None:
        return None
    _, received = _first_inflows(plan, contract)
    pool = plan.world.pools["worker"]
    first = rng.randrange(pool)
    people = [plan.world.party("worker", first), plan.world.party("worker", first + 1 + rng.randrange(pool - 1))]
    spends = []
    at = received
    for person in people:
        at = at + timedelta(minutes=rng.randint(30, 240))
        spends.append(plan.add("spend", at, color=plan.color, from_=contract.supplier.party, amount=ShareOfBalance(22, 30),
                               category="services", payee=person.party, invoice=plan.invoice(contract.supplier)))
    return truth(plan, "F05-cash-to-individuals", transactions=[s["id"] for s in spends],
                 parties=[contract.supplier.party, *(p.party for p in people)], contracts=[contract.contract],
                 note=f"{contract.supplier.party} pays two people for 'services' hours after it was paid")


def pass_through_subcontracting(plan: Plan, rng: random.Random) -> Truth | None:
    candidates = [c for c in of_role(plan, "local") if c.accepts and inflows_under(plan, c)]
    if not candidates:
        return None
    contract = rng.choice(candidates)
    for step in [s for s in plan.steps if s["type"] == "spend" and s["from"] == contract.supplier.party]:
        plan.remove(step)
    company = scheme_party(plan, rng, "contractor", "Stroy Montazh", register_before(plan, contract.sign["at"], rng))
    child = subcontract(plan, rng, contract, company, (92, 96), sign_after=(0, 1), rule=Onward(88, 96), delay_days=(4, 8))
    return truth(plan, "S01-pass-through-subcontracting",
                 transactions=[child.sign["id"], *(p["id"] for p in child.payments)],
                 parties=[contract.supplier.party, company.party], contracts=[contract.contract, child.contract],
                 note=f"{contract.supplier.party} passes 88–96 % of every payment on to {company.party}")


def deep_chain(plan: Plan, rng: random.Random) -> Truth | None:
    chain = []
    if plan.pilot == "ROAD":
        [parent] = of_role(plan, "sub")
    else:
        candidates = [c for c in of_role(plan, "local") if c.accepts and inflows_under(plan, c)
                      and c.sign["items"][0]["code"] != "LIVESTOCK"]
        if not candidates:
            return None
        top = rng.choice(candidates)
        registered = register_before(plan, top.sign["at"] + timedelta(days=2), rng)
        middle_party = scheme_party(plan, rng, "contractor", "Kurylys", registered)
        parent = subcontract(plan, rng, top, middle_party, (40, 60), sign_after=(1, 3))
        chain.append(parent)
    registered = register_before(plan, parent.sign["at"] + timedelta(days=2), rng)
    party = scheme_party(plan, rng, "contractor", "Zhol Service", registered)
    child = subcontract(plan, rng, parent, party, (25, 45), sign_after=(1, 3))
    chain.append(child)
    return truth(plan, "S01-deep-chain", transactions=[c.sign["id"] for c in chain],
                 parties=[c.supplier.party for c in chain], contracts=[c.contract for c in chain],
                 note=f"{child.contract} is the third contract below the administrator")


SCHEMES = (
    Scheme("F03-pass-through-shell", ("F03", "S01", "P01"), WORKS, pass_through_shell,
           "a new shell company passes each payment on to the real contractor within hours"),
    Scheme("F04-kickback-to-official", ("F04",), ALL, kickback_to_official,
           "a contractor pays a company directed by an official of the administrator"),
    Scheme("F04-round-trip", ("F04", "S01"), frozenset({"ROAD"}), round_trip,
           "the subcontractor pays part of its advance back to the general contractor"),
    Scheme("F05-cash-to-individuals", ("F05",), ALL, cash_to_individuals,
           "a contractor pays individuals (not wages) right after being paid"),
    Scheme("S01-pass-through-subcontracting", ("S01",), frozenset({"LOCAL"}), pass_through_subcontracting,
           "a contractor passes nearly all it receives on to a subcontractor"),
    Scheme("S01-deep-chain", ("S01",), WORKS, deep_chain, "a subcontractor subcontracts again: three levels deep"),
)
