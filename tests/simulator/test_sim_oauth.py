"""The accounts service: authorization with PKCE, token grants and their failure modes."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from echostats.simulator import Simulator, SimulatorConfig
from echostats.simulator.tokens import s256

from .conftest import BASE_URL

pytestmark = pytest.mark.anyio

REDIRECT = "http://127.0.0.1:8765/api/v1/auth/callback"
VERIFIER = "v" * 20 + "-._~" + "x" * 30
BASIC = "Basic " + base64.b64encode(b"sim-client-id:sim-client-secret").decode()


def _authorize_params(**extra: str) -> dict[str, str]:
    params = {
        "client_id": "sim-client-id",
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "state": "st4te",
        "scope": "user-read-private user-read-recently-played",
        "code_challenge_method": "S256",
        "code_challenge": s256(VERIFIER),
    }
    params.update(extra)
    return {k: v for k, v in params.items() if v != ""}  # "" drops a parameter


def _query(response: httpx.Response) -> dict[str, str]:
    location = response.headers["location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def _code(client: httpx.AsyncClient, **extra: str) -> str:
    response = await client.get("/authorize", params=_authorize_params(**extra))
    assert response.status_code == 302
    assert response.headers["location"].startswith(REDIRECT)
    query = _query(response)
    assert query["state"] == "st4te"
    return query["code"]


async def _exchange(
    client: httpx.AsyncClient, code: str, verifier: str = VERIFIER
) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": "sim-client-id",
        "code_verifier": verifier,
    }
    return await client.post("/api/token", data=form)


async def test_pkce_round_trip_gives_tokens_that_work(client: httpx.AsyncClient) -> None:
    response = await _exchange(client, await _code(client))
    assert response.status_code == 200
    tokens = response.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3600
    assert tokens["scope"] == "user-read-private user-read-recently-played"
    assert tokens["refresh_token"]
    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200
    assert me.json()["id"] == "demo"


async def test_wrong_verifier_and_reused_code_are_invalid_grant(client: httpx.AsyncClient) -> None:
    code = await _code(client)
    wrong = await _exchange(client, code, verifier="w" * 50)
    assert wrong.status_code == 400
    assert wrong.json() == {
        "error": "invalid_grant",
        "error_description": "code_verifier was incorrect",
    }
    assert (await _exchange(client, code)).status_code == 200
    reused = await _exchange(client, code)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"


async def test_codes_expire(sim: Simulator, client: httpx.AsyncClient) -> None:
    code = await _code(client)
    sim.clock.advance(11 * 60)
    assert (await _exchange(client, code)).json()["error"] == "invalid_grant"


async def test_confidential_client_with_basic_auth(client: httpx.AsyncClient) -> None:
    code = await _code(client, code_challenge="", code_challenge_method="")
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    response = await client.post("/api/token", data=form, headers={"Authorization": BASIC})
    assert response.status_code == 200


async def test_bad_client_credentials_are_invalid_client(client: httpx.AsyncClient) -> None:
    code = await _code(client)
    bad = "Basic " + base64.b64encode(b"sim-client-id:wrong").decode()
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    response = await client.post("/api/token", data=form, headers={"Authorization": bad})
    # Spotify answers 400 (not 401) with invalid_client.
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client"
    unknown = await client.post("/api/token", data={**form, "client_id": "someone-else"})
    assert unknown.status_code == 400
    anonymous = await client.post("/api/token", data={**form, "client_id": "sim-client-id"})
    assert anonymous.status_code == 400
    assert anonymous.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("redirect_uri", "accepted"),
    [
        ("http://127.0.0.1:8765/api/v1/auth/callback", True),
        ("http://127.0.0.1:1/api/v1/auth/callback", True),  # loopback: any port
        ("http://[::1]:9000/api/v1/auth/callback", True),
        ("http://localhost:8765/api/v1/auth/callback", False),  # forbidden since 2025
        ("http://127.0.0.1:8765/elsewhere", False),
        ("http://example.com/api/v1/auth/callback", False),  # plain HTTP off loopback
    ],
)
async def test_redirect_uri_rules(
    client: httpx.AsyncClient, redirect_uri: str, accepted: bool
) -> None:
    response = await client.get("/authorize", params=_authorize_params(redirect_uri=redirect_uri))
    assert (response.status_code == 302) is accepted
    if not accepted:
        assert response.status_code == 400
        assert "INVALID_CLIENT" in response.text


async def test_authorize_rejects_unknown_clients_and_implicit_grant(
    client: httpx.AsyncClient,
) -> None:
    unknown = await client.get("/authorize", params=_authorize_params(client_id="nope"))
    assert unknown.status_code == 400
    implicit = await client.get("/authorize", params=_authorize_params(response_type="token"))
    assert _query(implicit) == {"error": "unsupported_response_type", "state": "st4te"}
    plain = await client.get("/authorize", params=_authorize_params(code_challenge_method="plain"))
    assert _query(plain)["error"] == "invalid_request"


async def test_consent_page_cancel_and_agree() -> None:
    sim = Simulator(SimulatorConfig(seed=3, auto_consent=False))
    sim.add_user("alice", display_name="Alice")
    transport = httpx.ASGITransport(app=sim.app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        page = await client.get("/authorize", params=_authorize_params(sim_user="alice"))
        assert page.status_code == 200
        assert "Alice" in page.text
        assert 'value="cancel"' in page.text
        form = {**_authorize_params(sim_user="alice"), "decision": "cancel"}
        cancelled = await client.post("/authorize/decision", data=form)
        assert _query(cancelled) == {"error": "access_denied", "state": "st4te"}
        agreed = await client.post("/authorize/decision", data={**form, "decision": "agree"})
        tokens = (await _exchange(client, _query(agreed)["code"])).json()
        me = await client.get(
            "/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert me.json()["id"] == "alice"


async def _refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    form = {"grant_type": "refresh_token", "refresh_token": token}
    return await client.post("/api/token", data=form, headers={"Authorization": BASIC})


async def test_refresh_after_revocation_or_expiry_is_invalid_grant(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    sim.add_user("bob")
    alice = sim.issue_tokens("demo")
    bob = sim.issue_tokens("bob")
    assert (await _refresh(client, str(alice["refresh_token"]))).status_code == 200
    sim.faults.revoke_refresh_token("demo")
    revoked = await _refresh(client, str(alice["refresh_token"]))
    assert revoked.status_code == 400
    assert revoked.json() == {
        "error": "invalid_grant",
        "error_description": "Refresh token revoked",
    }
    sim.faults.expire_refresh_token("bob")
    assert (await _refresh(client, str(bob["refresh_token"]))).json()["error"] == "invalid_grant"


async def test_refresh_tokens_die_six_months_after_consent_however_often_used(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    token = str(sim.issue_tokens("demo")["refresh_token"])
    for _ in range(6):
        sim.clock.advance(30 * 86_400)
        refreshed = await _refresh(client, token)
        assert refreshed.status_code == 200
        token = str(refreshed.json().get("refresh_token", token))
    sim.clock.advance(4 * 86_400)
    assert (await _refresh(client, token)).json()["error"] == "invalid_grant"


async def test_refresh_may_omit_the_refresh_token() -> None:
    configs = (
        (SimulatorConfig(seed=5, refresh_rotation="never"), False),
        (SimulatorConfig(seed=5, refresh_rotation="always"), True),
    )
    for config, expect_new in configs:
        sim = Simulator(config)
        transport = httpx.ASGITransport(app=sim.app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            token = str(sim.issue_tokens("demo")["refresh_token"])
            body = (await _refresh(client, token)).json()
            assert ("refresh_token" in body) is expect_new
            assert body["access_token"]
            # A confidential client's old refresh token keeps working either way.
            assert (await _refresh(client, token)).status_code == 200


async def test_pkce_refresh_tokens_rotate_and_the_old_one_dies(client: httpx.AsyncClient) -> None:
    tokens = (await _exchange(client, await _code(client))).json()
    form = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": "sim-client-id",
    }
    first = await client.post("/api/token", data=form)
    assert first.status_code == 200
    assert first.json()["refresh_token"] != tokens["refresh_token"]
    again = await client.post("/api/token", data=form)
    assert again.json()["error"] == "invalid_grant"


async def test_access_tokens_expire_after_an_hour(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    headers = {"Authorization": f"Bearer {sim.issue_tokens('demo')['access_token']}"}
    sim.clock.advance(3599)
    assert (await client.get("/v1/me", headers=headers)).status_code == 200
    sim.clock.advance(1)
    expired = await client.get("/v1/me", headers=headers)
    assert expired.status_code == 401
    assert expired.json() == {"error": {"status": 401, "message": "The access token expired"}}


async def test_missing_scope_is_403(sim: Simulator, client: httpx.AsyncClient) -> None:
    token = sim.issue_tokens("demo", scope="user-read-private")["access_token"]
    response = await client.get(
        "/v1/me/player/recently-played", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 403
    assert response.json() == {"error": {"status": 403, "message": "Insufficient client scope"}}
