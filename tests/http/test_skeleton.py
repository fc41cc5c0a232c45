"""The application starts, answers health, and authenticates (bearer token or session cookie)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.http.support import World


def test_healthz_answers_without_a_token(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_reports_the_projection_lag(client: TestClient) -> None:
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ready"
    assert answer.json()["store_position"] > 0


def test_login_keeps_the_token_in_a_strict_http_only_cookie(client: TestClient, world: World) -> None:
    refused = client.post("/login", data={"token": "tl_nosuchtoken_" + "x" * 43}, follow_redirects=False)
    assert refused.status_code == 401
    answer = client.post("/login", data={"token": world.tokens["auditor"], "next": "/v1/colors"}, follow_redirects=False)
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert "tenge_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert answer.headers["location"] == "/v1/colors"


def test_a_request_without_a_token_is_401(client: TestClient) -> None:
    answer = client.get("/v1/me")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"


def test_a_bearer_token_or_the_session_cookie_names_the_actor(client: TestClient, world: World) -> None:
    assert client.get("/v1/me", headers=world.auth("operator")).json() == {"actor": "olzhas", "role": "operator"}
    client.post("/login", data={"token": world.tokens["auditor"]}, follow_redirects=False)
    assert client.get("/v1/me").json() == {"actor": "dana", "role": "auditor"}
