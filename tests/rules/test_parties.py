"""P01–P04 and C01 (projections/rules/p0*_*.py, c01_*.py) on one-change variants of the baseline world.

Each positive case is one minimal change to `Baseline`; its negative is the same change just across
the threshold. Only this family's flags are looked at, so the other families can change freely.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ledger.app import Ledger
from projections.rules.registry import REGISTRY
from projections.rules.config import default_config, load_config
from projections.rules.engine import RuleEngine
from projections.rules.world import normalize_address, normalize_phone
from tests.rules.baseline import Baseline
from tests.support import color_id, party_id

FAMILY = ("P01", "P02", "P03", "P04", "C01")


# --- helpers ------------------------------------------------------------------------------------

def mine(flags: list[dict[str, Any]], code: str) -> list[dict[str, Any]]:
    return [flag for flag in flags if flag["rule"] == code]


def family(flags: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [flag for flag in flags if flag["rule"] in FAMILY]


def flags_of(world: Baseline, code: str, **kw: Any) -> list[dict[str, Any]]:
    flags = world.flags(**kw)
    assert world.unexpected == [], [(o.command_id, o.status, getattr(o, "detail", "")) for o in world.unexpected]
    return mine(flags, code)


def move_before(world: Baseline, record: dict[str, Any], before: str) -> dict[str, Any]:
    """Move an appended record so it runs right before record `before` (keeps business time in order)."""
    world.script.records.remove(record)
    world.script.records.insert(world.script.records.index(world.record(before)), record)
    return record


def insert(world: Baseline, before: str, type_: str, id: str, date: str, **fields: Any) -> dict[str, Any]:
    return move_before(world, world.add(type_, id, date, **fields), before)


def register(world: Baseline, key: str, number: int, kind: str, name: str, **fields: Any) -> str:
    """A new party registered with the baseline's parties (2025-01-10)."""
    world.party(key, number, kind, name, **fields)
    move_before(world, world.record(f"P-{key}"), "RP-ASPHALT")
    return world.n[key]


def one_item(amount: str, code: str = "WORKS", unit: str = "lot") -> list[dict[str, str]]:
    return [{"code": code, "unit": unit, "quantity": "1", "unit_price": amount}]


def person(number: int) -> str:
    return party_id(number, person=True)


def chunked_flags(world: Baseline, split: int, rules: Any = None) -> list[dict[str, Any]]:
    """The world's flags when the ledger runs the first `split` commands, catches up, then the rest."""
    commands = world.commands()
    ledger = Ledger("memory://")
    read = ledger.read_side(rules)
    ledger.execute(commands[:split])
    read.catch_up()
    ledger.execute(commands[split:])
    now = read.catch_up()
    return read.flags(now, now, None)


def engine_flags(world: Baseline, *, restore_every_event: bool) -> list[dict[str, Any]]:
    """This family's flags from a bare engine, optionally saved and restored before every event."""
    ledger = world.run()
    notifications = ledger.recorder.select_notifications(start=1, limit=100_000)
    config = default_config()
    engine = RuleEngine(config, [REGISTRY.rule(code)(config) for code in FAMILY])
    documents: list[dict[str, Any]] = []
    for notification in notifications:
        if restore_every_event:
            blob = engine.dump()
            engine = RuleEngine(config, [REGISTRY.rule(code)(config) for code in FAMILY])
            engine.load(blob)
        documents += [flag.document() for flag in engine.process(notification.id, ledger.mapper.to_domain_event(notification))]
    return documents


def thresholds(tmp_path: Any, text: str) -> Any:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_the_family_is_in_the_catalog_and_covers_every_pilot() -> None:
    assert set(FAMILY) <= set(REGISTRY.codes)
    assert all(REGISTRY.rule(code).pilots == frozenset({"ROAD", "AGRO", "LOCAL"}) for code in FAMILY)


def test_the_baseline_is_clean_for_this_family() -> None:
    world = Baseline()
    assert family(world.flags()) == []
    assert family(Baseline().flags(as_of="2026-02-01T00:00:00+05:00")) == []


# --- normalisation -------------------------------------------------------------------------------

def test_address_spellings_normalise_to_one_address() -> None:
    assert normalize_address("Astana, Abay St. 10") == normalize_address("astana abay street 10") == "astana abay st 10"
    assert normalize_address("г. Астана, ул. Абая, 10") == normalize_address("Астана улица Абая 10")
    assert normalize_address("Astana, Abay St. 10") != normalize_address("Astana, Abay St. 11")


