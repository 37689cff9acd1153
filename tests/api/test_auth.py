"""Sign-in, sessions and token security through the HTTP API, against the Spotify simulator."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from pydantic import SecretStr

from echostats.app import create_app
from echostats.errors import ConfigError
from echostats.security.keys import new_key_entry
from echostats.settings import Settings
from echostats.simulator import Simulator, SimulatorConfig
from echostats.spotify.scopes import SCOPES
from echostats.store import Store
from echostats.store.tokens import EncryptedTokenStore
from tests.signin import SignInWorld, signin_world

pytestmark = pytest.mark.anyio


@pytest.fixture
async def world(settings: Settings, store: Store) -> AsyncIterator[SignInWorld]:
    async with signin_world(settings, store) as world:
        yield world


async def test_full_oauth_round_trip(world: SignInWorld, store: Store) -> None:
    response = await world.sign_in()
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("session=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    assert "Secure" not in cookie  # plain http on loopback
    status = (await world.client.get("/api/v1/auth/status")).json()
    assert status["authenticated"] is True
    assert status["user"]["spotify_id"] == "demo"
    assert status["user"]["display_name"] == "Demo Listener"
    assert status["spotify_reauth_required"] is False
    assert datetime.fromisoformat(status["token_expires_at"]) > datetime.now(UTC)
    # The first sign-in asked the pipeline for an initial sync.
    jobs = await store["sync_jobs"].find({"user_id": status["user"]["id"]}).to_list()
    assert [j["job_type"] for j in jobs] == ["initial"]
    # Signing in again is not a first sign-in.
    assert (await world.sign_in()).status_code == 303
    assert await store["sync_jobs"].count_documents({}) == 1


async def test_browser_login_redirects_with_pkce_and_every_scope(world: SignInWorld) -> None:
    response = await world.client.get("/api/v1/auth/login", headers={"Accept": "text/html"})
    assert response.status_code == 302
    target = urlsplit(response.headers["location"])
    query = parse_qs(target.query)
    assert f"{target.scheme}://{target.netloc}{target.path}" == "http://sim.test/authorize"
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert query["redirect_uri"] == [f"{world.settings.base_url}/api/v1/auth/callback"]
    scopes = set(query["scope"][0].split())
    assert {"user-modify-playback-state", "user-follow-read", "user-read-recently-played"} <= scopes
    assert scopes == set(SCOPES)


async def _assert_400(response: httpx.Response, phrase: str) -> None:
    assert response.status_code == 400, response.text
    assert phrase in response.json()["detail"]


async def test_reused_state_is_refused(world: SignInWorld) -> None:
    url, _ = await world.start_login()
    callback = await world.consent(url)
    assert (await world.client.get(callback)).status_code == 303
    await _assert_400(await world.client.get(callback), "already used")


async def test_unknown_and_missing_state_and_code_are_refused(world: SignInWorld) -> None:
    await _assert_400(await world.client.get("/api/v1/auth/callback?code=x&state=nope"), "unknown")
    await _assert_400(await world.client.get("/api/v1/auth/callback?code=x"), "no state")
    _, state = await world.start_login()
    await _assert_400(await world.client.get(f"/api/v1/auth/callback?state={state}"), "no code")


async def test_expired_state_is_refused(world: SignInWorld, store: Store) -> None:
    url, state = await world.start_login()
    callback = await world.consent(url)
    await store["oauth_states"].update_one(
        {"_id": state}, {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}}
    )
    await _assert_400(await world.client.get(callback), "expired")


async def test_access_denied_is_a_sentence_and_burns_the_state(world: SignInWorld) -> None:
    url, state = await world.start_login()
    response = await world.client.get(f"/api/v1/auth/callback?error=access_denied&state={state}")
    await _assert_400(response, "you declined access")
    callback = await world.consent(url)
    await _assert_400(await world.client.get(callback), "already used")


async def test_failed_token_exchange_is_502(world: SignInWorld) -> None:
    _, state = await world.start_login()
    response = await world.client.get(f"/api/v1/auth/callback?code=forged-code&state={state}")
    assert response.status_code == 502
    assert "Spotify did not complete the sign-in" in response.json()["detail"]


async def _signed_in_token(world: SignInWorld) -> str:
    response = await world.sign_in()
    token = world.client.cookies.get("session")
    assert response.status_code == 303
    assert token
    return token


def _forge(token: str, secret: str, **changes: object) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    claims.update(changes)
    return jwt.encode(claims, secret, algorithm="HS256")


async def test_session_attacks_are_401(world: SignInWorld) -> None:
    token = await _signed_in_token(world)
    world.client.cookies.clear()
    secret = world.settings.session_secret.get_secret_value()
    header, payload, signature = token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    past = datetime.now(UTC) - timedelta(days=40)
    attacks = {
        "tampered signature": f"{header}.{payload}.{flipped}",
        "alg none": f"{none_header}.{payload}.",
        "expired": _forge(token, secret, iat=past, exp=past + timedelta(days=1)),
        "wrong secret": _forge(token, "x" * 48),
        "unknown user": _forge(token, secret, sub="no-such-user"),
        "stale version": _forge(token, secret, ver=claims["ver"] - 1),
        "garbage": "not-a-jwt",
    }
    assert (
        await world.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    ).status_code == 200
    for name, forged in attacks.items():
        by_header = await world.client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {forged}"}
        )
        assert by_header.status_code == 401, name
        assert by_header.json()["detail"].endswith("sign in again."), name
        world.client.cookies.set("session", forged)
        by_cookie = await world.client.get("/api/v1/me")
        world.client.cookies.clear()
        assert by_cookie.status_code == 401, name


async def test_no_session_is_401(world: SignInWorld) -> None:
    response = await world.client.get("/api/v1/me")
    assert response.status_code == 401
    assert "Sign in first" in response.json()["detail"]


async def test_logout_kills_copied_sessions(world: SignInWorld) -> None:
    token = await _signed_in_token(world)
    copied = {"Authorization": f"Bearer {token}"}
    assert (await world.client.get("/api/v1/me", headers=copied)).status_code == 200
    response = await world.client.post("/api/v1/auth/logout")
    assert response.json() == {"status": "logged_out"}
    assert 'session=""' in response.headers["set-cookie"]
    assert (await world.client.get("/api/v1/me", headers=copied)).status_code == 401


async def test_refresh_and_revoked_refresh_token(world: SignInWorld) -> None:
    await _signed_in_token(world)
    before = (await world.client.get("/api/v1/auth/status")).json()["token_expires_at"]
    world.sim.clock.advance(120)
    refreshed = await world.client.post("/api/v1/auth/refresh")
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["status"] == "refreshed"
    assert refreshed.json()["token_expires_at"] != before
    world.sim.faults.revoke_refresh_token("demo")
    denied = await world.client.post("/api/v1/auth/refresh")
    assert denied.status_code == 401
    assert "sign in with Spotify again" in denied.json()["detail"]
    status = (await world.client.get("/api/v1/auth/status")).json()
    assert status["authenticated"] is True
    assert status["spotify_reauth_required"] is True
    ready = (await world.client.get("/api/health/ready")).json()
    assert (
        "1 user(s) must sign in to Spotify again"
        in ready["checks"]["spotify_connections"]["detail"]
    )
    # Signing in again heals it.
    await world.sign_in()
    assert (await world.client.get("/api/v1/auth/status")).json()[
        "spotify_reauth_required"
    ] is False


async def test_database_never_holds_a_plaintext_token(world: SignInWorld, store: Store) -> None:
    await _signed_in_token(world)
    user_id = (await world.client.get("/api/v1/me")).json()["id"]
    tokens = await world.app.state.auth.tokens.load(user_id)
    assert tokens is not None
    secrets = [tokens.access_token, tokens.refresh_token]
    for name in await store.db.list_collection_names():
        async for doc in store[name].find({}):
            dumped = json.dumps(doc, default=str)
            for secret in secrets:
                assert secret not in dumped, name
                assert base64.b64encode(secret.encode()).decode() not in dumped, name


async def test_ciphertext_moved_to_another_user_does_not_decrypt(
    world: SignInWorld, store: Store
) -> None:
    world.sim.add_user("bob", display_name="Bob")
    await world.sign_in("demo")
    await world.sign_in("bob")
    users = {u["spotify_id"]: u["_id"] async for u in store["users"].find({})}
    demo_tokens = await store["tokens"].find_one({"_id": users["demo"]})
    assert demo_tokens is not None
    await store["tokens"].update_one(
        {"_id": users["bob"]},
        {"$set": {"access": demo_tokens["access"], "refresh": demo_tokens["refresh"]}},
    )
    token_store: EncryptedTokenStore = world.app.state.auth.tokens
    assert await token_store.load(users["bob"]) is None
    assert await token_store.load(users["demo"]) is not None


async def test_key_rotation_keeps_everyone_signed_in(settings: Settings, store: Store) -> None:
    sim = Simulator(SimulatorConfig(seed=11))
    async with signin_world(settings, store, sim) as world:
        await world.sign_in()
        session = world.client.cookies.get("session")
    old_keys = settings.encryption_keys.get_secret_value()
    both = f"{new_key_entry('rotated')},{old_keys}"
    async with signin_world(settings, store, sim, encryption_keys=both) as world:
        rotated, unreadable = await world.app.state.auth.tokens.rotate()
        assert (rotated, unreadable) == (1, 0)
    doc = await store["tokens"].find_one({})
    assert doc is not None
    assert doc["access"]["kid"] == doc["refresh"]["kid"] == "rotated"
    only_new = both.split(",", maxsplit=1)[0]
    async with signin_world(settings, store, sim, encryption_keys=only_new) as world:
        world.client.cookies.set("session", session or "")
        status = (await world.client.get("/api/v1/auth/status")).json()
        assert status["authenticated"] is True
        assert status["spotify_reauth_required"] is False
        sim.clock.advance(120)
        assert (await world.client.post("/api/v1/auth/refresh")).status_code == 200


@pytest.mark.parametrize(
    ("host", "auto_login", "expected"),
    [
        ("127.0.0.1", None, True),
        ("0.0.0.0", None, False),
        ("0.0.0.0", True, True),
        ("127.0.0.1", False, False),
    ],
)
async def test_auto_login_only_when_enabled(
    settings: Settings, store: Store, host: str, auto_login: bool | None, expected: bool
) -> None:
    async with signin_world(settings, store) as world:
        await world.sign_in()
    async with signin_world(settings, store, host=host, auto_login=auto_login) as fresh:
        status = await fresh.client.get("/api/v1/auth/status")
        assert status.json()["authenticated"] is expected
        assert ("session=" in status.headers.get("set-cookie", "")) is expected


async def test_signing_out_is_not_undone_by_auto_login(settings: Settings, store: Store) -> None:
    """ "Sign out everywhere" once signed the only user straight back in on the next page."""
    async with signin_world(settings, store, demo_mode=True) as world:
        assert (await world.client.get("/api/v1/auth/demo-login")).status_code == 303
        assert (await world.client.post("/api/v1/auth/logout")).status_code == 200
        status = await world.client.get("/api/v1/auth/status")
        assert status.json()["authenticated"] is False
        assert "session=" not in status.headers.get("set-cookie", "")
        assert (await world.client.get("/api/v1/auth/demo-login")).status_code == 303
        assert (await world.client.get("/api/v1/auth/status")).json()["authenticated"] is True
        world.client.cookies.delete("session")
        # Signed in again on purpose: auto-login works for this browser once more.
        assert (await world.client.get("/api/v1/auth/status")).json()["authenticated"] is True


async def test_no_auto_login_with_two_users(settings: Settings, store: Store) -> None:
    sim = Simulator(SimulatorConfig(seed=3))
    sim.add_user("bob")
    async with signin_world(settings, store, sim) as world:
        await world.sign_in("demo")
        await world.sign_in("bob")
    async with signin_world(settings, store, sim) as fresh:
        assert (await fresh.client.get("/api/v1/auth/status")).json() == {
            "authenticated": False,
            "demo_mode": False,
            "user": None,
            "token_expires_at": None,
            "spotify_reauth_required": None,
        }


async def test_spoofed_forwarded_for_does_not_escape_the_rate_limit(
    settings: Settings, store: Store
) -> None:
    async with signin_world(settings, store, auth_rate_limit=5) as world:
        for i in range(5):
            spoof = {"X-Forwarded-For": f"203.0.113.{i}", "Accept": "application/json"}
            assert (await world.client.get("/api/v1/auth/login", headers=spoof)).status_code == 200
        limited = await world.client.get(
            "/api/v1/auth/login", headers={"X-Forwarded-For": "198.51.100.9"}
        )
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert "Too many sign-in requests" in limited.json()["detail"]


async def test_trusted_proxy_forwarded_for_is_believed(settings: Settings, store: Store) -> None:
    async with signin_world(
        settings, store, auth_rate_limit=2, trusted_proxies="127.0.0.0/8"
    ) as world:
        for i in range(6):
            spoof = {"X-Forwarded-For": f"203.0.113.{i}", "Accept": "application/json"}
            assert (await world.client.get("/api/v1/auth/login", headers=spoof)).status_code == 200


async def test_demo_login_only_in_demo_mode(
    world: SignInWorld, settings: Settings, store: Store
) -> None:
    response = await world.client.get("/api/v1/auth/demo-login")
    assert response.status_code == 404
    assert "only in demo mode" in response.json()["detail"]
    async with signin_world(settings, store, demo_mode=True) as demo:
        response = await demo.client.get("/api/v1/auth/demo-login")
        assert response.status_code == 303, response.text
        me = (await demo.client.get("/api/v1/me")).json()
        assert me["spotify_id"] == "demo"


async def test_cross_site_post_is_refused(world: SignInWorld) -> None:
    await _signed_in_token(world)
    evil = await world.client.post(
        "/api/v1/auth/logout", headers={"Origin": "https://evil.example"}
    )
    assert evil.status_code == 403
    assert "Cross-site request refused" in evil.json()["detail"]
    bad_referer = await world.client.post(
        "/api/v1/auth/logout", headers={"Referer": "https://evil.example/page"}
    )
    assert bad_referer.status_code == 403
    assert (await world.client.get("/api/v1/me")).status_code == 200  # still signed in
    same = await world.client.post(
        "/api/v1/auth/logout", headers={"Origin": world.settings.base_url}
    )
    assert same.status_code == 200


async def test_security_headers_everywhere(world: SignInWorld) -> None:
    for path in ("/api/health", "/api/v1/me", "/api/nope", "/api/docs", "/"):
        headers = (await world.client.get(path)).headers
        assert headers["x-content-type-options"] == "nosniff", path
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert headers["referrer-policy"] == "same-origin", path
        assert "strict-transport-security" not in headers, path


async def test_https_base_url_gives_secure_cookie_and_hsts(
    settings: Settings, store: Store
) -> None:
    public = "https://music.example.org"
    sim = Simulator(SimulatorConfig(redirect_uris=(f"{public}/api/v1/auth/callback",)))
    async with signin_world(settings, store, sim, public_base_url=public) as world:
        response = await world.sign_in()
        assert "Secure" in response.headers["set-cookie"]
        assert response.headers["strict-transport-security"].startswith("max-age=")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("encryption_keys", ""),
        ("encryption_keys", "k1:" + base64.b64encode(b"z" * 32).decode()),
        ("session_secret", "short"),
    ],
)
def test_weak_secrets_refuse_to_start(settings: Settings, field: str, value: str) -> None:
    with pytest.raises(ConfigError):
        create_app(settings.model_copy(update={field: SecretStr(value)}))
