"""What a misuse scheme is, and helpers schemes share.

A scheme is one small function `inject(plan, rng) -> Truth | None`: it changes or extends one
project's planned steps (`simulations.plan.Plan`) with its own random stream, and returns the
ground truth — which rules should flag it and which transactions, parties and contracts are
involved — or None when this project offers no place for it (the generator then tries another).

Writing a new scheme (see the modules next to this one for examples):
1. find what to change: `plan.contracts` (a `ContractPlan` per contract, with its `role`: main,
   sub, supply, machine, local, …, and its accept / payment steps), `plan.find(type=…, …)`;
2. change step dicts in place or add steps with `plan.add(type, at, …)`; amounts are tiyn or an
   amount rule (`Due`, `Window`, `ShareOfBalance`, `SameAs`) resolved when written; a step the
   ledger must block carries `_blocked` (the rejection expected) — it is written as planned;
3. keep everything else clean — the scheme should raise its own rules and nothing else; a new
   contract paid by the administrator needs `grow_allocation`, an onward payment made on purpose
   within 72 h of an inflow needs `_allow_fast` (or `finalize` delays it);
4. return `truth(plan, NAME, transactions=…, parties=…, contracts=…)` — only the ids that the
   flags should name; a flag counts as detecting the scheme when it shares one of them. A scheme
   that raises a second rule by its nature (a new shell company is also P01's business) declares
   it in `Scheme.rules`; when the second rule depends on the instance (P01 only from 50 M KZT),
   `truth(…, rules=…)` names the ones this instance raises;
5. register the `Scheme` in its module's `SCHEMES` (and the module in `simulations.schemes`).

Helpers for the parts schemes share:
- `scheme_party` registers a party of the scheme's own (a shell, an affiliate, an official's
  company, a fresh administrator) during the year, with identifiers no pool party has: BINs of
  companies registered in 2022–2025 (pool companies were registered 1998–2021), `Samal` addresses,
  phones from a range of their own;
- `extra_works` / `extra_machine`: one more contract carried out and paid like the clean ones;
- `subcontract`: a contract below an existing one, accepted stage by stage with its parent and
  paid after the parent's supplier is paid;
- `replace_admin`: the project's administrator becomes a fresh one (rules that judge an
  administrator's whole year — C01, L03 — see only this project then).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from domain.identifiers import PILOTS, make_party_id
from simulations.amounts import KZT, in_band, log_uniform
from simulations.identity import REGIONS, company_name, phone_for
from simulations.pilots.common import (
    final_day_for, item, items_total, near, out_of_band_items, pay, quantity_for, sign, works_contract,
)
from simulations.plan import ContractPlan, Due, Plan, Truth
from simulations.world import SCHEME_PROJECTS_MAX, Party


@dataclass(frozen=True)
class Scheme:
    """One kind of misuse: its name, the rules that should flag it, where it applies, how it is injected."""

    name: str
    rules: tuple[str, ...]
    pilots: frozenset[str]
    inject: Callable[[Plan, random.Random], Truth | None]
    summary: str

    def __post_init__(self) -> None:
        assert self.name and self.rules and self.pilots and self.summary, self.name


def truth(plan: Plan, scheme: Scheme | str, *, transactions: list[str], parties: list[str],
          contracts: list[str] = (), blocked: int = 0, note: str = "",  # type: ignore[assignment]
          rules: Sequence[str] | None = None) -> Truth:
    """The ground truth of a scheme instance in `plan`: the registered scheme's rules, or those of
    them named in `rules` (a rule this instance raises only by its size, like P01)."""
    from simulations.schemes import BY_NAME

    found = BY_NAME[scheme] if isinstance(scheme, str) else scheme
    chosen = found.rules if rules is None else tuple(r for r in found.rules if r in rules)
    assert chosen and (rules is None or set(rules) <= set(found.rules)), (found.name, rules)
    return Truth(found.name, chosen, plan.pilot, plan.code, plan.color, list(transactions), list(parties),
                 list(contracts), blocked, note)


def of_role(plan: Plan, *roles: str) -> list[ContractPlan]:
    """The plan's contracts of these roles, in signing order."""
    return [c for c in plan.contracts.values() if c.role in roles]


def grow_allocation(plan: Plan, extra: int) -> None:
    """More money for the administrator to pay a new or larger contract."""
    plan.allocation["amount"] += extra * 105 // 100


