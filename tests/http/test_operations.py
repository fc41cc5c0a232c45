"""Operations: /metrics counts commands by outcome, /readyz follows the projection lag, and a
server stopped mid-batch finishes the batch before it exits."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import orjson
from fastapi.testclient import TestClient

from ledger.http.app import create_app
from ledger.http.settings import Settings
from tests.http.support import World, serving
from tests.http.test_api_commands import position, transfer


def test_metrics_count_requests_and_commands_by_outcome(client: TestClient, world: World) -> None:
    client.post("/v1/commands", json=transfer(world), headers=world.auth("operator"))
    client.post("/v1/commands", json=transfer(world, amount="9999999.00"), headers=world.auth("operator"))
    text = client.get("/metrics").text
    assert 'tenge_ledger_commands_total{outcome="applied",type="transfer"}' in text
    assert 'tenge_ledger_commands_total{outcome="blocked",type="transfer"}' in text
    assert 'tenge_ledger_http_requests_total{method="POST",route="/v1/commands",status="201"}' in text
    assert "tenge_ledger_projection_lag_events" in text and "tenge_ledger_http_request_seconds_bucket" in text


def test_readyz_fails_while_the_projections_lag_more_than_allowed(world: World) -> None:
    with TestClient(create_app(Settings(world.url, ready_lag_events=0))) as client:
        client.get("/v1/colors", headers=world.auth("auditor"))  # catches the projections up
        assert client.get("/readyz").status_code == 200
        assert client.post("/v1/commands", json=transfer(world), headers=world.auth("operator")).status_code == 201
        lagging = client.get("/readyz")
        assert lagging.status_code == 503 and lagging.json()["lag_events"] == 1
        client.get("/v1/colors", headers=world.auth("auditor"))
        assert client.get("/readyz").status_code == 200


def test_a_server_told_to_stop_finishes_the_batch_in_flight(world: World, tmp_path: Path) -> None:
    lines = [transfer(world, amount="1.00") for _ in range(40)]
    body = b"".join(orjson.dumps(line) + b"\n" for line in lines)
    before = position(world)
    answers = []
    with serving(world.url, log_path=tmp_path / "serve.log") as (base, process):
        with httpx.Client(base_url=base, timeout=120) as http:
            with http.stream("POST", "/v1/commands/batch", content=body, headers=world.auth("operator")) as response:
                for line in response.iter_lines():
                    if not answers:
                        process.send_signal(signal.SIGTERM)  # stop while the batch is being applied
                    answers.append(orjson.loads(line))
        assert process.wait(timeout=60) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once done
    assert [a["status"] for a in answers] == ["applied"] * len(lines)
    assert position(world) == before + len(lines)


def test_a_server_told_to_stop_ends_its_event_streams_and_exits(world: World, tmp_path: Path) -> None:
    with serving(world.url, log_path=tmp_path / "serve.log", args=("--graceful-seconds", "600")) as (base, process):
        with httpx.Client(base_url=base, timeout=120) as http:
            with http.stream("GET", "/v1/stream", headers=world.auth("auditor")) as follow:
                lines = follow.iter_lines()
                assert next(lines) == "retry: 2000"
                # the stream is live (its first event came) before the signal: sent right after
                # "retry", the signal could stop the server before it sent anything (a race)
                assert any(line.startswith("id: ") for line in lines)
                process.send_signal(signal.SIGTERM)
                list(lines)  # ends: the server closed the stream instead of waiting 600 s
        assert process.wait(timeout=60) in (0, -signal.SIGTERM)
