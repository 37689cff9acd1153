"""Player commands change the simulated state, and refuse the way Spotify refuses."""

from __future__ import annotations

import httpx
import pytest

from echostats.simulator import Album, Device, Simulator, SimulatorConfig

from .conftest import BASE_URL, bearer

pytestmark = pytest.mark.anyio


def saved_album_of_three(sim: Simulator) -> Album:
    """One of the demo listener's saved albums with at least three tracks."""
    saved = (sim.catalog.albums[a] for a, _ in sim.users["demo"].saved_albums)
    return next(album for album in saved if len(album.track_ids) >= 3)


async def test_commands_drive_the_player(sim: Simulator, client: httpx.AsyncClient) -> None:
    h = bearer(sim)
    demo = sim.users["demo"]
    album = saved_album_of_three(sim)
    album_id = album.id
    device = demo.devices[1]
    body = {
        "context_uri": f"spotify:album:{album_id}",
        "offset": {"position": 1},
        "position_ms": 5000,
    }
    assert (
        await client.put(f"/v1/me/player/play?device_id={device.id}", json=body, headers=h)
    ).status_code == 200
    sim.clock.advance(2)
    state = (await client.get("/v1/me/player", headers=h)).json()
    assert state["item"]["id"] == album.track_ids[1]
    assert state["progress_ms"] == 7000
    assert state["device"]["id"] == device.id
    assert state["context"]["uri"] == f"spotify:album:{album_id}"
    assert state["is_playing"] is True
    assert state["actions"] == {"disallows": {"resuming": True}}
    await client.put("/v1/me/player/seek?position_ms=60000", headers=h)
    await client.put("/v1/me/player/volume?volume_percent=15", headers=h)
    await client.put("/v1/me/player/repeat?state=track", headers=h)
    await client.put("/v1/me/player/shuffle?state=true", headers=h)
    await client.put("/v1/me/player/pause", headers=h)
    state = (await client.get("/v1/me/player", headers=h)).json()
    assert (state["progress_ms"], state["is_playing"]) == (60000, False)
    assert (state["repeat_state"], state["shuffle_state"], state["smart_shuffle"]) == (
        "track",
        True,
        False,
    )
    assert state["device"]["volume_percent"] == 15
    assert state["actions"]["disallows"]["pausing"] is True
    queued = album.track_ids[0]
    await client.post(f"/v1/me/player/queue?uri=spotify:track:{queued}", headers=h)
    queue = (await client.get("/v1/me/player/queue", headers=h)).json()
    assert queue["queue"][0]["id"] == queued
    await client.post("/v1/me/player/next", headers=h)
    current = (await client.get("/v1/me/player/currently-playing", headers=h)).json()
    assert current["item"]["id"] == queued
    other = demo.devices[2]
    await client.put("/v1/me/player", json={"device_ids": [other.id], "play": True}, headers=h)
    devices = (await client.get("/v1/me/player/devices", headers=h)).json()["devices"]
    assert [d["id"] for d in devices if d["is_active"]] == [other.id]


async def test_play_uris_with_offset_uri(sim: Simulator, client: httpx.AsyncClient) -> None:
    tracks = list(sim.catalog.tracks)[:4]
    body = {
        "uris": [f"spotify:track:{t}" for t in tracks],
        "offset": {"uri": f"spotify:track:{tracks[2]}"},
    }
    device = sim.users["demo"].devices[0].id
    h = bearer(sim)
    assert (
        await client.put(f"/v1/me/player/play?device_id={device}", json=body, headers=h)
    ).status_code == 200
    current = (await client.get("/v1/me/player/currently-playing", headers=h)).json()
    assert current["item"]["id"] == tracks[2]
    assert current["context"] is None
    artist = next(iter(sim.catalog.artists))
    bad = {"context_uri": f"spotify:artist:{artist}", "offset": {"position": 1}}
    refused = await client.put("/v1/me/player/play", json=bad, headers=h)
    assert refused.json()["error"]["message"] == "Can't have offset for context type: ARTIST"