def first_inflow(plan: Plan, party: str) -> datetime | None:
    """When `party` first receives this color (a transfer or a release)."""
    reserved = {s["id"]: s["to"] for s in plan.steps if s["type"] == "reserve"}
    moments = [s["at"] for s in plan.steps
               if (s["type"] == "transfer" and s["to"] == party) or
               (s["type"] == "release" and reserved.get(s["reservation"]) == party)]
    return min(moments) if moments else None


def reprice(plan: Plan, contract: ContractPlan, items: list[dict[str, Any]]) -> int:
    """Give a contract new items (and so a new amount); acceptances scale with it, the allocation
    grows when the administrator pays. Returns the new amount."""
    old, new = contract.amount, items_total(items)
    while in_band(new, plan.pilot):  # stay out of F01's band: this scheme is about something else
        items[0]["quantity"] = str(int(items[0]["quantity"]) + 1)
        new = items_total(items)
    contract.sign["items"], contract.sign["amount"], contract.amount = items, new, new
    scale_accepts(contract, old, new)
    if contract.customer.party == plan.admin.party and new > old:
        grow_allocation(plan, new - old)
    return new


def scale_accepts(contract: ContractPlan, old: int, new: int, after: datetime | None = None) -> None:
    """Scale the contract's acceptances (those after `after`) so that they sum to `new`."""
    later = [a for a in contract.accepts if after is None or a["at"] > after]
    if not later:
        return
    before = old - sum(a["amount"] for a in later)
    target = new - before
    total = sum(a["amount"] for a in later)
    for a in later:
        a["amount"] = a["amount"] * target // total
    later[-1]["amount"] += target - sum(a["amount"] for a in later)



# --- parties of the scheme's own ---------------------------------------------------------------

SCHEME_PARTIES_MAX = 24  # per project
NEW_PARTIES_MAX = 12  # of which registered less than a year before (new companies)
P01_AMOUNT = 50_000_000 * KZT  # P01: a new company's first contract or inflow from this amount
L02_AMOUNT = 20_000_000 * KZT  # L02: works contracts from this amount must take 60 days or more
L02_AMOUNT_SAFE = 19_800_000 * KZT
L02_DAYS_SAFE = 62


