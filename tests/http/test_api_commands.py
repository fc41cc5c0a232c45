"""POST /v1/commands and /v1/commands/batch: status codes, idempotency, balances, batches."""

from __future__ import annotations

import sqlite3

import orjson
from fastapi.testclient import TestClient

from ledger.app import Ledger
from ledger.http.app import create_app
from ledger.http.settings import Settings
from tests.http.support import World

MILLION_TIYN = 100_000_000  # the world's allocation, 1 000 000.00 KZT


def position(world: World) -> int:
    ledger = Ledger(world.url)
    try:
        return ledger.position()
    finally:
        ledger.close()


def transfer(world: World, amount: str = "250.00", **kw: object) -> dict[str, object]:
    n = world.names
    return world.script.transfer(n["color"], n["admin"], n["contractor"], amount, contract="C-1", **kw)


def test_an_applied_transfer_is_201_with_the_holders_balances_before_and_after(client: TestClient, world: World) -> None:
    answer = client.post("/v1/commands", json=transfer(world), headers=world.auth("operator"))
    assert answer.status_code == 201
    body = answer.json()
    assert body["status"] == "applied" and body["replayed"] is False
    assert body["color"] == world.names["color"]
    assert body["balances"] == [
        {"party": world.names["admin"], "before_tiyn": MILLION_TIYN, "after_tiyn": MILLION_TIYN - 25_000},
        {"party": world.names["contractor"], "before_tiyn": 0, "after_tiyn": 25_000},
    ]
    assert "idempotency-replayed" not in answer.headers


def test_the_same_command_again_is_a_200_replay_and_other_content_under_its_id_is_409(client: TestClient, world: World) -> None:
    record = transfer(world)
    assert client.post("/v1/commands", json=record, headers=world.auth("operator")).status_code == 201
    written = position(world)
    again = client.post("/v1/commands", json=record, headers=world.auth("operator"))
    assert again.status_code == 200
    assert again.headers["idempotency-replayed"] == "true"
    assert again.json()["status"] == "duplicate"
    other = client.post("/v1/commands", json={**record, "amount": "1.00"}, headers=world.auth("operator"))
    assert other.status_code == 409
    assert other.json()["reason"] == "id_reused_with_different_content"
    assert position(world) == written


def test_a_blocked_command_is_422_with_its_rule_and_a_replay_answers_the_same(client: TestClient, world: World) -> None:
    record = transfer(world, amount="2000000.00")  # more than the contract's amount
    answer = client.post("/v1/commands", json=record, headers=world.auth("operator"))
    assert answer.status_code == 422
    body = answer.json()
    assert body["status"] == "blocked" and body["reason"] == "contract_amount_exceeded"
    assert "2000000.00 KZT" in body["detail"]
    again = client.post("/v1/commands", json=record, headers=world.auth("operator"))
    assert again.status_code == 422 and again.headers["idempotency-replayed"] == "true"
    assert (again.json()["reason"], again.json()["detail"]) == (body["reason"], body["detail"])


def test_a_malformed_command_is_400_naming_every_field_by_its_json_path_and_writes_nothing(client: TestClient, world: World) -> None:
    before = position(world)
    record = {**transfer(world), "amount": 12, "colour": "x", "sources": [{"lot": "ALL-00005", "amount": "x"}]}
    del record["to"]
    answer = client.post("/v1/commands", json=record, headers=world.auth("operator"))
    assert answer.status_code == 400
    paths = {error["path"] for error in answer.json()["errors"]}
    assert {"$.amount", "$.colour", "$.to", "$.sources[0].amount"} <= paths
    assert position(world) == before


def test_a_key_given_twice_is_malformed(client: TestClient, world: World) -> None:
    raw = orjson.dumps(transfer(world))[:-1] + b', "amount": "1.00"}'
    answer = client.post("/v1/commands", content=raw, headers={**world.auth("operator"), "Content-Type": "application/json"})
    assert answer.status_code == 400
    assert [error["field"] for error in answer.json()["errors"]] == ["amount"]


def test_a_body_longer_than_an_interchange_line_is_malformed_without_reading_it_all(client: TestClient, world: World) -> None:
    answer = client.post("/v1/commands", content=b"{" + b" " * (2 << 20) + b"}", headers=world.auth("operator"))
    assert answer.status_code == 400
    assert answer.json()["errors"] == [{"field": "line", "path": "$", "message": "is longer than 1048576 bytes"}]


