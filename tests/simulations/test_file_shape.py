"""A simulated file is valid interchange: every line parses, ids are unique and readable, parties
are registered before use, business times lie in fiscal year 2025 at +05:00/+06:00, amounts are
KZT strings of whole tiyn, VINs are valid, and `--transactions` sets the money-moving count."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime

import orjson

from ledger.interchange import parse_record
from simulations.identity import vin_check_ok
from simulations.plan import MONEY_TYPES
from simulations.runs import SimulatedWorld
from simulations.world import SimulationConfig

PROJECT_ID = re.compile(r"(ROAD|AGRO|LOCAL)-[0-9]{4,}-[A-Z][0-9]{4}")
PARTY_REFERENCES = ("party", "treasury", "administrator", "customer", "supplier", "from", "to", "payee", "beneficiary")


def test_every_line_parses_and_ids_are_unique_and_readable(clean_world: SimulatedWorld) -> None:
    records = clean_world.records
    commands = [parse_record(record) for record in records]  # raises on any malformed line
    assert len(commands) == len(records)
    ids = Counter(record["id"] for record in records)
    assert max(ids.values()) == 1
    moving = [r for r in records if r["type"] not in ("register_party", "set_reference_price")]
    assert all(PROJECT_ID.fullmatch(r["id"]) for r in moving)


def test_lines_are_compact_json_with_a_stable_key_order(clean_world: SimulatedWorld) -> None:
    for record in clean_world.records[:200]:
        assert list(record)[:3] == ["id", "type", "at"]
        assert orjson.loads(orjson.dumps(record)) == record


def test_parties_are_registered_in_january_before_any_use(clean_world: SimulatedWorld) -> None:
    registered: set[str] = set()
    for record in clean_world.records:
        if record["type"] == "register_party":
            assert record["at"].startswith("2025-01-")
            registered.add(record["party"])
            continue
        for field in PARTY_REFERENCES:
            if field in record:
                assert record[field] in registered, (record["id"], field)


def test_business_times_are_in_fiscal_year_2025_in_order(clean_world: SimulatedWorld) -> None:
    moments = [datetime.fromisoformat(record["at"]) for record in clean_world.records]
    assert all(m.year == 2025 for m in moments)
    assert {record["at"][-6:] for record in clean_world.records} == {"+05:00", "+06:00"}
    assert moments == sorted(moments)


def test_amounts_are_kzt_strings_vins_valid(clean_world: SimulatedWorld) -> None:
    amount = re.compile(r"[0-9]{1,15}\.[0-9]{2}")
    vins = [vin for record in clean_world.records for vin in record.get("assets", ())]
    assert vins and all(vin_check_ok(vin) for vin in vins)
    for record in clean_world.records:
        if "amount" in record:
            assert amount.fullmatch(record["amount"]), record


def test_transactions_sets_the_number_of_money_moving_records_roughly() -> None:
    for pilots in (("ROAD",), ("AGRO",), ("LOCAL",), ("ROAD", "AGRO", "LOCAL")):
        world = SimulatedWorld(SimulationConfig(pilots=pilots, seed=5, transactions=3_000))
        moving = sum(1 for record in world.records if record["type"] in MONEY_TYPES)
        assert 2_400 <= moving <= 3_600, (pilots, moving)
