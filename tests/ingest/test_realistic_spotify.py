"""Live ingestion against the simulator as Spotify behaves (``SimulatorConfig.realistic``): a
recently-played lag, a rate limit, 200-with-body player answers, podcasts and adverts. What the
app stores is compared with the simulator's ground truth."""

from __future__ import annotations

import pytest

from echostats.settings import Settings
from echostats.simulator import Simulator, SimulatorConfig
from echostats.store import Store
from tests.ingest.stepped import SteppedTime
from tests.ingest.truth import expected_plays, stored_keys
from tests.ingest.world import live_app

pytestmark = pytest.mark.anyio

SLEEPERS = 2  # poll manager's discovery loop + one user's poller
RECENT = "/v1/me/player/recently-played"
# A finished play is stored within this many seconds of surfacing (a couple of 5 s samples).
PROMPT_S = 20


@pytest.fixture
def sim() -> Simulator:
    return Simulator(SimulatorConfig.realistic(seed=11, realtime=False))


def read_delays(sim: Simulator, user: str) -> list[float]:
    """Per listed play: seconds from the moment it surfaced to the first read that got it."""
    lag_ms = sim.config.history_lag_s * 1000
    reads = [c.at.timestamp() * 1000 for c in sim.calls.matching(route=RECENT, status=200)]
    delays = []
    for _, ended_ms in expected_plays(sim, user):
        surfaced = ended_ms + lag_ms
        first = min((r for r in reads if r >= surfaced), default=None)
        assert first is not None, "a play was never read"
        delays.append((first - surfaced) / 1000)
    return delays


async def test_lagging_history_and_podcasts_are_recorded_promptly_and_exactly(
    settings: Settings, store: Store, sim: Simulator, stepped: SteppedTime
) -> None:
    async with live_app(settings, store, sim, stepped) as world:
        user_id = await world.sign_in()
        await stepped.settle(SLEEPERS)
        sim.start_autoplay("demo")
        await stepped.run_for(10 * 3600, SLEEPERS, timeout=120)
        sim.stop_autoplay("demo")
        sim.users["demo"].player.pause(sim.sync())
        await stepped.run_for(600, SLEEPERS)
        played = sim.users["demo"].played
        assert any(p.track_id in sim.catalog.spoken.episodes for p in played)
        truth = expected_plays(sim)
        assert len(truth) > 20
        assert await stored_keys(store, user_id) == truth  # episodes are not plays of tracks
    assert max(read_delays(sim, "demo")) <= PROMPT_S
    # Live polling stays far below the rate limit.
    assert not sim.calls.matching(status=429)


async def test_adverts_of_a_free_account_are_no_plays(
    settings: Settings, store: Store, sim: Simulator, stepped: SteppedTime
) -> None:
    sim.add_user("frank", display_name="Frank", premium=False)
    async with live_app(settings, store, sim, stepped) as world:
        user_id = await world.sign_in("frank")
        await stepped.settle(SLEEPERS)
        sim.start_autoplay("frank")
        await stepped.run_for(10 * 3600, SLEEPERS, timeout=120)
        sim.stop_autoplay("frank")
        await stepped.run_for(900, SLEEPERS)
        assert sim.users["frank"].player.adverts > 0
        truth = expected_plays(sim, "frank")
        assert len(truth) > 20
        assert await stored_keys(store, user_id) == truth
    assert max(read_delays(sim, "frank")) <= PROMPT_S
