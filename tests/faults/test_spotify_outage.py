"""Spotify misbehaving for minutes on end (5xx, garbled JSON, 429s, hung requests) while the
listener keeps listening: the poller backs off, nothing crashes, and once Spotify answers again
every play is recorded exactly once.

The whole app runs on a real uvicorn and store in stepped time (tests/ingest/stepped.py), so
half an hour of outage costs seconds; only the hung requests take real time (the client's own
10 s timeout), so there are two of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from echostats.settings import Settings
from echostats.simulator import Simulator, SimulatorConfig
from echostats.store import Store
from tests.ingest.stepped import SteppedTime
from tests.ingest.truth import expected_plays, stored_keys
from tests.ingest.world import live_app

pytestmark = [pytest.mark.anyio, pytest.mark.faults]

SLEEPERS = 2  # the poll manager's discovery loop and the user's poller
OUTAGE = 600.0  # simulated seconds of each kind of fault
FOREVER = 10**9  # a counted rule that outlasts the outage; cleared by hand
PLAYING_INTERVAL = 5.0


@pytest.fixture
def sim() -> Simulator:
    return Simulator(SimulatorConfig(seed=23, realtime=False))


@pytest.fixture
def stepped(sim: Simulator) -> SteppedTime:
    return SteppedTime(sim)


async def test_minutes_of_spotify_faults_back_off_and_lose_nothing(
    settings: Settings,
    store: Store,
    sim: Simulator,
    stepped: SteppedTime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    async with live_app(settings, store, sim, stepped) as world:
        user_id = await world.sign_in()
        # Non-stop listening (the virtual listener takes long breaks): a play every few minutes.
        sim.listen("demo", tracks=list(sim.catalog.tracks)[:200])
        await stepped.run_for(900, SLEEPERS)
        healthy = len(await stored_keys(store, user_id))
        assert healthy > 0

        outages: dict[str, Callable[[], None]] = {
            "503": lambda: sim.faults.server_errors(count=FOREVER, status=503),
            "500": lambda: sim.faults.server_errors(count=FOREVER, status=500),
            "garbage": lambda: sim.faults.garbage_json(count=FOREVER),
            "429": lambda: sim.faults.rate_limit(retry_after=45, count=FOREVER),
        }
        for kind, inject in outages.items():
            start = len(sim.calls)
            inject()
            await stepped.run_for(OUTAGE, SLEEPERS, timeout=120)
            sim.faults.clear()
            calls = len(sim.calls) - start
            # Healthy polling while music plays is one call per PLAYING_INTERVAL (plus the
            # recently-played reads); under a sustained fault it must be far less.
            assert calls < OUTAGE / PLAYING_INTERVAL / 2, (kind, calls)
            await stepped.run_for(300, SLEEPERS)

        # Requests that hang until the client gives up (real time: the client's 10 s timeout).
        sim.faults.timeout(count=2)
        await stepped.run_for(60, SLEEPERS, timeout=120)

        sim.users["demo"].player.pause(sim.sync())
        await stepped.run_for(900, SLEEPERS)
        stored = await stored_keys(store, user_id)
        assert len(stored) > healthy
        assert stored == expected_plays(sim)  # recording resumed: nothing lost, nothing doubled
        liveness = world.app.state.pipeline.liveness()
        assert all(status.alive for status in liveness.values()), liveness
        assert all(status.restarts == 0 for status in liveness.values()), liveness
        ready = await world.client.get("/api/health/ready")
        assert ready.status_code == 200, ready.text
    crashes = [r for r in caplog.records if "crashed" in r.getMessage()]
    assert crashes == [], [logging.Formatter().format(r) for r in crashes]
