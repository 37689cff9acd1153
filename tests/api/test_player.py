"""The player routes through HTTP, against the simulator: reads, every control, every refusal."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import httpx
import pytest

from actors import topics
from echostats.settings import Settings
from echostats.simulator import Simulator, SimulatorConfig
from echostats.store import Store
from tests.signin import SignInWorld, signin_world

pytestmark = pytest.mark.anyio

CONTROLS: list[tuple[str, dict[str, object] | None]] = [
    ("/api/v1/player/play", None),
    ("/api/v1/player/pause", None),
    ("/api/v1/player/next", None),
    ("/api/v1/player/previous", None),
    ("/api/v1/player/seek", {"position_ms": 1000}),
    ("/api/v1/player/volume", {"volume_percent": 30}),
    ("/api/v1/player/shuffle", {"state": True}),
    ("/api/v1/player/repeat", {"state": "context"}),
    ("/api/v1/player/queue", {"uri": "spotify:track:PLACEHOLDER"}),
]


@pytest.fixture
async def world(settings: Settings, store: Store) -> AsyncIterator[SignInWorld]:
    sim = Simulator(SimulatorConfig(seed=7))
    sim.add_user("freeloader", display_name="Free Listener", premium=False)
    async with signin_world(settings, store, sim) as world:
        yield world


def tracks(world: SignInWorld, n: int = 5) -> list[str]:
    return sorted(world.sim.catalog.tracks)[:n]


def body_for(world: SignInWorld, body: dict[str, object] | None) -> dict[str, object] | None:
    if body is not None and body.get("uri") == "spotify:track:PLACEHOLDER":
        return {"uri": f"spotify:track:{tracks(world)[4]}"}
    return body


async def post(world: SignInWorld, path: str, body: dict[str, object] | None) -> httpx.Response:
    return await world.client.post(path, json=body_for(world, body))


def commands_sent(world: SignInWorld) -> int:
    """Player commands the simulator received (reads by the poller or a sync do not count)."""
    return sum(
        1
        for c in world.sim.calls
        if c.method in ("PUT", "POST") and c.path.startswith("/v1/me/player")
    )


async def user_id(world: SignInWorld) -> str:
    status = (await world.client.get("/api/v1/auth/status")).json()
    return str(status["user"]["id"])


async def test_current_devices_and_queue(world: SignInWorld) -> None:
    await world.sign_in()
    idle = await world.client.get("/api/v1/player/current")
    assert idle.status_code == 200, idle.text
    assert idle.json() == {"is_playing": False}
    ids = tracks(world)
    world.sim.listen("demo", ids, position_ms=5_000)
    current = (await world.client.get("/api/v1/player/current")).json()
    device = world.sim.users["demo"].player.active_device
    assert device is not None
    assert current["is_playing"] is True
    assert current["track"]["spotify_id"] == ids[0]
    assert current["track"]["artists"][0]["name"]
    assert current["progress_ms"] == 5_000
    assert current["duration_ms"] == world.sim.catalog.tracks[ids[0]].duration_ms
    assert current["device"]["id"] == device.id
    assert (current["shuffle"], current["repeat"], current["context"]) == (False, "off", None)
    devices = (await world.client.get("/api/v1/player/devices")).json()["devices"]
    assert len(devices) == 3
    assert [d["is_active"] for d in devices].count(True) == 1
    assert {"id", "name", "type", "is_active", "volume_percent"} <= set(devices[0])
    queue = (await world.client.get("/api/v1/player/queue")).json()
    assert queue["currently_playing"]["spotify_id"] == ids[0]
    assert [q["spotify_id"] for q in queue["queue"]] == ids[1:]


async def test_every_control_changes_the_simulated_player(world: SignInWorld) -> None:
    await world.sign_in()
    player = world.sim.users["demo"].player
    ids = tracks(world)
    second = player.devices[1]
    response = await post(
        world, "/api/v1/player/play", {"uris": [f"spotify:track:{t}" for t in ids]}
    )
    assert response.status_code == 409, response.text  # nothing active and no device named
    response = await post(
        world,
        "/api/v1/player/play",
        {
            "uris": [f"spotify:track:{t}" for t in ids],
            "device_id": second.id,
            "position_ms": 2_000,
        },
    )
    assert response.status_code == 200, response.text
    assert (player.current, player.active_device_id, player.is_playing) == (ids[0], second.id, True)
    assert response.json()["status"] == "playing"
    assert response.json()["player"]["device"]["id"] == second.id

    assert (await post(world, "/api/v1/player/pause", None)).status_code == 200
    assert player.is_playing is False
    assert (await post(world, "/api/v1/player/play", None)).status_code == 200
    assert player.is_playing is True
    assert (await post(world, "/api/v1/player/next", None)).status_code == 200
    assert player.current == ids[1]
    assert (await post(world, "/api/v1/player/previous", None)).status_code == 200
    assert player.current == ids[0]
    assert (await post(world, "/api/v1/player/seek", {"position_ms": 61_000})).status_code == 200
    assert player.progress_at(world.sim.clock.now_ms()) == 61_000
    assert (await post(world, "/api/v1/player/volume", {"volume_percent": 17})).status_code == 200
    assert second.volume_percent == 17
    assert (await post(world, "/api/v1/player/shuffle", {"state": True})).status_code == 200
    assert player.shuffle is True
    assert (await post(world, "/api/v1/player/repeat", {"state": "track"})).status_code == 200
    assert player.repeat == "track"
    queued = sorted(world.sim.catalog.tracks)[10]
    response = await post(world, "/api/v1/player/queue", {"uri": f"spotify:track:{queued}"})
    assert response.status_code == 200
    assert player.queue == [queued]
    third = player.devices[2]
    response = await post(world, "/api/v1/player/transfer", {"device_id": third.id, "play": True})
    assert response.status_code == 200, response.text
    assert player.active_device_id == third.id
    assert response.json()["player"]["device"]["id"] == third.id

    album = next(iter(sorted(world.sim.catalog.albums)))
    response = await post(world, "/api/v1/player/play", {"context_uri": f"spotify:album:{album}"})
    assert response.status_code == 200, response.text
    assert player.context_uri == f"spotify:album:{album}"
    assert player.current in world.sim.catalog.tracks_of_context(f"spotify:album:{album}")


async def test_a_command_publishes_the_new_state_at_once(world: SignInWorld) -> None:
    await world.sign_in()
    uid = await user_id(world)
    world.sim.listen("demo", tracks(world))
    pipeline = world.app.state.pipeline
    async with pipeline.subscribe([topics.now_playing(uid)]) as subscription:
        response = await post(world, "/api/v1/player/pause", None)
        assert response.status_code == 200
        with anyio.fail_after(5):
            async for event in subscription:
                if event.name == "now_playing" and event.data["is_playing"] is False:
                    break
        assert event.data["track"]["spotify_id"] == tracks(world)[0]
        # Seeking past the end of the last track empties the player: an ``idle`` event.
        last = tracks(world)[-1]
        world.sim.listen("demo", [last])
        end = world.sim.catalog.tracks[last].duration_ms
        response = await post(world, "/api/v1/player/seek", {"position_ms": end})
        assert response.status_code == 200, response.text
        assert response.json()["player"] == {"is_playing": False}
        with anyio.fail_after(5):
            async for event in subscription:
                if event.name == "idle":
                    break


async def test_play_on_an_idle_device_resumes_the_last_context(world: SignInWorld) -> None:
    await world.sign_in()
    world.sim.listen("demo", tracks(world))
    player = world.sim.users["demo"].player
    player.stop_after_current = True
    world.sim.clock.advance(world.sim.catalog.tracks[tracks(world)[0]].duration_ms / 1000)
    assert player.active_device is None  # the listener stopped: nothing plays, no device active
    device = player.devices[1]
    response = await post(world, "/api/v1/player/play", {"device_id": device.id})
    assert response.status_code == 200, response.text
    assert (player.current, player.active_device_id) == (tracks(world)[1], device.id)


async def test_a_free_account_gets_403_for_every_control(world: SignInWorld) -> None:
    await world.sign_in("freeloader")
    world.sim.listen("freeloader", tracks(world))
    device = world.sim.users["freeloader"].player.devices[0]
    transfer: dict[str, object] = {"device_id": device.id}
    for path, body in [*CONTROLS, ("/api/v1/player/transfer", transfer)]:
        response = await post(world, path, body)
        assert response.status_code == 403, (path, response.text)
        assert "Premium" in response.json()["detail"]
    # Reading the player needs no Premium.
    assert (await world.client.get("/api/v1/player/current")).json()["is_playing"] is True


async def test_no_active_device_is_409_for_every_control(world: SignInWorld) -> None:
    await world.sign_in()
    for path, body in CONTROLS:
        response = await post(world, path, body)
        assert response.status_code == 409, (path, response.text)
        assert "device" in response.json()["detail"]
        assert response.json()["request_id"]
    assert world.sim.users["demo"].player.current is None


async def test_a_restricted_device_is_409_for_every_control(world: SignInWorld) -> None:
    await world.sign_in()
    world.sim.listen("demo", tracks(world))
    player = world.sim.users["demo"].player
    assert player.active_device is not None
    player.active_device.is_restricted = True
    for path, body in CONTROLS:
        response = await post(world, path, body)
        assert response.status_code == 409, (path, response.text)
        assert "refused" in response.json()["detail"]
    assert (player.is_playing, player.current, player.queue) == (True, tracks(world)[0], [])


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/player/play", {"context_uri": "spotify:album:" + "a" * 22, "uris": []}, "uris"),
        (
            "/api/v1/player/play",
            {"context_uri": "spotify:album:" + "a" * 22, "uris": ["spotify:track:" + "b" * 22]},
            "body",
        ),
        ("/api/v1/player/play", {"uris": ["https://open.spotify.com/track/x"]}, "uris.0"),
        ("/api/v1/player/play", {"context_uri": "spotify:track:" + "a" * 22}, "context_uri"),
        ("/api/v1/player/play", {"position_ms": -1}, "position_ms"),
        ("/api/v1/player/seek", {"position_ms": -5}, "position_ms"),
        ("/api/v1/player/seek", None, "body"),
        ("/api/v1/player/volume", {"volume_percent": 101}, "volume_percent"),
        ("/api/v1/player/shuffle", {"state": "sometimes"}, "state"),
        ("/api/v1/player/repeat", {"state": "forever"}, "state"),
        ("/api/v1/player/queue", {"uri": "spotify:album:" + "a" * 22}, "uri"),
        ("/api/v1/player/transfer", {}, "device_id"),
        ("/api/v1/player/pause", {"device_id": "bad id with spaces"}, "device_id"),
    ],
)
async def test_bad_bodies_are_422_and_reach_no_player(
    world: SignInWorld, path: str, body: dict[str, object] | None, field: str
) -> None:
    await world.sign_in()
    world.sim.listen("demo", tracks(world))
    before = commands_sent(world)
    response = await world.client.post(path, json=body)
    assert response.status_code == 422, response.text
    assert field in {e["field"] for e in response.json()["errors"]}, response.json()
    assert commands_sent(world) == before
    assert world.sim.users["demo"].player.is_playing is True


async def test_spotify_down_is_502(world: SignInWorld) -> None:
    await world.sign_in()
    world.sim.listen("demo", tracks(world))
    world.sim.faults.server_errors(count=4, status=503, path="/v1/me/player/next")
    response = await post(world, "/api/v1/player/next", None)
    assert response.status_code == 502, response.text
    assert "Spotify" in response.json()["detail"]
    assert world.sim.users["demo"].player.current == tracks(world)[0]


async def test_rate_limited_is_429_with_retry_after(world: SignInWorld) -> None:
    await world.sign_in()
    world.sim.listen("demo", tracks(world))
    world.sim.faults.rate_limit(retry_after=120, count=1, path="/v1/me/player/pause")
    response = await post(world, "/api/v1/player/pause", None)
    assert response.status_code == 429, response.text
    assert int(response.headers["retry-after"]) >= 100
    assert "120" in response.json()["detail"]
    assert world.sim.users["demo"].player.is_playing is True


async def test_player_routes_need_a_session(world: SignInWorld) -> None:
    assert (await world.client.get("/api/v1/player/current")).status_code == 401
    assert (await world.client.post("/api/v1/player/pause")).status_code == 401
