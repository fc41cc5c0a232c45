"""The API on PostgreSQL (the other tests use SQLite): writes, replays, atomic batches, reads, stream."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient

from ledger.http.app import create_app
from ledger.http.settings import Settings
from tests.http.support import World, prepare_store
from tests.http.test_api_commands import MILLION_TIYN, position, transfer

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_world(postgres_url: str) -> World:
    return prepare_store(postgres_url)


@pytest.fixture
def pg_client(pg_world: World) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(pg_world.url))) as client:
        yield client


def test_writes_replays_and_atomic_batches_on_postgresql(pg_client: TestClient, pg_world: World) -> None:
    operator = pg_world.auth("operator")
    record = transfer(pg_world, amount="2.00")
    applied = pg_client.post("/v1/commands", json=record, headers=operator)
    assert applied.status_code == 201
    assert applied.json()["balances"][0] == {"party": pg_world.names["admin"], "before_tiyn": MILLION_TIYN,
                                             "after_tiyn": MILLION_TIYN - 200}
    again = pg_client.post("/v1/commands", json=record, headers=operator)
    assert again.status_code == 200 and again.headers["idempotency-replayed"] == "true"
    before = position(pg_world)
    body = orjson.dumps(transfer(pg_world, amount="1.00")) + b"\n" + orjson.dumps(transfer(pg_world, amount="9000000.00")) + b"\n"
    assert pg_client.post("/v1/commands/batch?atomic=true", content=body, headers=operator).status_code == 422
    assert position(pg_world) == before
    assert pg_client.post("/v1/commands", json=transfer(pg_world), headers=pg_world.auth("auditor")).status_code == 403
    assert position(pg_world) == before


def test_reads_and_the_stream_on_postgresql(pg_client: TestClient, pg_world: World) -> None:
    auditor = pg_world.auth("auditor")
    head = position(pg_world)
    assert pg_client.get(f"/v1/balances?as_of=@{head}", headers=auditor).json()["position"] == head
    assert pg_client.get(f"/v1/colors/{pg_world.names['color']}", headers=auditor).json()["conservation"]["ok"] is True
    stream = pg_client.get("/v1/stream?follow=false", headers={**auditor, "Last-Event-ID": str(head - 1)}).text
    assert f"id: {head}\n" in stream and f"id: {head - 1}\n" not in stream