def test_phone_spellings_normalise_to_one_phone() -> None:
    assert normalize_phone("+7 (7172) 55-01-20") == normalize_phone("87172550120") == "77172550120"
    assert normalize_phone("+7 (7172) 55-01-20") != normalize_phone("87172550121")


# --- P01 new company, large money ------------------------------------------------------------------

def p01_contract(registered_on: str = "2024-03-12") -> Baseline:
    """The bitumen supplier was registered 364 days before its first contract (337 952 000.00 KZT)."""
    world = Baseline()
    world.replace("P-M1", registered_on=registered_on)
    return world


def test_p01_first_contract_soon_after_registration() -> None:
    world = p01_contract()
    [flag] = flags_of(world, "P01")
    assert flag["transactions"] == ["K-ROAD-BIT"] and flag["contracts"] == ["C-ROAD-BIT"]
    assert flag["parties"] == [world.n["M1"], world.n["C1"]]
    assert flag["evidence"]["age_days"] == 364 and flag["evidence"]["amount_tiyn"] == 33795200000
    assert flag["evidence"]["trigger"] == "contract" and flag["pilot"] == "ROAD" and flag["color"] == world.n["ROAD"]
    assert "364 days" in flag["explanation"] and "337952000.00 KZT" in flag["explanation"]
    assert "< 365 days" in flag["explanation"] and "50000000.00 KZT" in flag["explanation"]


def test_p01_silent_at_365_days() -> None:
    assert flags_of(p01_contract("2024-03-11"), "P01") == []


def test_p01_silent_without_a_registration_date() -> None:
    world = Baseline()
    world.replace("P-M1", registered_on=None)
    assert flags_of(world, "P01") == []


def p01_local(amount: str) -> Baseline:
    """The LOCAL contractor is new; its first contract is exactly `amount`."""
    world = Baseline()
    world.replace("P-L1", registered_on="2024-12-01")
    world.replace("K-LOCAL-1", amount=amount, items=one_item(amount))
    return world


def test_p01_amount_is_inclusive() -> None:
    [flag] = flags_of(p01_local("50000000.00"), "P01")
    assert flag["pilot"] == "LOCAL" and flag["contracts"] == ["C-LOCAL-1"] and flag["evidence"]["amount_tiyn"] == 5_000_000_000
    assert flags_of(p01_local("49999999.99"), "P01") == []


def p01_inflow(amount: str, via: str = "transfer") -> Baseline:
    """A new contractor's first contract is small (40 M), amended to 60 M; its first inflow is `amount`."""
    world = Baseline()
    n = world.n
    new = register(world, "N1", 101, "contractor", "Zhas Kurylys", registered_on="2025-01-05")
    world.add("sign_contract", "K-NEW", "2025-07-01", contract="C-NEW", color=n["ROAD"], customer=n["A1"], supplier=new,
              amount="40000000.00", items=one_item("40000000.00"))
    world.add("amend_contract", "AM-NEW", "2025-07-10", contract="C-NEW", amount="60000000.00")
    world.add("accept", "AC-NEW", "2025-07-15", contract="C-NEW", amount="55000000.00")
    payment = {"color": n["ROAD"], "from_": n["A1"], "to": new, "amount": amount, "contract": "C-NEW", "kind": "progress"}
    if via == "transfer":
        world.add("transfer", "T-NEW", "2025-07-20", **payment)
    else:
        world.add("reserve", "R-NEW", "2025-07-20", **payment)
        world.add("release", "T-NEW", "2025-07-22", reservation="R-NEW")
    return world


@pytest.mark.parametrize("via", ["transfer", "release"])
def test_p01_first_inflow_soon_after_registration(via: str) -> None:
    world = p01_inflow("50000000.00", via)
    [flag] = flags_of(world, "P01")
    assert flag["transactions"] == ["T-NEW"] and flag["contracts"] == ["C-NEW"]
    assert flag["parties"] == [world.n["N1"], world.n["A1"]]
    assert flag["evidence"]["trigger"] == "inflow" and flag["evidence"]["amount_tiyn"] == 5_000_000_000
    assert "first colored inflow T-NEW" in flag["explanation"]
    assert flags_of(p01_inflow("49999999.99", via), "P01") == []