def test_a_write_held_up_past_the_wait_is_503_with_retry_after(world: World) -> None:
    path = world.url.removeprefix("sqlite:///")
    with TestClient(create_app(Settings(world.url, wait_seconds=1))) as client:
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            answer = client.post("/v1/commands", json=transfer(world), headers=world.auth("operator"))
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "1"


def ndjson(records: list[object]) -> bytes:
    return b"".join(orjson.dumps(record) + b"\n" for record in records)


def answers(text: str) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in text.splitlines() if line]


def test_a_batch_answers_each_line_in_order_and_skips_a_malformed_one(client: TestClient, world: World) -> None:
    first, second = transfer(world, amount="1.00"), transfer(world, amount="2.00")
    body = ndjson([first]) + b'{"id": "bad", "type": "transfer"}\n\n' + ndjson([second, first])
    answer = client.post("/v1/commands/batch", content=body, headers={**world.auth("operator"), "Content-Type": "application/x-ndjson"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/x-ndjson")
    lines = answers(answer.text)
    assert [(a["line"], a["status"]) for a in lines] == [(1, "applied"), (2, "malformed"), (4, "applied"), (5, "duplicate")]
    assert lines[2]["balances"][0]["before_tiyn"] == MILLION_TIYN - 100  # after the first line's 1.00
    assert lines[3]["replayed"] is True


def test_an_atomic_batch_applies_all_or_none(client: TestClient, world: World) -> None:
    before = position(world)
    good, blocked = transfer(world, amount="1.00"), transfer(world, amount="5000000.00")
    refused = client.post("/v1/commands/batch?atomic=true", content=ndjson([good, blocked]), headers=world.auth("operator"))
    assert refused.status_code == 422
    assert [a["status"] for a in answers(refused.text)] == ["applied", "blocked"]  # what each would have been
    assert position(world) == before  # nothing written, not even the blocked attempt
    done = client.post("/v1/commands/batch?atomic=true", content=ndjson([good, transfer(world, amount="3.00")]),
                       headers=world.auth("operator"))
    assert done.status_code == 201
    applied = answers(done.text)
    assert [a["status"] for a in applied] == ["applied", "applied"]
    assert applied[1]["balances"][0] == {"party": world.names["admin"], "before_tiyn": MILLION_TIYN - 100,
                                         "after_tiyn": MILLION_TIYN - 400}
    assert position(world) == before + 2


def test_an_atomic_batch_with_a_malformed_line_is_400_naming_the_line(client: TestClient, world: World) -> None:
    before = position(world)
    answer = client.post("/v1/commands/batch?atomic=true", content=ndjson([transfer(world), {"id": "x"}]),
                         headers=world.auth("operator"))
    assert answer.status_code == 400
    [bad] = answers(answer.text)
    assert bad["line"] == 2 and {e["field"] for e in bad["errors"]} >= {"type"}
    assert position(world) == before


def test_the_openapi_command_body_is_the_interchange_schemas(client: TestClient) -> None:
    """The request body of POST /v1/commands is one schema per command type, the same declaration as
    the published JSON Schemas (docs/schemas/): same fields, same required ones, nothing extra."""
    from ledger.schemas import command_json_schemas
    from ledger.schemas.records import COMMAND_MODELS

    document = client.get("/openapi.json").json()
    components = document["components"]["schemas"]
    body = document["paths"]["/v1/commands"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Command"}
    mapping = components["Command"]["discriminator"]["mapping"]
    assert components["Command"]["discriminator"]["propertyName"] == "type"
    assert list(mapping) == sorted(COMMAND_MODELS)
    for type_name, published in command_json_schemas().items():
        served = components[mapping[type_name].rsplit("/", 1)[1]]
        assert served["additionalProperties"] is False and published["additionalProperties"] is False
        assert sorted(served["required"]) == sorted(published["required"]), type_name
        as_served = orjson.loads(orjson.dumps(published["properties"]).replace(b"#/$defs/", b"#/components/schemas/"))
        assert served["properties"] == as_served, type_name  # every field with its type, pattern and description
