"""GET /v1/stream: events and flags with their store positions as ids, resumable, filtered."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
from fastapi.testclient import TestClient

from tests.http.support import World, served
from tests.http.test_api_commands import position, transfer


def messages(text: str) -> list[tuple[str, str, dict[str, object]]]:
    """(id, event, data) of each SSE message with data."""
    found = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "data" in fields:
            found.append((fields["id"], fields["event"], orjson.loads(fields["data"])))
    return found


def test_every_event_comes_once_with_its_position_and_a_resume_continues_right_after(client: TestClient, world: World) -> None:
    auditor = world.auth("auditor")
    everything = messages(client.get("/v1/stream?follow=false", headers=auditor).text)
    events = [m for m in everything if m[1] == "ledger-event"]
    assert [int(i) for i, _, _ in events] == list(range(1, position(world) + 1))
    assert all(data["position"] == int(i) for i, _, data in events)
    middle = everything[len(everything) // 2][0]
    resumed = messages(client.get("/v1/stream?follow=false", headers={**auditor, "Last-Event-ID": middle}).text)
    assert everything[len(everything) // 2 + 1:] == resumed
    assert client.get("/v1/stream?follow=false", headers={**auditor, "Last-Event-ID": "x"}).status_code == 400


def test_flags_have_the_position_of_the_event_that_raised_them_and_filter_by_rule(client: TestClient, world: World) -> None:
    auditor = world.auth("auditor")
    flags = messages(client.get("/v1/stream?follow=false&rule=L04", headers=auditor).text)
    assert flags and {kind for _, kind, _ in flags} == {"flag"}
    for event_id, _, flag in flags:
        assert event_id.split(":")[0] == str(flag["position"]) and flag["rule"] == "L04"
    after_flag = messages(client.get("/v1/stream?follow=false", headers={**auditor, "Last-Event-ID": flags[0][0]}).text)
    assert flags[0][0] not in [i for i, _, _ in after_flag]


def test_color_filter_keeps_that_color_s_events(client: TestClient, world: World) -> None:
    found = messages(client.get(f"/v1/stream?follow=false&color={world.names['color']}", headers=world.auth("auditor")).text)
    assert {data["color"] for _, kind, data in found if kind == "ledger-event"} == {world.names["color"]}


def test_a_follower_hears_a_new_transfer_as_it_is_applied(world: World, tmp_path: Path) -> None:
    with served(world.url, log_path=tmp_path / "serve.log") as base:
        head = position(world)
        with httpx.Client(base_url=base, timeout=30) as http:
            with http.stream("GET", "/v1/stream", headers={**world.auth("auditor"), "Last-Event-ID": str(head)}) as follow:
                lines = follow.iter_lines()
                assert next(lines) == "retry: 2000"
                record = transfer(world, amount="3.00")
                assert http.post("/v1/commands", json=record, headers=world.auth("operator")).status_code == 201
                block = []
                for line in lines:
                    if line == "" and block:
                        break
                    if line:
                        block.append(line)
    assert block[0] == f"id: {head + 1}" and block[1] == "event: ledger-event"
    assert orjson.loads(block[2].removeprefix("data: "))["transaction"] == record["id"]
