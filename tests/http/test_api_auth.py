"""Authentication and roles: tokens name the actor, the ledger's roles policy decides."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from ledger.app import Ledger
from ledger.tokens import revoke_token
from tests.http.support import World, cli_env
from tests.http.test_api_commands import position, transfer


def test_no_token_is_401_for_reads_and_writes(client: TestClient, world: World) -> None:
    assert client.get("/v1/colors").status_code == 401
    answer = client.post("/v1/commands", json=transfer(world))
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
    assert client.get("/v1/colors", headers={"Authorization": "Bearer tl_nosuchtoken_" + "x" * 43}).status_code == 401


def test_an_auditor_posting_a_transfer_is_403_and_nothing_is_written(client: TestClient, world: World) -> None:
    before = position(world)
    answer = client.post("/v1/commands", json=transfer(world), headers=world.auth("auditor"))
    assert answer.status_code == 403
    assert "auditor" in answer.json()["detail"] and "operator" in answer.json()["detail"]
    assert position(world) == before
    batch = client.post("/v1/commands/batch?atomic=true", content=b'{"id":"F-1","type":"freeze","at":"2025-03-02T10:00:00+05:00",'
                        b'"color":"' + world.names["color"].encode() + b'","reason":"x"}\n', headers=world.auth("operator"))
    assert batch.status_code == 403  # freezing is the auditor's
    assert position(world) == before


def test_a_revoked_token_is_401_from_the_next_request(client: TestClient, world: World) -> None:
    assert client.get("/v1/colors", headers=world.auth("operator")).status_code == 200
    admin = Ledger(world.url, actor="root")
    try:
        assert revoke_token(admin, world.token_ids["operator"], "REVOKE-1", datetime.now(UTC))
    finally:
        admin.close()
    assert client.get("/v1/colors", headers=world.auth("operator")).status_code == 401


def test_the_actor_on_written_events_is_the_token_s(client: TestClient, world: World) -> None:
    record = transfer(world)
    assert client.post("/v1/commands", json=record, headers=world.auth("operator")).status_code == 201
    events = client.get(f"/v1/transactions/{record['id']}", headers=world.auth("auditor")).json()["events"]
    assert [event["actor"] for event in events] == ["olzhas"]


def tenge(world: World, *args: str, actor: str = "root") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ledger", "--store", world.url, "--actor", actor, *args],
                          env=cli_env(), capture_output=True, text=True, timeout=120)


def test_token_create_prints_it_once_the_store_keeps_its_digest_and_revoke_ends_it(client: TestClient, world: World) -> None:
    made = tenge(world, "token", "create", "--actor", "dana")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("tl_") and "shown only now" in made.stderr
    # searched by another process: closing a descriptor of the store in this one would drop the
    # server's SQLite locks (POSIX advisory locks are per process)
    folder = Path(world.url.removeprefix("sqlite:///")).parent
    assert subprocess.run(["grep", "-rqF", token, str(folder)]).returncode == 1  # neither the file nor its WAL
    assert client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).json()["actor"] == "dana"
    token_id = token.split("_")[1]
    listed = tenge(world, "token", "list", "--format", "json")
    assert token_id in listed.stdout and token not in listed.stdout
    revoked = tenge(world, "token", "revoke", token_id)
    assert revoked.returncode == 0 and "revoked (transaction" in revoked.stderr, revoked.stderr
    assert client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    history = tenge(world, "history", world.names["color"])  # the world's color history is unchanged; token events carry root
    assert history.returncode == 0


def test_only_an_admin_may_issue_tokens(world: World) -> None:
    refused = tenge(world, "token", "create", "--actor", "olzhas", actor="dana")
    assert refused.returncode == 77
    assert refused.stdout == ""