def test_p01_only_the_first_contract_counts() -> None:
    """A second, large contract of a young supplier is not P01's (its first was small)."""
    world = p01_inflow("10000000.00")
    n = world.n
    world.add("sign_contract", "K-NEW-2", "2025-08-01", contract="C-NEW-2", color=n["ROAD"], customer=n["A1"], supplier=n["N1"],
              amount="90000000.00", items=one_item("90000000.00"))
    assert flags_of(world, "P01") == []


def test_p01_custom_thresholds_move_the_boundary_per_pilot(tmp_path: Any) -> None:
    assert flags_of(p01_contract("2024-03-11"), "P01", rules=thresholds(tmp_path, "[P01]\nage_days = 366\n"))
    agro = Baseline()
    agro.replace("P-DL1", registered_on="2024-12-01")  # its first contract: 39 150 000.00 KZT
    assert flags_of(agro, "P01") == []
    [flag] = flags_of(agro, "P01", rules=thresholds(tmp_path, '[P01.AGRO]\namount_min_kzt = "39150000"\n'))
    assert flag["pilot"] == "AGRO" and flag["contracts"] == ["C-AGRO-1"]
    assert flags_of(agro, "P01", rules=thresholds(tmp_path, '[P01.ROAD]\namount_min_kzt = "39150000"\n')) == []


# --- P02 shared identifiers ------------------------------------------------------------------------

def p02_subcontractor(**changes: Any) -> Baseline:
    """The contractor and its subcontractor, otherwise independent, get the given identifiers."""
    world = Baseline()
    world.replace("P-C1", **{k: v[0] for k, v in changes.items()})
    world.replace("P-S1", **{k: v[1] for k, v in changes.items()})
    return world


def test_p02_contractor_and_subcontractor_share_an_address_spelled_differently() -> None:
    world = p02_subcontractor(address=("Astana, Abay St. 10", "astana abay street 10"))
    [flag] = flags_of(world, "P02")
    assert flag["contracts"] == ["C-ROAD-SUB"] and flag["transactions"] == ["K-ROAD-SUB"]
    assert flag["parties"] == [world.n["C1"], world.n["S1"]] and flag["severity"] == "medium"
    assert flag["evidence"]["shared"] == ["address"] and flag["evidence"]["address"] == "astana abay st 10"
    assert "astana abay st 10" in flag["explanation"] and "C-ROAD-SUB" in flag["explanation"]


def test_p02_silent_on_a_neighbouring_address() -> None:
    assert flags_of(p02_subcontractor(address=("Astana, Abay St. 10", "astana abay street 11")), "P02") == []


def test_p02_phone_spelled_differently() -> None:
    [flag] = flags_of(p02_subcontractor(phone=("+7 (7172) 55-01-20", "87172550120")), "P02")
    assert flag["evidence"]["shared"] == ["phone"] and flag["evidence"]["phone"] == "77172550120"
    assert flags_of(p02_subcontractor(phone=("+7 (7172) 55-01-20", "87172550121")), "P02") == []


def test_p02_shared_director_and_owner_are_high() -> None:
    world = Baseline()
    d1 = world.n["D1"]
    world.replace("P-S1", directors=[d1])
    [flag] = flags_of(world, "P02")
    assert flag["evidence"]["shared"] == [f"director {d1}"] and flag["severity"] == "high"
    owner = person(950)
    [flag] = flags_of(p02_subcontractor(owners=([owner], [owner])), "P02")
    assert flag["evidence"]["shared"] == [f"owner {owner}"] and flag["contracts"] == ["C-ROAD-SUB"]


def test_p02_dealer_and_beneficiary_share_a_phone() -> None:
    world = Baseline()
    world.replace("P-F1", phone="8 7172 080008")  # the dealer's phone is +7 7172 080 008
    [flag] = flags_of(world, "P02")
    assert flag["pilot"] == "AGRO" and flag["contracts"] == ["C-AGRO-1"] and flag["transactions"] == ["K-AGRO-1"]
    assert flag["parties"] == [world.n["DL1"], world.n["F1"]] and "dealer and beneficiary" in flag["explanation"]