async def test_free_users_get_premium_required(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.add_user("frank", premium=False)
    h = bearer(sim, "frank")
    for method, url in (
        ("PUT", "/v1/me/player/play"),
        ("PUT", "/v1/me/player/pause"),
        ("POST", "/v1/me/player/next"),
    ):
        response = await client.request(method, url, headers=h)
        assert response.status_code == 403
        assert response.json() == {
            "error": {
                "status": 403,
                "message": "Player command failed: Premium required",
                "reason": "PREMIUM_REQUIRED",
            }
        }
    # Reading the state needs no Premium.
    assert (await client.get("/v1/me/player/devices", headers=h)).status_code == 200


async def test_no_active_device(sim: Simulator, client: httpx.AsyncClient) -> None:
    h = bearer(sim)
    response = await client.put("/v1/me/player/pause", headers=h)
    assert response.status_code == 404
    assert response.json()["error"]["reason"] == "NO_ACTIVE_DEVICE"
    unknown = await client.put("/v1/me/player/play?device_id=nope", json={}, headers=h)
    assert unknown.status_code == 404


async def test_restrictions(sim: Simulator, client: httpx.AsyncClient) -> None:
    tv = Device(id="tv0", name="TV", type="TV", is_restricted=True)
    speaker = Device(
        id="sp0", name="Speaker", type="Speaker", supports_volume=False, volume_percent=None
    )
    sim.add_user("carol", devices=[tv, speaker])
    h = bearer(sim, "carol")
    on_tv = await client.put(
        "/v1/me/player/play?device_id=tv0",
        json={"uris": [f"spotify:track:{next(iter(sim.catalog.tracks))}"]},
        headers=h,
    )
    assert on_tv.status_code == 403
    assert on_tv.json()["error"]["message"] == "Player command failed: Restriction violated"
    sim.listen("carol", list(sim.catalog.tracks)[:2], device="sp0")
    volume = await client.put("/v1/me/player/volume?volume_percent=10", headers=h)
    assert volume.json()["error"]["reason"] == "VOLUME_CONTROL_DISALLOW"
    previous = await client.post("/v1/me/player/previous", headers=h)  # first track: nothing before
    assert previous.status_code == 403
    await client.put("/v1/me/player/pause", headers=h)
    again = await client.put("/v1/me/player/pause", headers=h)
    assert again.json()["error"] == {
        "status": 403,
        "message": "Player command failed: Restriction violated",
        "reason": "UNKNOWN",
    }
    assert (await client.put("/v1/me/player/seek", headers=h)).status_code == 400
    two = await client.put("/v1/me/player", json={"device_ids": ["tv0", "sp0"]}, headers=h)
    assert two.status_code == 400


async def test_player_answers_200_with_a_text_body_by_default(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    sim.listen("demo", list(sim.catalog.tracks)[:2])
    response = await client.put("/v1/me/player/pause", headers=bearer(sim))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert len(response.text) == 27
    with pytest.raises(ValueError):
        response.json()


async def test_player_can_answer_204_as_before_2024() -> None:
    sim = Simulator(SimulatorConfig(seed=4, player_success=204))
    sim.listen("demo", list(sim.catalog.tracks)[:2])
    transport = httpx.ASGITransport(app=sim.app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        response = await client.put("/v1/me/player/pause", headers=bearer(sim))
    assert (response.status_code, response.content) == (204, b"")


async def test_play_without_a_body_resumes_the_last_context(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    h = bearer(sim)
    demo = sim.users["demo"]
    album = saved_album_of_three(sim)
    sim.listen("demo", context_uri=f"spotify:album:{album.id}", offset=1)
    demo.player.stop_after_current = True  # the listener stops after this track
    sim.clock.advance(sim.catalog.tracks[album.track_ids[1]].duration_ms / 1000)
    assert (await client.get("/v1/me/player", headers=h)).status_code == 204
    # No active device: a bare play has nowhere to go.
    assert (await client.put("/v1/me/player/play", headers=h)).status_code == 404
    device = demo.devices[2].id
    resumed = await client.put(f"/v1/me/player/play?device_id={device}", headers=h)
    assert resumed.status_code == 200, resumed.text
    state = (await client.get("/v1/me/player", headers=h)).json()
    assert state["item"]["id"] == album.track_ids[2]
    assert state["context"]["uri"] == f"spotify:album:{album.id}"
    assert (state["device"]["id"], state["is_playing"]) == (device, True)
    # Still refused, as on Spotify: a second play while playing there.
    again = await client.put(f"/v1/me/player/play?device_id={device}", headers=h)
    assert again.status_code == 403
    assert again.json()["error"]["message"] == "Player command failed: Restriction violated"


async def test_play_without_a_body_has_nothing_to_resume_for_a_new_listener(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    h = bearer(sim)
    device = sim.users["demo"].devices[0].id
    refused = await client.put(f"/v1/me/player/play?device_id={device}", headers=h)
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "Player command failed: Restriction violated"


async def test_idle_player_answers_204(sim: Simulator, client: httpx.AsyncClient) -> None:
    h = bearer(sim)
    for url in ("/v1/me/player", "/v1/me/player/currently-playing"):
        response = await client.get(url, headers=h)
        assert (response.status_code, response.content) == (204, b"")
    assert (await client.get("/v1/me/player/queue", headers=h)).json() == {
        "currently_playing": None,
        "queue": [],
    }
