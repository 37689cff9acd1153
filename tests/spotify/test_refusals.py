"""Spotify's refusals mapped to our exception tree: withdrawn endpoints, player, account."""

from __future__ import annotations

from dataclasses import replace

import pytest

from echostats.errors import (
    SpotifyBadRequest,
    SpotifyForbidden,
    SpotifyNoActiveDevice,
    SpotifyNotFound,
    SpotifyPremiumRequired,
    SpotifyRestricted,
    SpotifyWithdrawn,
)
from echostats.simulator import Simulator
from echostats.spotify import ApiCallRecord, SpotifyClient, TokenSet
from tests.spotify.conftest import BASE_SIM_CONFIG, connect, start_listening
from tests.spotify.memory_store import MemoryTokenStore

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("method", "kwargs", "endpoint"),
    [
        ("new_releases", {}, "/browse/new-releases"),
        ("featured_playlists", {}, "/browse/featured-playlists"),
        ("categories", {}, "/browse/categories"),
        ("recommendations", {"seed_genres": ["pop"]}, "/recommendations"),
    ],
)
async def test_withdrawn_endpoints(
    client: SpotifyClient,
    alice: TokenSet,
    records: list[ApiCallRecord],
    method: str,
    kwargs: dict[str, object],
    endpoint: str,
) -> None:
    with pytest.raises(SpotifyWithdrawn) as caught:
        await getattr(client, method)("alice", **kwargs)
    assert caught.value.status == 501
    assert endpoint in caught.value.detail
    assert [r.endpoint for r in records] == [endpoint]
    assert records[0].status_code in (403, 404)


async def test_player_needs_premium(
    sim: Simulator, client: SpotifyClient, store: MemoryTokenStore
) -> None:
    sim.add_user("bob", display_name="Bob", premium=False)
    connect(sim, store, "bob")
    with pytest.raises(SpotifyPremiumRequired) as caught:
        await client.pause("bob")
    assert caught.value.status == 403


async def test_player_without_an_active_device(
    sim: Simulator, client: SpotifyClient, alice: TokenSet
) -> None:
    assert await client.playback_state("alice") is None  # 204: nothing active
    assert await client.currently_playing("alice") is None
    with pytest.raises(SpotifyNoActiveDevice) as caught:
        await client.next_track("alice")
    assert caught.value.status == 409


async def test_player_restriction(sim: Simulator, client: SpotifyClient, alice: TokenSet) -> None:
    start_listening(sim, "alice")
    sim.clock.advance(1)
    state = await client.playback_state("alice")
    assert state is not None
    if state.is_playing:
        await client.pause("alice")
    with pytest.raises(SpotifyRestricted):  # pausing while paused
        await client.pause("alice")


@pytest.mark.parametrize(
    "sim_config", [BASE_SIM_CONFIG, replace(BASE_SIM_CONFIG, player_success=204)]
)
async def test_player_commands_accept_200_with_a_text_body_or_204(
    sim: Simulator, client: SpotifyClient, alice: TokenSet, records: list[ApiCallRecord]
) -> None:
    start_listening(sim, "alice")
    sim.clock.advance(1)
    devices = await client.devices("alice")
    assert devices
    await client.set_volume("alice", 30)
    await client.set_shuffle("alice", True)
    await client.set_repeat("alice", "context")
    await client.seek("alice", 1000)
    await client.pause("alice")
    await client.play("alice")
    success = sim.config.player_success
    assert all(r.status_code in (200, success) and r.error is None for r in records)
    assert any(r.status_code == success for r in records)
    state = await client.playback_state("alice")
    assert state is not None
    assert state.shuffle_state is True
    assert state.repeat_state == "context"
    assert state.device is not None
    assert state.device.volume_percent == 30


async def test_unregistered_user_gets_a_helpful_sentence(
    sim: Simulator, client: SpotifyClient, alice: TokenSet
) -> None:
    sim.faults.unregister("alice")
    with pytest.raises(SpotifyForbidden) as caught:
        await client.me("alice")
    assert "User Management" in caught.value.detail


async def test_owner_without_premium(
    sim: Simulator, client: SpotifyClient, alice: TokenSet
) -> None:
    sim.faults.lapse_owner_premium()
    with pytest.raises(SpotifyForbidden) as caught:
        await client.me("alice")
    assert "Premium" in caught.value.detail


async def test_insufficient_scope(
    sim: Simulator, client: SpotifyClient, store: MemoryTokenStore
) -> None:
    answer = sim.issue_tokens("alice", scope="user-read-private")
    store.put(
        "alice",
        TokenSet(
            str(answer["access_token"]),
            str(answer["refresh_token"]),
            sim.clock.now().replace(year=2030),
            "user-read-private",
        ),
    )
    with pytest.raises(SpotifyForbidden) as caught:
        await client.top_tracks("alice")
    assert "permission" in caught.value.detail
    assert (await client.me("alice")).id  # the granted scope still works


async def test_not_found_and_bad_request(
    sim: Simulator, client: SpotifyClient, alice: TokenSet
) -> None:
    start_listening(sim, "alice")
    with pytest.raises(SpotifyNotFound):
        await client.track("alice", "0000000000000000000000")
    with pytest.raises(SpotifyNotFound):
        await client.playlist("alice", "37i9dQZF1DXcBWIGoYBM5M")  # Spotify-owned editorial
    with pytest.raises(SpotifyBadRequest):
        await client.play("alice", uris=["spotify:track:nope"])