def scheme_party(plan: Plan, rng: random.Random, kind: str, trade: str, at: datetime, *,
                 registered_on: date | None = None, address: str | None = None, phone: str | None = None,
                 directors: Sequence[str] = (), officials: Sequence[str] = (), name: str | None = None) -> Party:
    """Register a party of the scheme's own at `at` (a `register_party` step) and return it.

    `registered_on` None: a company registered in 2022 or 2023, old enough for P01. The BIN's
    year (22–25) sets it apart from every pool company (registered 1998–2021); its serial digits,
    type digit and year encode (project, slot), so scheme parties never share one either. Address
    and phone are unique unless given (a shared one is what some schemes are about)."""
    slot = plan.scheme_parties
    plan.scheme_parties += 1
    assert slot < SCHEME_PARTIES_MAX, "too many scheme parties in one project"
    base = plan.index * len(PILOTS) + PILOTS.index(plan.pilot)
    assert plan.index < SCHEME_PROJECTS_MAX and base < 250_000, base  # refused up front by World
    if registered_on is None:
        registered_on = date(2022 + slot // 12, rng.randint(1, 12), rng.randint(1, 28))
    else:
        assert slot < NEW_PARTIES_MAX and registered_on.year >= 2024, (slot, registered_on)
    region = plan.admin.region
    city = REGIONS[region][1]
    party_id = _scheme_bin(registered_on, 4 + (slot // 4) % 3, base + 250_000 * (slot % 4))
    party = Party("scheme", slot, party_id, name or company_name(rng, trade), kind, region, registered_on,
                  address or f"{city}, Samal-{base % 97 + 1} mkr, bld {base // 97 + 1}, of. {slot + 1}",
                  phone or (phone_for(1_000_000 + base * 8 + slot) if slot < 8 else None),
                  tuple(directors), tuple(officials))
    plan.add("register_party", at, **party.record_fields())
    return party


def _scheme_bin(registered_on: date, type_digit: int, serial: int) -> str:
    """A BIN `YYMM` + type digit + six serial digits + check; another month when a stem has no check digit."""
    for shift in range(12):
        month = (registered_on.month - 1 + shift) % 12 + 1
        made = make_party_id(f"{registered_on.year % 100:02d}{month:02d}{type_digit}{serial:06d}")
        if made:
            return made
    raise AssertionError(f"no BIN for {registered_on} {type_digit} {serial}")


def morning(day: date, plan: Plan) -> datetime:
    """7 o'clock on `day` in the project's offset: before the day's office hours (registrations)."""
    return datetime.combine(day, time(7), tzinfo=plan.tz)


def register_before(plan: Plan, moment: datetime, rng: random.Random, days: tuple[int, int] = (3, 20)) -> datetime:
    """A registration moment some days before `moment`, never before the project starts."""
    day = max(plan.start, moment.date() - timedelta(days=rng.randint(*days)))
    return morning(day, plan)


def new_company_date(rng: random.Random, first_use: date) -> date:
    """A registration date 60–300 days before `first_use` (P01: less than 365)."""
    return first_use - timedelta(days=rng.randint(60, 300))


def replace_admin(plan: Plan, admin: Party) -> None:
    """Make `admin` the project's administrator in every step (allocation, contracts, payments)."""
    old = plan.admin.party
    for step in plan.steps:
        for name in ("administrator", "customer", "from"):
            if step.get(name) == old:
                step[name] = admin.party
    for contract in plan.contracts.values():
        if contract.customer.party == old:
            contract.customer = admin
    plan.admin = admin


def replace_supplier(plan: Plan, contract: ContractPlan, supplier: Party) -> None:
    """`supplier` takes the place of the contract's supplier in every step of the project (it is
    paid under the contract, it spends, it pays its own suppliers)."""
    old = contract.supplier.party
    for step in plan.steps:
        for name in ("supplier", "customer", "to", "from", "beneficiary"):
            if step.get(name) == old:
                step[name] = supplier.party
    for other in plan.contracts.values():
        if other.supplier.party == old:
            other.supplier = supplier
        if other.customer.party == old:
            other.customer = supplier


# --- contracts of the scheme's own ---------------------------------------------------------------

def latest_final(plan: Plan) -> date:
    """The latest final acceptance a works contract of this pilot gets (paid before L04 looks)."""
    from simulations.pilots.local import LAST_FINAL
    from simulations.pilots.road import LAST_STAGE

    return LAST_STAGE if plan.pilot == "ROAD" else LAST_FINAL


def default_spends(plan: Plan) -> tuple[str, ...]:
    from simulations.pilots.local import CONTRACTOR_SPENDS
    from simulations.pilots.road import GC_SPENDS

    return GC_SPENDS if plan.pilot == "ROAD" else CONTRACTOR_SPENDS


def works_items(plan: Plan, rng: random.Random, target: int) -> list[dict[str, Any]]:
    """Items of a works contract worth about `target`, priced near their references (R01 silent)."""
    from simulations.pilots.local import PURPOSES
    from simulations.prices import reference

    options = (("EARTHWORKS", "m3"), ("DRAINAGE", "m"), ("ROAD-SIGNS", "pcs")) if plan.pilot == "ROAD" \
        else tuple((code, unit) for code, unit, _ in PURPOSES[:5])
    code, unit = rng.choice(options)
    price = near(rng, reference(code), 94, 106)
    return out_of_band_items([item(code, unit, quantity_for(target, price), price)], plan.pilot)


def extra_works(plan: Plan, rng: random.Random, customer: Party, supplier: Party, items: list[dict[str, Any]],
                sign_day: date, *, stages: tuple[int, int] = (1, 2), advance: bool = False,
                spend_count: int = 2, final_within: tuple[int, int] | None = None, method: str = "direct",
                role: str = "extra") -> ContractPlan:
    """One more works contract (ROAD, LOCAL), accepted, paid and spent on like the clean ones; the
    allocation grows when the administrator pays it. `final_within` (days after signing) makes
    the final acceptance that quick (L02's business)."""
    contract = sign(plan, customer, supplier, items, sign_day, role, method=method)
    if final_within is None:
        end = final_day_for(plan, sign_day, contract.amount, latest_final(plan), rng)
    else:
        end = plan.day(sign_day, *final_within, rng)
    works_contract(plan, contract, sign_day, end, stages=rng.randint(*stages), advance=advance,
                   spends=default_spends(plan), spend_count=spend_count)
    if customer.party == plan.admin.party:
        grow_allocation(plan, contract.amount)
    return contract


def extra_target(plan: Plan, rng: random.Random) -> int:
    """A modest amount for an extra works contract of the administrator: in LOCAL about the size of
    the akimat's other contracts (a small akimat's year is a few dozen M KZT, and one contract
    must not take half of it: C01)."""
    if plan.pilot == "ROAD":
        return log_uniform(rng, 25_000_000 * KZT, 120_000_000 * KZT)
    amounts = [c.amount for c in of_role(plan, "local")]
    return sum(amounts) // len(amounts) * rng.randint(60, 120) // 100


def extra_sign_day(plan: Plan, rng: random.Random) -> date:
    """When an extra contract of the administrator is signed: early enough to be carried out."""
    if plan.pilot == "ROAD":
        [main] = of_role(plan, "main")
        return plan.day(main.sign["at"].date(), 10, 40, rng)
    return plan.day(plan.start, 10, 45, rng)


def extra_machine(plan: Plan, rng: random.Random, dealer: Party, *, farmer: Party | None = None,
                  model: Any = None, price: int | None = None, serial: int = 14, day: date | None = None) -> ContractPlan:
    """One more subsidised machine (AGRO), with a VIN of the slots left for schemes."""
    from simulations.pilots.agro import VIN_STRIDE, machine_contract

    machines = of_role(plan, "machine")
    if model is None:
        from simulations.prices import MODELS

        model = MODELS[machines[0].sign["items"][0]["code"]]
    farmer = farmer or plan.world.party("agro_farmer", plan.index * 12 + rng.randrange(12))
    day = day or plan.day(plan.start, 5, 45, rng)
    contract = machine_contract(plan, dealer, farmer, model, VIN_STRIDE * plan.index + serial, day, price=price)
    grow_allocation(plan, contract.amount * 60 // 100)
    return contract


def inflows_under(plan: Plan, contract: ContractPlan) -> list[tuple[datetime, dict[str, Any]]]:
    """When the contract's supplier was paid under it: (moment, payment step), transfers and releases."""
    found = []
    for payment in contract.payments:
        if payment["type"] == "transfer":
            found.append((payment["at"], payment))
        else:
            found += [(s["at"], payment) for s in plan.find(type="release", reservation=payment["id"])]
    return sorted(found, key=lambda pair: pair[0])


def mirror_accepts(plan: Plan, parent: ContractPlan, child: ContractPlan, *, before: timedelta = timedelta(hours=2)) -> None:
    """The child contract's acceptances: one with each of the parent's, scaled to the child's amount,
    the last one final with evidence (the parent's works include the child's)."""
    from simulations.pilots.common import accept

    values = [a["amount"] * child.amount // parent.amount for a in parent.accepts]
    values[-1] += child.amount - sum(values)
    for n, (parent_accept, value) in enumerate(zip(parent.accepts, values, strict=True)):
        at = max(parent_accept["at"] - before, child.sign["at"] + timedelta(hours=1))
        accept(plan, child, value, at, final=n == len(values) - 1)


def subcontract(plan: Plan, rng: random.Random, parent: ContractPlan, supplier: Party, share: tuple[int, int], *,
                items: list[dict[str, Any]] | None = None, sign_after: tuple[int, int] = (1, 3),
                rule: Any = None, delay_days: tuple[int, int] = (5, 10), spends: bool = True) -> ContractPlan:
    """A contract from `parent`'s supplier to `supplier` for `share` % of the parent's amount: accepted
    with each of the parent's acceptances, paid (`rule`, default `Due`) some days after each time the
    parent's supplier is paid, and spent on by `supplier`."""
    from simulations.pilots.common import contractor_spends

    amount = parent.amount * rng.randint(*share) // 100
    sign_day = plan.day(parent.sign["at"].date(), *sign_after, rng)
    if parent.accepts[-1]["at"].date() - sign_day < timedelta(days=L02_DAYS_SAFE):
        amount = min(amount, L02_AMOUNT_SAFE)  # a quick final acceptance is L02's business only from 20 M KZT
    if items is None:
        items = [item("SUBCONTRACTED-WORKS", "lot", 1, amount)]
    child = sign(plan, parent.supplier, supplier, out_of_band_items(items, plan.pilot), sign_day, "sub", method="direct")
    if child.sign["at"] <= parent.sign["at"]:  # the customer must be a supplier under the color first
        child.sign["at"] = parent.sign["at"] + timedelta(minutes=30 + rng.randrange(90))
    mirror_accepts(plan, parent, child)
    last = None
    for moment, payment in inflows_under(plan, parent):
        kind = "advance" if payment.get("kind") == "advance" else "progress"
        if (kind == "advance" and rule is None) or (kind == "progress" and not any(a["at"] < moment for a in child.accepts)):
            continue  # `Due` pays no advance; nothing is due before the first acceptance
        at = plan.at(plan.day(moment.date(), *delay_days, rng), rng)
        pay(plan, child, at, rule or Due(60, 100), kind=kind)
        last = at
    if spends and last is not None:
        contractor_spends(plan, supplier, sign_day, last.date() + timedelta(days=30), default_spends(plan),
                          rng.randint(2, 4), (20, 50))
    return child
