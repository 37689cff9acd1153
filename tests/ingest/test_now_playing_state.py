"""A now-playing stream opens with what plays now, not with the next change.

Time is stepped and held still while the stream opens, so no poll can happen meanwhile: the
first event comes from the state the app already knows (the poller's last change) or, when it
knows none, from one question to Spotify on connect."""

from __future__ import annotations

import anyio
import pytest

from echostats.settings import Settings
from echostats.simulator import Simulator
from echostats.store import Store
from tests.ingest.stepped import SteppedTime
from tests.ingest.world import LiveApp, SseReader, live_app

pytestmark = pytest.mark.anyio

SLEEPERS = 2  # the poll manager's discovery loop + the user's poller
STREAM = "/api/v1/stream/now-playing"
FIRST_EVENT_WITHIN = 5.0  # real seconds; the stepped clock does not move meanwhile


async def first_event(world: LiveApp) -> tuple[str, dict[str, object]]:
    reader = SseReader()
    async with anyio.create_task_group() as tg:
        tg.start_soon(reader.read, world.client, STREAM)
        with anyio.fail_after(FIRST_EVENT_WITHIN):
            while not reader.events:
                await reader.changed.wait()
        tg.cancel_scope.cancel()
    return reader.events[0]


async def test_a_stream_opened_mid_track_starts_with_it_and_an_idle_one_with_idle(
    settings: Settings, store: Store, sim: Simulator, stepped: SteppedTime
) -> None:
    async with live_app(settings, store, sim, stepped) as world:
        await world.sign_in()
        await stepped.settle(SLEEPERS)
        # Nothing plays and nothing changed since the poller started: the app knows no state
        # (an idle first sample is not announced), so the stream asks Spotify.
        name, data = await first_event(world)
        assert name == "idle", data

        sim.start_autoplay("demo")
        await stepped.run_for(60, SLEEPERS)  # the poller sees the track start
        playing = sim.users["demo"].player
        name, data = await first_event(world)
        assert name == "now_playing", data
        track = data["track"]
        assert isinstance(track, dict)
        sim.sync()
        assert track["spotify_id"] == playing.current
        assert data["is_playing"] is True
        sim.stop_autoplay("demo")
