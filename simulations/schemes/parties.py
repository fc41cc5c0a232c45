"""P01–P04 and C01 — who gets the money: new companies, related parties, officials' companies,
mass-registration addresses, one dominant supplier.

Each registers the parties it needs during the year (`scheme_party`); the clean world's parties
never share an identifier.

- `P01-new-company`: a company registered 60–300 days before gets a contract of 50 M KZT or more
  (ROAD: works of the department; LOCAL: one of the akimat's contracts of that size — an extra one
  would make a small akimat's year C01's business; AGRO: a combine, where the branch subsidises
  combines).
- `P02-shared-identifiers`: two parties of one chain share an identifier — ROAD: the general
  contractor subcontracts to a company with the same director; LOCAL: the akimat contracts a
  company whose phone (written another way) is that of another of its contractors under the
  color; AGRO: a machine's beneficiary farmer has the dealer's address (spelled another way).
- `P03-official-owns-supplier`: the administrator contracts (works, or a machine as dealer) with a
  company directed by one of its own officials.
- `P04-mass-registration-address`: the administrator contracts with a company registered at an
  address 10–13 other companies were registered at shortly before.
- `C01-dominant-supplier` (LOCAL): a district akimat of the scheme's own (its whole year is this
  programme) signs 10–12 contracts, one contractor taking most of their value.
"""

from __future__ import annotations

import random
from typing import Any

from simulations.amounts import KZT, log_uniform
from simulations.identity import REGIONS
from simulations.pilots.common import items_total
from simulations.plan import ContractPlan, Plan, Truth
from simulations.prices import MACHINE_CLASSES
from simulations.schemes.base import (
    P01_AMOUNT, Scheme, extra_machine, extra_sign_day, extra_target, extra_works, morning, new_company_date, of_role,
    register_before, replace_admin, replace_supplier, scheme_party, subcontract, truth, works_items,
)
from simulations.world import Party

ALL = frozenset({"ROAD", "AGRO", "LOCAL"})


def _contract_for(plan: Plan, rng: random.Random, supplier_of: dict[str, Any],
                  target: int | None = None) -> tuple[Party, ContractPlan]:
    """Register the supplier (`supplier_of`: `scheme_party`'s arguments but `at`) and give it one
    more contract of the administrator: works (ROAD, LOCAL) or a machine (AGRO)."""
    if plan.pilot == "AGRO":
        day = plan.day(plan.start, 5, 45, rng)
        party = scheme_party(plan, rng, at=register_before(plan, plan.at(day, rng), rng), **supplier_of)
        return party, extra_machine(plan, rng, party, day=day)
    sign_day = extra_sign_day(plan, rng)
    party = scheme_party(plan, rng, at=register_before(plan, plan.at(sign_day, rng), rng), **supplier_of)
    items = works_items(plan, rng, target or extra_target(plan, rng))
    return party, extra_works(plan, rng, plan.admin, party, items, sign_day)


def new_company(plan: Plan, rng: random.Random) -> Truth | None:
    if plan.pilot == "AGRO":
        if plan.program != 113:
            return None  # only combines cost 50 M KZT or more
        day = plan.day(plan.start, 5, 45, rng)
        company = scheme_party(plan, rng, "dealer", "Agro Service", register_before(plan, plan.at(day, rng), rng),
                               registered_on=new_company_date(rng, day))
        contract = extra_machine(plan, rng, company, model=rng.choice(MACHINE_CLASSES[113]), day=day)
    elif plan.pilot == "ROAD":
        sign_day = extra_sign_day(plan, rng)
        registered = register_before(plan, plan.at(sign_day, rng), rng)
        company = scheme_party(plan, rng, "contractor", "Stroy Group", registered,
                               registered_on=new_company_date(rng, sign_day))
        items = works_items(plan, rng, log_uniform(rng, 55_000_000 * KZT, 160_000_000 * KZT))
        while items_total(items) < P01_AMOUNT:
            items[0]["quantity"] = str(int(items[0]["quantity"]) + 1)
        contract = extra_works(plan, rng, plan.admin, company, items, sign_day)
    else:  # a contract of the akimat's own of 50 M KZT or more goes to the new company (C01 sees no change)
        options = [c for c in of_role(plan, "local") if c.amount >= P01_AMOUNT]
        if not options:
            return None
        contract = rng.choice(options)
        signed = contract.sign["at"]
        company = scheme_party(plan, rng, "contractor", "Stroy Group", register_before(plan, signed, rng),
                               registered_on=new_company_date(rng, signed.date()))
        replace_supplier(plan, contract, company)
    assert contract.amount >= P01_AMOUNT
    return truth(plan, "P01-new-company", transactions=[contract.sign["id"]], parties=[company.party],
                 contracts=[contract.contract],
                 note=f"{company.party}, registered on {company.registered_on}, gets {contract.contract}")


def _respelled_address(address: str) -> str:
    """The same address as people write it differently: case, 'street', 'of.' (P02 normalises)."""
    return address.upper().replace(" ST. ", " STREET ").replace(", OFFICE ", ", OF. ")


