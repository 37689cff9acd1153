"""Tokens against the simulator: sign-in, proactive and 401 refreshes, single-flight, revocation."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import pytest

from echostats.errors import SpotifyBadRequest, SpotifyReauthRequired
from echostats.simulator import Simulator
from echostats.spotify import ApiCallRecord, SpotifyClient, TokenSet
from tests.spotify.conftest import REDIRECT_URI, ClientFactory, LeakWatch, connect
from tests.spotify.memory_store import MemoryTokenStore

pytestmark = pytest.mark.anyio

TOKEN_ROUTE = "/api/token"


def token_calls(sim: Simulator) -> int:
    return sum(1 for c in sim.calls if c.path == TOKEN_ROUTE)


async def test_sign_in_with_pkce_and_exchange(
    sim: Simulator, client: SpotifyClient, records: list[ApiCallRecord], leak_watch: LeakWatch
) -> None:
    request = client.begin_authorization()
    leak_watch.secrets |= {request.code_verifier}
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app), base_url="http://sim")
    async with http:
        answer = await http.get(request.url + "&sim_user=alice")
    assert answer.status_code in (302, 303), answer.text
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    query = parse_qs(location.query)
    assert query["state"] == [request.state]
    code = query["code"][0]
    leak_watch.secrets |= {code}

    tokens = await client.exchange_code(code, request.code_verifier)
    assert tokens.expires_at > sim.clock.now()
    assert "user-read-recently-played" in tokens.scope.split()
    profile = await client.profile_for_tokens(tokens)
    assert profile.id
    assert [r.endpoint for r in records] == ["/api/token", "/me"]
    assert all(r.user_id is None for r in records)

    with pytest.raises(SpotifyBadRequest):  # a code works once
        await client.exchange_code(code, request.code_verifier)


async def test_wrong_verifier_is_refused(sim: Simulator, client: SpotifyClient) -> None:
    request = client.begin_authorization()
    other = client.begin_authorization()
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app), base_url="http://sim")
    async with http:
        answer = await http.get(request.url + "&sim_user=alice")
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    with pytest.raises(SpotifyBadRequest):
        await client.exchange_code(code, other.code_verifier)


async def test_proactive_refresh_shortly_before_expiry(
    sim: Simulator, client: SpotifyClient, store: MemoryTokenStore
) -> None:
    old = connect(sim, store, "alice", expires_in=30)  # inside the 60 s margin
    user = await client.me("alice")
    assert user.display_name == "Alice"
    assert token_calls(sim) == 1
    assert [c.status for c in sim.calls if c.path == "/v1/me"] == [200]  # no 401 first
    fresh = store.tokens["alice"]
    assert fresh.access_token != old.access_token
    assert fresh.expires_at > old.expires_at


async def test_valid_token_is_not_refreshed(
    sim: Simulator, client: SpotifyClient, alice: TokenSet
) -> None:
    for _ in range(3):
        await client.me("alice")
    assert token_calls(sim) == 0


async def test_401_refreshes_once_and_retries(
    sim: Simulator, client: SpotifyClient, store: MemoryTokenStore, records: list[ApiCallRecord]
) -> None:
    tokens = connect(sim, store, "alice")
    # Spotify forgot the access token (e.g. revoked server-side) although it has not expired.
    store.put("alice", TokenSet("not-a-real-token", tokens.refresh_token, tokens.expires_at, ""))
    user = await client.me("alice")
    assert user.id
    assert [(r.endpoint, r.status_code) for r in records] == [
        ("/me", 401),
        ("/api/token", 200),
        ("/me", 200),
    ]


async def test_single_flight_refresh_for_20_concurrent_callers(
    sim: Simulator, client: SpotifyClient, store: MemoryTokenStore
) -> None:
    connect(sim, store, "alice", expires_in=-10)  # already expired
    results: list[str] = []

    async def call() -> None:
        results.append((await client.me("alice")).id)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(call)
    assert len(results) == 20
    assert token_calls(sim) == 1
    assert len(store.saves) == 1


async def test_single_flight_after_concurrent_401s(
    sim: Simulator, client: SpotifyClient, store: MemoryTokenStore
) -> None:
    tokens = connect(sim, store, "alice")
    store.put(
        "alice", TokenSet("stale-token-0001", tokens.refresh_token, tokens.expires_at, tokens.scope)
    )
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(client.me, "alice")
    assert token_calls(sim) == 1
    assert sum(1 for c in sim.calls if c.path == "/v1/me" and c.status == 401) == 20
    assert sum(1 for c in sim.calls if c.path == "/v1/me" and c.status == 200) == 20


async def test_old_refresh_token_is_kept_when_spotify_sends_none(
    sim: Simulator, client: SpotifyClient, store: MemoryTokenStore
) -> None:
    sim.tokens.refresh_rotation = "never"
    old = connect(sim, store, "alice", expires_in=0)
    await client.me("alice")
    new = store.tokens["alice"]
    assert new.access_token != old.access_token
    assert new.refresh_token == old.refresh_token
    assert new.scope == old.scope
    # and the kept refresh token really still works
    again = await client.refresh("alice")
    assert again.refresh_token == old.refresh_token
    assert token_calls(sim) == 2


async def test_rotated_refresh_token_is_stored(
    sim: Simulator, client: SpotifyClient, store: MemoryTokenStore
) -> None:
    sim.tokens.refresh_rotation = "always"
    old = connect(sim, store, "alice", expires_in=0)
    await client.me("alice")
    assert store.tokens["alice"].refresh_token != old.refresh_token


@pytest.mark.parametrize("fault", ["revoke_refresh_token", "expire_refresh_token"])
async def test_invalid_grant_means_sign_in_again(
    sim: Simulator,
    make_client: ClientFactory,
    store: MemoryTokenStore,
    records: list[ApiCallRecord],
    fault: str,
) -> None:
    client = make_client()
    connect(sim, store, "alice", expires_in=0)
    getattr(sim.faults, fault)("alice")
    with pytest.raises(SpotifyReauthRequired):
        await client.me("alice")
    assert [(r.endpoint, r.status_code) for r in records] == [("/api/token", 400)]
    assert not any(c.path == "/v1/me" for c in sim.calls)


async def test_refresh_now_and_unknown_user(
    sim: Simulator, client: SpotifyClient, store: MemoryTokenStore
) -> None:
    old = connect(sim, store, "alice")
    fresh = await client.refresh("alice")
    assert fresh.access_token != old.access_token
    assert fresh.expires_at >= old.expires_at
    with pytest.raises(SpotifyReauthRequired):
        await client.me("nobody")


async def test_token_expiry_follows_time(
    sim: Simulator, client: SpotifyClient, store: MemoryTokenStore, alice: TokenSet
) -> None:
    await client.me("alice")
    sim.clock.advance(timedelta(hours=1).total_seconds())
    await client.me("alice")  # the cached token is now expired: refreshed first, no 401
    assert token_calls(sim) == 1
    assert not any(c.status == 401 for c in sim.calls)
