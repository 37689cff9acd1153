"""An installation upgraded from rollups gets its ledger built at start-up, as a job that
continues where a stop left it, while plays keep being recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
import pytest

from echostats.domain.counting import decide
from echostats.settings import Settings
from echostats.store import Store
from echostats.store.ledger import DICTIONARY, HEADS, SEGMENTS
from echostats.store.ledger_builds import LedgerBuilds
from tests.api.test_analytics_property import get, make_play, new_user
from tests.ledger_views import assert_ledger_matches_plays
from tests.signin import signin_world

pytestmark = pytest.mark.anyio


async def test_a_pending_build_runs_at_start_and_resumes_after_its_last_month(
    settings: Settings, store: Store
) -> None:
    now = datetime.now(UTC)
    async with signin_world(settings, store) as world:
        headers = await new_user(world, store, "UTC")
        user_id = headers.pop("X-User")
        plays = [
            make_play(
                user_id,
                n,
                now - timedelta(days=9 * n + 1),
                n % 6,
                200_000,
                "account" if n % 5 == 0 else "extended",
            )
            for n in range(40)  # a year of months
        ]
        await world.app.state.pipeline.submit_plays(user_id, plays)

    # As after the upgrade: no ledger, a build pending; then as if a stop interrupted it after
    # its first months were written (those are kept, the rest is built).
    for name in (SEGMENTS, DICTIONARY, HEADS):
        await store[name].delete_many({})
    resume_after = min(p.ended_at for p in plays) + timedelta(days=60)
    await LedgerBuilds(store).requested(user_id, f"{resume_after:%Y-%m}")

    async with signin_world(settings, store) as world:
        with anyio.fail_after(60):
            while await LedgerBuilds(store).pending():
                await anyio.sleep(0.05)
        job = await store["sync_jobs"].find_one({"user_id": user_id, "job_type": "rollup_build"})
        assert job is not None
        assert job["status"] == "completed"
        view = await world.app.state.ledger.view(user_id)
        assert min(view.columns.ended) > resume_after.timestamp() * 1000  # resumed, not redone
        # A build from scratch (the route) then holds every play, as counted.
        built = await world.client.post("/api/v1/analytics/rollup-build", headers=headers)
        assert built.status_code == 202
        with anyio.fail_after(60):
            while await LedgerBuilds(store).pending():
                await anyio.sleep(0.05)
        await assert_ledger_matches_plays(store, user_id)
        overview = await get(world, headers, "/api/v1/analytics/overview", period="all_time")
        assert overview["total_tracks_played"] == sum(decide(p) is None for p in plays)


async def test_a_restart_loads_every_ledger_before_the_first_request(
    settings: Settings, store: Store
) -> None:
    now = datetime.now(UTC)
    async with signin_world(settings, store) as world:
        headers = await new_user(world, store, "UTC")
        user_id = headers.pop("X-User")
        plays = [
            make_play(user_id, n, now - timedelta(hours=n + 1), n % 3, 200_000) for n in range(5)
        ]
        await world.app.state.pipeline.submit_plays(user_id, plays)
    async with signin_world(settings, store) as world:
        with anyio.fail_after(30):
            while user_id not in world.app.state.ledger.cached_users():
                await anyio.sleep(0.05)
        assert len(await world.app.state.ledger.view(user_id)) == 5
