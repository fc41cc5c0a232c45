"""Reads: as_of like the CLI's, cursors, the trace, a party, a transaction with provenance and proof."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ledger.app import Ledger
from ledger.integrity.audit import Audit
from ledger.integrity.checkpoints import load_private_key, write_key_pair
from tests.http.support import World
from tests.http.test_api_commands import MILLION_TIYN, position, transfer
from tests.support import color_id


def test_balances_as_of_a_position_and_a_time_answer_as_the_ledger_stood(client: TestClient, world: World) -> None:
    before = position(world)
    record = transfer(world, amount="10.00")
    assert client.post("/v1/commands", json=record, headers=world.auth("operator")).status_code == 201
    auditor = world.auth("auditor")
    admin = world.names["admin"]
    now = {r["party"]: r["balance_tiyn"] for r in client.get("/v1/balances", headers=auditor).json()["balances"]}
    then = client.get(f"/v1/balances?as_of=@{before}", headers=auditor).json()
    assert now[admin] == MILLION_TIYN - 1_000
    assert {r["party"]: r["balance_tiyn"] for r in then["balances"]}[admin] == MILLION_TIYN
    assert then["as_of"] == f"@{before}"
    by_time = client.get("/v1/balances", params={"as_of": "2025-03-01T10:00:00+05:00"}, headers=auditor).json()
    assert by_time["balances"] == []  # nothing was dated that early
    assert client.get("/v1/balances?as_of=yesterday", headers=auditor).status_code == 400


def test_the_color_list_pages_with_an_opaque_cursor_and_filters(client: TestClient, world: World) -> None:
    n = world.names
    second, third = color_id("ROAD", 2), color_id("AGRO", 3)
    for color in (second, third):
        allocate = world.script.allocate(color, n["treasury"], n["admin"], "10.00")
        assert client.post("/v1/commands", json=allocate, headers=world.auth("operator")).status_code == 201, color
    auditor = world.auth("auditor")
    first = client.get("/v1/colors?limit=2", headers=auditor).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = client.get("/v1/colors", params={"limit": 2, "cursor": first["next_cursor"]}, headers=auditor).json()
    listed = [c["color"] for c in first["items"] + rest["items"]]
    assert listed == sorted([n["color"], second, third]) and rest["next_cursor"] is None
    assert [c["color"] for c in client.get("/v1/colors?pilot=AGRO", headers=auditor).json()["items"]] == [third]
    assert client.get("/v1/colors?fiscal_year=2024", headers=auditor).json()["items"] == []
    assert client.get("/v1/colors?cursor=not-ours", headers=auditor).status_code == 400


def test_a_color_its_trace_and_history(client: TestClient, world: World) -> None:
    color, auditor = world.names["color"], world.auth("auditor")
    detail = client.get(f"/v1/colors/{color}", headers=auditor).json()
    assert detail["conservation"]["ok"] is True and detail["conservation"]["held_tiyn"] == MILLION_TIYN
    trace = client.get(f"/v1/colors/{color}/trace", headers=auditor).json()
    assert trace["color"] == color and trace["allocated_tiyn"] == MILLION_TIYN
    page = client.get(f"/v1/colors/{color}/trace?format=html", headers=auditor)
    assert page.headers["content-type"].startswith("text/html") and color in page.text
    history = client.get(f"/v1/colors/{color}/history", headers=auditor).json()
    assert [e["event"] for e in history["events"]] == ["FundsAllocated", "ContractSigned", "ContractSigned"]
    mistyped = color[:-2] + ("00" if not color.endswith("00") else "01")
    assert client.get(f"/v1/colors/{mistyped}", headers=auditor).status_code == 400
    assert client.get(f"/v1/colors/{color_id('ROAD', 9)}", headers=auditor).status_code == 404


def test_a_party_shows_every_color_and_flow_that_touches_it(client: TestClient, world: World) -> None:
    client.post("/v1/commands", json=transfer(world, amount="5.00"), headers=world.auth("operator"))
    party = client.get(f"/v1/parties/{world.names['contractor']}", headers=world.auth("auditor")).json()
    assert [c["color"] for c in party["colors"]] == [world.names["color"]]
    assert party["colors"][0]["balance_tiyn"] == 500
    assert [(f["from"], f["to"], f["amount_tiyn"]) for f in party["flows"]] == [(world.names["admin"], world.names["contractor"], 500)]


def test_a_transaction_has_its_provenance_and_once_checkpointed_its_inclusion_proof(client: TestClient, world: World,
                                                                                       tmp_path: Path) -> None:
    n = world.names
    pay = transfer(world, amount="7.00")
    spend = world.script.spend(n["color"], n["contractor"], "7.00")
    for record in (pay, spend):
        assert client.post("/v1/commands", json=record, headers=world.auth("operator")).status_code == 201
    auditor = world.auth("auditor")
    answer = client.get(f"/v1/transactions/{spend['id']}", headers=auditor).json()
    [provenance] = answer["provenance"]
    assert provenance["spend"]["paths"][0]["transactions"][-2:] == [pay["id"], spend["id"]]
    assert answer["proof"] is None and "checkpoint" in answer["proof_problem"]
    assert client.get(f"/v1/transactions/{spend['id']}/proof", headers=auditor).status_code == 409
    private, _public = write_key_pair(tmp_path / "ledger-key")
    signer = Ledger(world.url, actor="dana")
    try:
        Audit(signer).make_checkpoint(load_private_key(private))
    finally:
        signer.close()
    proof = client.get(f"/v1/transactions/{spend['id']}/proof", headers=auditor)
    assert proof.status_code == 200 and proof.json()["transaction"] == spend["id"]
    assert client.get("/v1/checkpoints", headers=auditor).json()[0]["number"] == 1


@pytest.mark.parametrize("rule", ["L04", "l04"])
def test_flags_filter_by_rule_and_page(client: TestClient, world: World, rule: str) -> None:
    auditor = world.auth("auditor")
    flags = client.get("/v1/flags", params={"rule": rule, "limit": 1}, headers=auditor).json()
    assert flags["items"] and all(f["rule"] == "L04" for f in flags["items"])
    assert client.get("/v1/flags?rule=Z99", headers=auditor).status_code == 400