def test_p02_two_suppliers_of_one_customer_under_one_color() -> None:
    world = Baseline()
    world.replace("P-M1", address="astana asphalt beton kokshetau street 6")  # S1: "Astana, Asphalt Beton Kokshetau st. 6"
    [flag] = flags_of(world, "P02")
    assert flag["contracts"] == ["C-ROAD-SUB", "C-ROAD-BIT"] and flag["transactions"] == ["K-ROAD-SUB", "K-ROAD-BIT"]
    assert flag["parties"] == [world.n["S1"], world.n["M1"], world.n["C1"]]
    assert flag["evidence"]["shared"] == ["address"]


def test_p02_silent_for_parties_in_no_common_chain() -> None:
    world = Baseline()
    world.replace("P-L1", address="astana asphalt beton kokshetau street 6")  # LOCAL contractor, S1's address
    assert flags_of(world, "P02") == []


def test_p02_an_update_that_creates_the_shared_identifier_is_caught() -> None:
    world = Baseline()
    world.add("update_party", "U-S1", "2025-07-01", party=world.n["S1"], address="Astana, KazDorStroy street 5")
    [flag] = flags_of(world, "P02")
    assert flag["transactions"] == ["K-ROAD-SUB", "U-S1"] and flag["contracts"] == ["C-ROAD-SUB"]
    assert flag["at"].startswith("2025-07-01") and "U-S1" in flag["explanation"]


def test_p02_an_update_between_co_suppliers_is_caught() -> None:
    world = Baseline()
    world.add("update_party", "U-M1", "2025-07-01", party=world.n["M1"], directors=[world.n["D2"]])
    [flag] = flags_of(world, "P02")
    assert flag["transactions"] == ["K-ROAD-SUB", "K-ROAD-BIT", "U-M1"] and flag["severity"] == "high"


def test_p02_an_update_outside_any_chain_is_silent() -> None:
    world = Baseline()
    world.add("update_party", "U-L1", "2025-07-01", party=world.n["L1"], address="Astana, KazDorStroy street 5")
    assert flags_of(world, "P02") == []


def test_p02_a_beneficiary_registered_after_the_contract_is_checked_then() -> None:
    world = Baseline()
    farmer = party_id(120)
    world.replace("K-AGRO-1", beneficiary=farmer)
    world.add("register_party", "P-F2", "2025-07-01", party=farmer, name="Late Farm", kind="farmer",
              registered_on="2010-01-01", phone="87172080008")
    [flag] = flags_of(world, "P02")
    assert flag["transactions"] == ["K-AGRO-1", "P-F2"] and flag["parties"] == [world.n["DL1"], farmer]


# --- P03 conflict of interest ----------------------------------------------------------------------

def test_p03_official_directs_the_contractor() -> None:
    world = Baseline()
    o1 = world.n["O1"]
    world.replace("P-C1", directors=[o1])
    [flag] = flags_of(world, "P03")
    assert flag["transactions"] == ["K-ROAD-1"] and flag["contracts"] == ["C-ROAD-1"] and flag["severity"] == "high"
    assert flag["parties"] == [world.n["C1"], world.n["A1"], o1]
    assert flag["evidence"]["roles"] == {o1: "director"} and o1 in flag["explanation"]


def test_p03_silent_for_an_official_of_another_administrator() -> None:
    world = Baseline()
    world.replace("P-C1", directors=[world.n["O2"]])  # O2 approves AGRO payments, not ROAD
    world.replace("P-L1", owners=[world.n["O1"]])  # O1 approves ROAD payments; L1 is paid under LOCAL
    assert flags_of(world, "P03") == []


def test_p03_through_an_owning_company() -> None:
    world = Baseline()
    holding = register(world, "H1", 130, "supplier", "Sary Holding", directors=[world.n["O1"]])
    world.replace("P-C1", owners=[holding])
    [flag] = flags_of(world, "P03")
    assert flag["evidence"]["roles"] == {world.n["O1"]: f"director of its owner {holding}"}
    assert flag["contracts"] == ["C-ROAD-1"]


def test_p03_subcontractor_receiving_the_color() -> None:
    world = Baseline()
    world.replace("P-S1", owners=[world.n["O1"]])
    [flag] = flags_of(world, "P03")
    assert flag["contracts"] == ["C-ROAD-SUB"] and flag["parties"] == [world.n["S1"], world.n["A1"], world.n["O1"], world.n["C1"]]


def test_p03_on_a_transfer_after_the_official_joined() -> None:
    world = Baseline()
    insert(world, "T-ROAD-ADV", "update_party", "U-C1", "2025-02-25", party=world.n["C1"], directors=[world.n["O1"]])
    [flag] = flags_of(world, "P03")
    assert flag["transactions"] == ["T-ROAD-ADV"] and "295760261.33 KZT" in flag["explanation"]