def _respelled_phone(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return f"8 ({digits[1:4]}) {digits[4:7]}-{digits[7:9]}-{digits[9:]}"


def shared_identifiers(plan: Plan, rng: random.Random) -> Truth | None:
    if plan.pilot == "ROAD":
        [main] = of_role(plan, "main")
        gc = main.supplier
        affiliate = scheme_party(plan, rng, "contractor", "Asphalt Service", register_before(plan, main.sign["at"], rng),
                                 directors=gc.directors)
        contract = subcontract(plan, rng, main, affiliate, (3, 8), sign_after=(20, 40))
        pair, shared = (gc, affiliate), f"director {gc.directors[0]}"
    elif plan.pilot == "LOCAL":
        other = rng.choice(of_role(plan, "local")).supplier
        affiliate, contract = _contract_for(plan, rng, {"kind": "contractor", "trade": "Kurylys Group",
                                                          "phone": _respelled_phone(other.phone)})
        pair, shared = (other, affiliate), f"phone {other.phone}"
    else:
        machine = rng.choice(of_role(plan, "machine"))
        dealer = machine.supplier
        day = plan.day(plan.start, 5, 45, rng)
        farmer = scheme_party(plan, rng, "farmer", "Farm", register_before(plan, plan.at(day, rng), rng),
                              address=_respelled_address(dealer.address), name=f"{REGIONS[dealer.region][1]} Agro Farm")
        contract = extra_machine(plan, rng, dealer, farmer=farmer, day=day)
        pair, shared = (dealer, farmer), f"address {dealer.address}"
    return truth(plan, "P02-shared-identifiers", transactions=[contract.sign["id"]], parties=[p.party for p in pair],
                 contracts=[contract.contract], note=f"{pair[0].party} and {pair[1].party} share {shared}")


def official_owns_supplier(plan: Plan, rng: random.Random) -> Truth | None:
    if not plan.admin.officials:
        return None
    official = rng.choice(plan.admin.officials)
    kind = "dealer" if plan.pilot == "AGRO" else "contractor"
    company, contract = _contract_for(plan, rng, {"kind": kind, "trade": "Invest", "directors": [official]})
    return truth(plan, "P03-official-owns-supplier", transactions=[contract.sign["id"]], parties=[company.party],
                 contracts=[contract.contract], note=f"{company.party} is directed by official {official}")


def mass_registration_address(plan: Plan, rng: random.Random) -> Truth | None:
    base = plan.index * 3 + ("ROAD", "AGRO", "LOCAL").index(plan.pilot)
    address = f"{REGIONS[plan.admin.region][1]}, Promzona-{base % 97 + 1} mkr, bld {base // 97 + 1}"
    kind = "dealer" if plan.pilot == "AGRO" else "contractor"
    company, contract = _contract_for(plan, rng, {"kind": kind, "trade": "Business Center", "address": address})
    registered = min(s["at"] for s in plan.steps if s["type"] == "register_party" and s["party"] == company.party)
    others = [scheme_party(plan, rng, rng.choice(("contractor", "supplier")), "Trade", registered, address=address)
              for _ in range(rng.randint(10, 13))]
    return truth(plan, "P04-mass-registration-address", transactions=[contract.sign["id"]], parties=[company.party],
                 contracts=[contract.contract], note=f"{company.party} shares its address with {len(others)} companies")


def dominant_supplier(plan: Plan, rng: random.Random) -> Truth | None:
    town = REGIONS[plan.admin.region][1]
    admin = scheme_party(plan, rng, "administrator", "", morning(plan.start, plan),
                         name=f"Akimat of {town} rural district no. {plan.index + 1}")
    replace_admin(plan, admin)
    contracts = of_role(plan, "local")
    dominant = max((c for c in contracts if c.sign["items"][0]["code"] != "LIVESTOCK"), key=lambda c: c.amount, default=None)
    if dominant is None:
        return None
    mean = sum(c.amount for c in contracts) // len(contracts)
    value, total = dominant.amount, sum(c.amount for c in contracts)
    won = [dominant]
    while len(plan.contracts) < 10 or value * 100 < 55 * total:
        items = works_items(plan, rng, mean * rng.randint(80, 120) // 100)
        contract = extra_works(plan, rng, admin, dominant.supplier, items, extra_sign_day(plan, rng))
        won.append(contract)
        value += contract.amount
        total += contract.amount
    return truth(plan, "C01-dominant-supplier", transactions=[c.sign["id"] for c in won],
                 parties=[dominant.supplier.party, admin.party], contracts=[c.contract for c in won],
                 note=f"{dominant.supplier.party} wins {len(won)} of the {len(plan.contracts)} contracts of {admin.party}")


SCHEMES = (
    Scheme("P01-new-company", ("P01",), ALL, new_company, "a company registered months ago gets 50 M KZT or more"),
    Scheme("P02-shared-identifiers", ("P02",), ALL, shared_identifiers,
           "two parties of one chain share a director, a phone or an address"),
    Scheme("P03-official-owns-supplier", ("P03",), ALL, official_owns_supplier,
           "the administrator contracts with a company directed by its own official"),
    Scheme("P04-mass-registration-address", ("P04",), ALL, mass_registration_address,
           "a supplier registered at an address shared by ten or more companies"),
    Scheme("C01-dominant-supplier", ("C01",), frozenset({"LOCAL"}), dominant_supplier,
           "one contractor wins most of a small akimat's contract value"),
)
