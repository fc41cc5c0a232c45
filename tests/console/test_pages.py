"""The auditors' console over HTTP (issue 12): every page answers with its key content, fetches
nothing from elsewhere, needs a signed-in reader, and case work on flags is recorded with the
signed-in actor, from the page's form and from the API."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from ledger.app import Ledger
from ledger.http.app import create_app
from ledger.http.auth import SESSION_COOKIE
from ledger.http.settings import Settings
from tests.console.support import CASH_IDS, SPEND_ID, prepare_console_store
from tests.http.support import World

ATTRIBUTE_URL = re.compile(r"""(?<![\w-])(?:src|href|action|poster|data)\s*=\s*["']([^"']*)["']""", re.I)


def pages(world: World) -> dict[str, list[str]]:
    """Each page's path and texts it must show."""
    n = world.names
    color = n["color"]
    return {
        "/": ["Money per pilot and fiscal year", "ROAD", "2025", "1000000.00", "Flags by rule and severity", "F07",
              "Latest signed checkpoint", "passed"],
        "/colors": [color, "1 of 1 colors", "test allocation"],
        f"/colors?q={color[:8]}&sort=allocated_tiyn&order=desc": [color],
        f"/colors/{color}": ["Flow of funds", "History", "FundsAllocated", "PAY-1", "F07"],
        "/flags?status=all": ["Flags inbox", "F07:CASH-1", "F07:CASH-2", "Precision per rule", "open"],
        f"/parties/{n['contractor']}": ["Balances", "PAY-1", "F07:CASH-1"],
        f"/transactions/{SPEND_ID}": ["FundsSpent", "Provenance", "PAY-1", "PAY-2", "Download inclusion proof"],
        "/contracts/C-1": ["ContractSigned", "PAY-1", color],
    }


def signed_in(client: TestClient, world: World, role: str = "auditor") -> TestClient:
    answer = client.post("/login", data={"token": world.tokens[role], "next": "/"}, follow_redirects=False)
    assert answer.status_code == 303 and SESSION_COOKIE in answer.cookies
    client.cookies.set(SESSION_COOKIE, answer.cookies[SESSION_COOKIE])
    return client


def test_every_page_shows_its_content_and_fetches_nothing_from_elsewhere(client: TestClient, console_world: World):
    signed_in(client, console_world)
    for path, texts in pages(console_world).items():
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.text[:300])
        assert answer.headers["content-type"].startswith("text/html")
        assert "default-src 'none'" in answer.headers["content-security-policy"]
        body = answer.text
        for text in texts:
            assert text in body, (path, text)
        for url in ATTRIBUTE_URL.findall(body):
            assert url.startswith(("/", "#", "?", "data:")) or url == "", (path, url)
        assert "//" not in "".join(u for u in ATTRIBUTE_URL.findall(body) if not u.startswith("/")), path
        assert not re.search(r"@import|url\(\s*['\"]?https?:", body), path
    for name in ("console.css", "console.js", "trace.css", "trace.js"):
        answer = client.get(f"/console/static/{name}")
        assert answer.status_code == 200 and "http" not in answer.text.replace("https://", "").replace("http://", ""), name
        assert "://" not in answer.text, name