def test_p03_on_a_release_after_the_official_joined() -> None:
    world = Baseline()
    insert(world, "RL-ROAD-1", "update_party", "U-C1", "2025-06-03", party=world.n["C1"], directors=[world.n["O1"]])
    [flag] = flags_of(world, "P03")
    assert flag["transactions"] == ["RL-ROAD-1"] and flag["contracts"] == ["C-ROAD-1"]


def test_p03_in_agro() -> None:
    world = Baseline()
    world.replace("P-DL1", owners=[world.n["O2"]])
    [flag] = flags_of(world, "P03")
    assert flag["pilot"] == "AGRO" and flag["contracts"] == ["C-AGRO-1"]


def test_p03_the_official_as_the_supplier_itself() -> None:
    world = Baseline()
    official = world.n["O1"]
    insert(world, "RP-ASPHALT", "register_party", "P-O1", "2025-01-10", party=official, name="Ermek Official", kind="individual")
    world.add("sign_contract", "K-O1", "2025-07-01", contract="C-O1", color=world.n["ROAD"], customer=world.n["A1"],
              supplier=official, amount="2345678.91", items=one_item("2345678.91"))
    [flag] = flags_of(world, "P03")
    assert flag["evidence"]["roles"] == {official: "the party itself"} and flag["contracts"] == ["C-O1"]


# --- P04 mass-registration address ------------------------------------------------------------------

SPELLINGS = ("Astana, Bitum Trade st. {n}", "astana bitum trade street {n}", "ASTANA BITUM TRADE STR {n}")


def shells(world: Baseline, addresses: list[str], *, before: str = "RP-ASPHALT", date: str = "2025-01-10") -> None:
    """One shell company registered at each address, right before record `before`."""
    for i, address in enumerate(addresses):
        insert(world, before, "register_party", f"P-SHELL-{i}", date, party=party_id(200 + i), name=f"Shell {i}",
               kind="supplier", registered_on="2020-01-01", address=address)


def p04(count: int) -> Baseline:
    """`count` shell companies registered at the bitumen supplier's address (spelled variously)."""
    world = Baseline()
    shells(world, [SPELLINGS[i % 3].format(n=7) for i in range(count)])
    return world


def test_p04_payee_at_a_mass_registration_address() -> None:
    world = p04(10)
    [flag] = flags_of(world, "P04")
    assert flag["transactions"] == ["T-ROAD-BIT"] and flag["contracts"] == ["C-ROAD-BIT"]
    assert flag["parties"] == [world.n["M1"], world.n["C1"]]
    assert flag["evidence"]["other_parties_count"] == 10 and flag["evidence"]["address"] == "astana bitum trade st 7"
    assert flag["evidence"]["other_parties"] == sorted(party_id(200 + i) for i in range(10))
    assert "10 other registered parties (threshold ≥ 10)" in flag["explanation"]


def test_p04_the_payee_itself_does_not_count() -> None:
    """Ten parties at the address, the payee among them: nine others, below ≥ 10."""
    assert flags_of(p04(9), "P04") == []


def test_p04_liquidated_parties_still_count() -> None:
    world = p04(10)
    insert(world, "RP-ASPHALT", "update_party", "U-SHELL-0", "2025-01-11", party=party_id(200), status="liquidated")
    assert len(flags_of(world, "P04")) == 1


def test_p04_on_a_release_only_once_the_address_is_crowded() -> None:
    world = Baseline()
    shells(world, ["astana kazdorstroy street 5"] * 10, before="RL-ROAD-1", date="2025-06-03")
    [flag] = flags_of(world, "P04")
    assert flag["transactions"] == ["RL-ROAD-1"] and flag["parties"] == [world.n["C1"], world.n["A1"]]


def test_p04_in_agro_and_with_a_custom_threshold(tmp_path: Any) -> None:
    world = Baseline()
    shells(world, ["Astana, Agro Technika Dealer st. 8"] * 9)
    assert flags_of(world, "P04") == []
    [flag] = flags_of(world, "P04", rules=thresholds(tmp_path, "[P04.AGRO]\nparties_min_count = 9\n"))
    assert flag["pilot"] == "AGRO" and flag["transactions"] == ["RL-AGRO-1"]


