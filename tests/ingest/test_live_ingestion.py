"""Live ingestion end to end: the real app (uvicorn, embedded store) polls the simulator in
stepped time; what it stores is compared with the simulator's ground truth."""

from __future__ import annotations

import statistics
from itertools import groupby, pairwise

import anyio
import pytest

from echostats.settings import Settings
from echostats.simulator import Simulator
from echostats.store import Store
from tests.ingest.stepped import SteppedTime
from tests.ingest.truth import expected_plays, stored_keys, stored_plays, to_ms
from tests.ingest.world import SseReader, live_app

pytestmark = pytest.mark.anyio

# Poll manager's discovery loop + one user's poller.
SLEEPERS = 2
PLAYER = "/v1/me/player"
RECENT = "/v1/me/player/recently-played"


def _collapse(ids: list[str]) -> list[str]:
    return [key for key, _ in groupby(ids)]


def _is_subsequence(needle: list[str], haystack: list[str]) -> bool:
    it = iter(haystack)
    return all(any(x == y for y in it) for x in needle)


async def test_a_session_is_recorded_exactly_and_streamed(
    settings: Settings, store: Store, sim: Simulator, stepped: SteppedTime
) -> None:
    async with live_app(settings, store, sim, stepped) as world:
        user_id = await world.sign_in()
        await stepped.settle(SLEEPERS)
        reader = SseReader()
        async with anyio.create_task_group() as tg:
            tg.start_soon(reader.read, world.client, "/api/v1/stream/now-playing")
            with anyio.fail_after(10):
                await reader.subscribed.wait()
            sim.start_autoplay("demo")
            await stepped.run_for(10 * 3600, SLEEPERS, timeout=90)
            sim.stop_autoplay("demo")
            sim.users["demo"].player.pause(sim.sync())
            await stepped.run_for(600, SLEEPERS)
            truth = expected_plays(sim)
            assert len(truth) > 20
            assert await stored_keys(store, user_id) == truth
            # Every track the listener stayed on for two samples was announced, in order.
            heard = [p.track_id for p in sim.users["demo"].played if p.listened_ms >= 10_000]
            announced = [str(d["track"]["spotify_id"]) for d in reader.named("now_playing")]  # type: ignore[index]
            assert _is_subsequence(_collapse(heard), _collapse(announced))
            await reader.wait_for("play_recorded", len(truth))
            tg.cancel_scope.cancel()
    # Listened time: the estimate from 5 s samples against the simulator's truth.
    real = {(p.track_id, p.ended_ms): p.listened_ms for p in sim.users["demo"].played}
    errors = [
        abs(int(str(doc["ms_played"])) - real[(str(doc["track_id"]), to_ms(doc["ended_at"]))])  # type: ignore[arg-type]
        for doc in await stored_plays(store, user_id)
    ]
    assert all(doc["ms_played_estimated"] for doc in await stored_plays(store, user_id))
    print("estimate error ms: median", statistics.median(errors), "max", max(errors))
    assert statistics.median(errors) <= 3_000
    assert max(errors) <= 12_000


async def test_a_burst_beyond_fifty_plays_is_recorded_as_a_gap(
    settings: Settings, store: Store, sim: Simulator, stepped: SteppedTime
) -> None:
    async with live_app(settings, store, sim, stepped) as world:
        user_id = await world.sign_in()
        player = sim.users["demo"].player
        sim.listen("demo", tracks=list(sim.catalog.tracks)[:120])
        await stepped.run_for(40, SLEEPERS)
        player.next(sim.sync())  # one play (40 s) before the burst gives the poller a cursor
        await stepped.run_for(20, SLEEPERS)
        assert len(await stored_keys(store, user_id)) == 1
        # 80 plays of 31 s while the poller is held (the clock moves without it).
        for _ in range(80):
            sim.clock.advance(31)
            player.next(sim.sync())
        await stepped.run_for(30, SLEEPERS)
        truth = expected_plays(sim)
        assert len(truth) == 81
        stored = await stored_keys(store, user_id)
        assert stored == [truth[0], *truth[-50:]]  # the newest 50 still existed
        gaps = await store["gaps"].find({"user_id": user_id}).to_list()
        assert len(gaps) == 1
        assert to_ms(gaps[0]["from"]) == truth[0][1]
        assert to_ms(gaps[0]["to"]) == truth[-50][1]


async def test_faults_slow_ingestion_down_but_lose_and_double_nothing(
    settings: Settings, store: Store, sim: Simulator, stepped: SteppedTime
) -> None:
    async with live_app(settings, store, sim, stepped) as world:
        user_id = await world.sign_in()
        sim.start_autoplay("demo")
        await stepped.run_for(1800, SLEEPERS)
        # A storm of 429s with a 30 s Retry-After: the poller must not ask again sooner.
        storm_start = len(sim.calls)
        sim.faults.rate_limit(retry_after=30, count=6, path=PLAYER)
        await stepped.run_for(600, SLEEPERS)
        limited = [c for c in sim.calls[storm_start:] if c.status == 429]
        assert len(limited) == 6
        spacing = [(b.at - a.at).total_seconds() for a, b in pairwise(limited)]
        assert min(spacing) >= 30
        # The quota: one hour of 429 QUOTA_EXCEEDED; at most one call notices it.
        sim.faults.quota_exceeded(retry_after=3600)
        quota_start = len(sim.calls)
        await stepped.run_for(3500, SLEEPERS)
        assert len(sim.calls) - quota_start <= 2
        await stepped.run_for(900, SLEEPERS)
        # A burst of 5xx answers: retried and backed off, then back to normal.
        sim.faults.server_errors(count=15)
        await stepped.run_for(1800, SLEEPERS)
        sim.stop_autoplay("demo")
        sim.users["demo"].player.pause(sim.sync())
        await stepped.run_for(600, SLEEPERS)
        assert await stored_keys(store, user_id) == expected_plays(sim)


async def test_a_rejected_sign_in_stops_polling_until_the_next_sign_in(
    settings: Settings, store: Store, sim: Simulator, stepped: SteppedTime
) -> None:
    async with live_app(settings, store, sim, stepped) as world:
        user_id = await world.sign_in()
        sim.start_autoplay("demo")
        sim.faults.revoke_refresh_token("demo")
        await stepped.run_for(3000, SLEEPERS)
        # The access token is refreshed shortly before its hour is up; that fails, the poller
        # ends, and only the discovery loop still sleeps.
        await stepped.run_for(700, 1)
        health = await store["tokens"].find_one({"_id": user_id})
        assert health is not None
        assert health["reauth_required"] is True
        calls = len(sim.calls)
        await stepped.run_for(600, 1)
        assert len(sim.calls) == calls  # nothing more is asked of Spotify for this user
        await world.sign_in()
        await stepped.run_for(60, SLEEPERS)
        assert sim.calls.count_matching(route=PLAYER) > 0
        assert len(sim.calls) > calls