def test_pages_need_a_signed_in_reader(client: TestClient, console_world: World):
    answer = client.get("/flags?status=all", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=%2Fflags%3Fstatus%3Dall"
    client.cookies.set(SESSION_COOKIE, "tl_not_a_token")
    assert client.get("/", follow_redirects=False).status_code == 303
    client.cookies.clear()
    assert client.get("/", headers=console_world.auth("operator")).status_code == 200  # every role may read
    signed_in(client, console_world, "operator")
    inbox = client.get("/flags").text
    assert "F07:CASH-1" in inbox and 'action="/flags/disposition"' not in inbox  # no form: not an auditor
    refused = client.post("/flags/disposition", data={"flag": "F07:CASH-1", "disposition": "confirmed", "comment": "x"})
    assert refused.status_code == 403 and "auditor" in refused.text


def test_unknown_things_and_bad_as_of_are_pages_not_errors(client: TestClient, console_world: World):
    signed_in(client, console_world)
    for path, status in [("/colors/ROAD-2025-041-000009-74", 404), ("/parties/999999999999", 404),
                         ("/transactions/NOPE", 404), ("/contracts/NOPE", 404),
                         (f"/colors/{console_world.names['color']}?as_of=yesterday", 400), ("/flags?as_of=@x", 400),
                         ("/console/static/secret.py", 404)]:
        answer = client.get(path)
        assert answer.status_code == status, (path, answer.status_code)


def test_the_as_of_control_re_renders_the_color_as_it_stood(client: TestClient, console_world: World):
    signed_in(client, console_world)
    color = console_world.names["color"]
    ledger = Ledger(console_world.url, actor="dana")
    try:
        read = ledger.read_side()
        [pay_position] = read.transaction_positions("PAY-1")
    finally:
        ledger.close()
    before = client.get(f"/colors/{color}", params={"position": str(pay_position - 1)}).text
    after = client.get(f"/colors/{color}", params={"as_of": f"@{pay_position}"}).text
    assert f"store position @{pay_position - 1}" in before and "PAY-1" not in before
    assert f"store position @{pay_position}" in after and "PAY-1" in after
    [paid_at] = [r["at"] for r in console_world.script.records if r["id"] == "PAY-1"]
    moment = (datetime.fromisoformat(paid_at) - timedelta(seconds=1)).isoformat()
    dated = client.get(f"/colors/{color}", params={"as_of": moment}).text  # a second before the first payment
    assert f"as of {moment}" in dated and "PAY-1" not in dated
    assert "PAY-1" in client.get(f"/colors/{color}", params={"as_of": paid_at}).text


def test_the_proof_download_is_the_inclusion_proof_with_its_checkpoint(client: TestClient, console_world: World):
    signed_in(client, console_world)
    answer = client.get(f"/transactions/{SPEND_ID}/proof")
    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == f'attachment; filename="proof-{SPEND_ID}.json"'
    document = answer.json()
    assert document["kind"] == "inclusion" and document["transaction"] == SPEND_ID
    assert document["checkpoint"]["tree_size"] > document["leaf_index"] and document["inclusion_proof"]


# --- case work: each test on a store of its own ------------------------------------------------

@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[tuple[TestClient, World]]:
    world = prepare_console_store(tmp_path / "cases.sqlite")
    with TestClient(create_app(Settings(world.url))) as test_client:
        yield test_client, world


def test_a_disposition_from_the_inbox_form(fresh: tuple[TestClient, World]):
    client, world = fresh
    signed_in(client, world)
    flag = f"F07:{CASH_IDS[0]}"
    answer = client.post("/flags/disposition", follow_redirects=False,
                         data={"flag": flag, "disposition": "confirmed", "comment": "cash taken out, reported",
                               "back": "/flags?status=closed"})
    assert answer.status_code == 303 and answer.headers["location"] == f"/flags?status=closed#flag-{quote(flag, safe='')}"
    closed = client.get("/flags?status=closed").text
    assert flag in closed and "cash taken out, reported" in closed and "by <strong>dana</strong>" in closed
    assert flag not in client.get("/flags?status=open").text
    assert 'id="precision-F07"' in closed and "1.0000" in closed
    bad = client.post("/flags/disposition", data={"flag": flag, "disposition": "confirmed", "comment": "  "})
    assert bad.status_code == 400
    assert client.post("/flags/disposition", data={"flag": "F07:NOPE", "disposition": "confirmed", "comment": "x"}).status_code == 404
    ledger = Ledger(world.url, actor="dana")
    try:
        [event] = ledger.flag_case(flag).history
        assert (event.actor, event.disposition) == ("dana", "confirmed")
    finally:
        ledger.close()


def test_the_api_records_dispositions_and_filters_flags_by_status(fresh: tuple[TestClient, World]):
    client, world = fresh
    flag = f"F07:{CASH_IDS[1]}"
    url = f"/v1/flags/{quote(flag, safe=':')}/disposition"
    body = {"disposition": "false_positive", "comment": "a test withdrawal", "id": "DISP-1", "at": "2026-01-10T10:00:00+05:00"}
    assert client.post(url, json=body).status_code == 401
    refused = client.post(url, json=body, headers=world.auth("operator"))
    assert refused.status_code == 403
    first = client.post(url, json=body, headers=world.auth("auditor"))
    assert first.status_code == 201, first.text
    assert first.json() == {"id": "DISP-1", "flag": flag, "disposition": "false_positive", "status": "applied",
                            "reason": None, "detail": None}
    assert client.post(url, json=body, headers=world.auth("auditor")).status_code == 200
    assert client.post(url, json={**body, "comment": "other"}, headers=world.auth("auditor")).status_code == 409
    assert client.post("/v1/flags/F07:NOPE/disposition", json={**body, "id": "DISP-2"}, headers=world.auth("auditor")).status_code == 404
    for bad in ({"disposition": "maybe"}, {"at": "0001-01-01T00:00:00+05:00", "id": "DISP-3"},
                {"comment": "bidi \u202e", "id": "DISP-4"}, {"comment": "   ", "id": "DISP-5"}):
        answer = client.post(url, json={**body, **bad}, headers=world.auth("auditor"))
        assert answer.status_code in (400, 422) and "detail" in answer.json(), bad
    closed = client.get("/v1/flags", params={"status": "closed"}, headers=world.auth("operator")).json()
    assert [item["id"] for item in closed["items"]] == [flag]
    assert closed["items"][0]["status"] == "false_positive"
    assert closed["items"][0]["disposition"]["actor"] == "dana"
    still_open = client.get("/v1/flags", params={"status": "open"}, headers=world.auth("operator")).json()
    assert flag not in [item["id"] for item in still_open["items"]] and f"F07:{CASH_IDS[0]}" in [i["id"] for i in still_open["items"]]
    assert client.get("/v1/flags", params={"status": "done"}, headers=world.auth("operator")).status_code in (400, 422)