# --- C01 supplier dominance -------------------------------------------------------------------------

C1_ROAD_TIYN = 147_880_130_665  # the baseline's C-ROAD-1


def c01(others_tiyn: list[int], *, date: str = "2025-07-01", color: str | None = None, customer: str = "A1") -> Baseline:
    """The administrator signs one more contract per amount, each with a new supplier."""
    world = Baseline()
    for i, tiyn in enumerate(others_tiyn):
        supplier = register(world, f"N{i}", 140 + i, "contractor", f"Kurylys {i}")
        amount = f"{tiyn // 100}.{tiyn % 100:02d}"
        world.add("sign_contract", f"K-N{i}", date, contract=f"C-N{i}", color=color or world.n["ROAD"],
                  customer=world.n[customer], supplier=supplier, amount=amount,
                  items=one_item(amount))
    return world


def split(total: int, parts: int) -> list[int]:
    q, r = divmod(total, parts)
    return [q] * (parts - 1) + [q + r]


def test_c01_exactly_half_with_ten_contracts() -> None:
    world = c01(split(C1_ROAD_TIYN, 9))
    [flag] = flags_of(world, "C01")
    assert flag["contracts"] == ["C-ROAD-1"] and flag["transactions"] == ["K-ROAD-1"]
    assert flag["parties"] == [world.n["C1"], world.n["A1"]] and flag["at"].startswith("2025-07-01")
    ev = flag["evidence"]
    assert ev["share"] == "0.5" and ev["supplier_tiyn"] == C1_ROAD_TIYN and ev["total_tiyn"] == 2 * C1_ROAD_TIYN
    assert ev["contracts_count"] == 10 and ev["fiscal_year"] == 2025
    assert "50 %" in flag["explanation"] and "1478801306.65 KZT" in flag["explanation"]


def test_c01_silent_just_below_half() -> None:
    assert flags_of(c01(split(C1_ROAD_TIYN + 1, 9)), "C01") == []


def test_c01_needs_more_than_nine_contracts() -> None:
    small = [123_456_789] * 9
    assert len(flags_of(c01(small), "C01")) == 1
    assert flags_of(c01(small[:8]), "C01") == []


def test_c01_an_amendment_raising_the_leader() -> None:
    world = c01(split(C1_ROAD_TIYN + 1, 9))
    world.add("amend_contract", "AM-ROAD-1", "2025-08-01", contract="C-ROAD-1", amount="1478801306.67")
    [flag] = flags_of(world, "C01")
    assert flag["transactions"] == ["K-ROAD-1", "AM-ROAD-1"] and flag["at"].startswith("2025-08-01")


def test_c01_an_amendment_lowering_another_supplier() -> None:
    world = c01(split(C1_ROAD_TIYN + 1, 9))
    amount = split(C1_ROAD_TIYN + 1, 9)[0] - 2
    world.add("amend_contract", "AM-N0", "2025-08-01", contract="C-N0", amount=f"{amount // 100}.{amount % 100:02d}")
    [flag] = flags_of(world, "C01")
    assert flag["parties"][0] == world.n["C1"] and flag["transactions"] == ["K-ROAD-1", "AM-N0"]


def test_c01_the_leader_falling_back_makes_the_runner_up_dominant() -> None:
    """N8 leads with 49.9 %; cut back, it leaves the kazdorstroy contract with ≥ 50 %."""
    world = c01([123_456_789] * 8 + [148_000_000_000])
    assert flags_of(world, "C01") == []
    world.add("amend_contract", "AM-N8", "2025-08-01", contract="C-N8", amount="1000000000.00")
    [flag] = flags_of(world, "C01")
    assert flag["parties"][0] == world.n["C1"] and flag["transactions"] == ["K-ROAD-1", "AM-N8"]


def test_c01_subcontracts_do_not_count() -> None:
    """Nine contracts signed by the contractor (not the administrator) leave the administrator with one."""
    world = c01([123_456_789] * 9, customer="C1")
    assert flags_of(world, "C01") == []


def allocate_to_a1(world: Baseline, pilot: str, fiscal_year: int, date: str) -> str:
    color = color_id(pilot, 124, fiscal_year=fiscal_year, program=299)
    world.add("allocate", f"A-{pilot}-{fiscal_year}", date, color=color, program="299", purpose="second program",
              amount="2000000000.00", treasury=world.n["T"], administrator=world.n["A1"], expires_on=f"{fiscal_year}-12-31")
    return color


def test_c01_fiscal_year_of_the_signing_date() -> None:
    def world_signing_on(date: str) -> Baseline:
        world = Baseline()
        color = allocate_to_a1(world, "ROAD", 2026, "2025-12-01")
        return _with_contracts(world, color, date)

    [flag] = flags_of(world_signing_on("2025-12-10"), "C01")  # signed in 2025 under a FY2026 color
    assert flag["evidence"]["fiscal_year"] == 2025
    assert flags_of(world_signing_on("2026-01-10"), "C01") == []


def test_c01_groups_by_pilot() -> None:
    """The same administrator's LOCAL contracts do not join its ROAD year."""
    world = Baseline()
    color = allocate_to_a1(world, "LOCAL", 2025, "2025-06-25")
    assert flags_of(_with_contracts(world, color, "2025-07-01"), "C01") == []


def _with_contracts(world: Baseline, color: str, date: str) -> Baseline:
    for i in range(9):
        supplier = register(world, f"N{i}", 140 + i, "contractor", f"Kurylys {i}")
        world.add("sign_contract", f"K-N{i}", date, contract=f"C-N{i}", color=color, customer=world.n["A1"],
                  supplier=supplier, amount="1234567.89", items=one_item("1234567.89"))
    return world


def test_c01_in_agro() -> None:
    world = Baseline()
    for i in range(9):
        dealer = register(world, f"N{i}", 140 + i, "dealer", f"Dealer {i}")
        world.add("sign_contract", f"K-N{i}", "2025-07-01", contract=f"C-N{i}", color=world.n["AGRO"], customer=world.n["A2"],
                  supplier=dealer, amount="1234567.89", items=one_item("1234567.89", "SEEDER", "pcs"))
    [flag] = flags_of(world, "C01")
    assert flag["pilot"] == "AGRO" and flag["parties"] == [world.n["DL1"], world.n["A2"]]


def test_c01_custom_thresholds(tmp_path: Any) -> None:
    below_half = c01(split(C1_ROAD_TIYN + 1, 9))
    assert len(flags_of(below_half, "C01", rules=thresholds(tmp_path, '[C01]\nshare = "0.49"\n'))) == 1
    nine = c01([123_456_789] * 8)
    assert len(flags_of(nine, "C01", rules=thresholds(tmp_path, "[C01.ROAD]\ncontracts_min_count = 9\n"))) == 1
    assert flags_of(nine, "C01", rules=thresholds(tmp_path, "[C01.AGRO]\ncontracts_min_count = 9\n")) == []


# --- incremental equals one run ------------------------------------------------------------------------

def _p02_update() -> Baseline:
    world = Baseline()
    world.add("update_party", "U-S1", "2025-07-01", party=world.n["S1"], address="Astana, KazDorStroy street 5")
    world.replace("P-M1", address="astana asphalt beton kokshetau street 6")
    return world


def _p03_release() -> Baseline:
    world = Baseline()
    insert(world, "RL-ROAD-1", "update_party", "U-C1", "2025-06-03", party=world.n["C1"], directors=[world.n["O1"]])
    return world


def _c01_amended() -> Baseline:
    world = c01([123_456_789] * 8 + [148_000_000_000])
    world.add("amend_contract", "AM-N8", "2025-08-01", contract="C-N8", amount="1000000000.00")
    return world


WORLDS: dict[str, Callable[[], Baseline]] = {
    "P01": lambda: p01_inflow("50000000.00", "release"),
    "P02": _p02_update,
    "P03": _p03_release,
    "P04": lambda: p04(10),
    "C01": _c01_amended,
}


@pytest.mark.parametrize("code", FAMILY)
def test_chunked_run_gives_the_flags_of_one_run(code: str) -> None:
    world = WORLDS[code]()
    whole = mine(world.flags(), code)
    assert whole, "the world must raise the rule"
    count = len(world.commands())
    for at in sorted({count // 3, count // 2, count - 3, count - 1}):
        assert mine(chunked_flags(world, at), code) == whole, at


@pytest.mark.parametrize("code", FAMILY)
def test_engine_saved_and_restored_before_every_event_gives_the_same_flags(code: str) -> None:
    world = WORLDS[code]()
    whole = engine_flags(world, restore_every_event=False)
    assert mine(whole, code)
    assert engine_flags(world, restore_every_event=True) == whole

