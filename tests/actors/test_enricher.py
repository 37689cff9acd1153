"""The enricher against the simulator and the real store: budget, order, 429 waits."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio
import pytest

from actors.enricher import Enricher
from echostats.settings import Settings
from echostats.spotify import SpotifyClient, SpotifyConfig
from echostats.store import Store
from echostats.store.catalog import Catalog, RecentPlays
from echostats.store.users import Users
from tests.api.test_sync_jobs import signed_in_with_history
from tests.signin import SignInWorld, signin_world

pytestmark = pytest.mark.anyio

CATALOG_PREFIXES = ("/v1/tracks/", "/v1/albums/", "/v1/artists/")


@dataclass
class FakeTime:
    """A monotonic clock that only sleeping moves (shared by the client and the enricher)."""

    now: float = 1000.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await anyio.lowlevel.checkpoint()


@pytest.fixture
async def world(settings: Settings, store: Store) -> AsyncIterator[SignInWorld]:
    async with signin_world(settings, store) as world:
        await signed_in_with_history(world)
        yield world


def enricher_for(world: SignInWorld, store: Store, budget: int, time: FakeTime) -> Enricher:
    spotify = SpotifyClient(
        SpotifyConfig.from_settings(world.settings),
        world.app.state.auth.tokens,
        http=world.sim_http,
        clock=time.monotonic,
        sleep=time.sleep,
    )
    return Enricher(
        spotify,
        Catalog(store),
        RecentPlays(store),
        Users(store),
        budget_per_hour=budget,
        now=lambda: datetime.now(UTC),
        clock=time.monotonic,
        sleep=time.sleep,
    )


def catalog_calls(world: SignInWorld, since: int) -> list[str]:
    return [c.path for c in world.sim.calls[since:] if c.path.startswith(CATALOG_PREFIXES)]


async def test_budget_order_and_catalog_entries(world: SignInWorld, store: Store) -> None:
    time = FakeTime()
    enricher = enricher_for(world, store, budget=5, time=time)
    uid = (await Users(store).all_ids())[0]
    plays = await RecentPlays(store).newest(uid, 2000)
    shown = Counter(p["track_id"] for p in plays)
    before = len(world.sim.calls)
    assert await enricher.round() == 5
    calls = catalog_calls(world, before)
    assert len(calls) == 5  # the budget, not one more
    # Most shown first: the first lookup is of the most played id of any kind.
    counts = Counter(
        [p["track_id"] for p in plays]
        + [p["album_id"] for p in plays]
        + [a for p in plays for a in p["artist_ids"]]
    )
    assert counts[calls[0].rsplit("/", 1)[1]] == max(counts.values())
    catalog = Catalog(store)
    assert sum([await catalog.count(k) for k in ("tracks", "artists", "albums")]) == 5
    # Budget spent: nothing until an hour has passed.
    assert await enricher.round() == 0
    assert catalog_calls(world, before) == calls
    time.now += 3600
    assert await enricher.round() == 5
    again = catalog_calls(world, before)[5:]
    assert len(again) == 5
    assert not set(again) & set(calls)  # known ids are not looked up twice
    track_path = next(c for c in calls + again if c.startswith("/v1/tracks/"))
    track_id = track_path.rsplit("/", 1)[1]
    track = await catalog.get("tracks", track_id)
    assert track is not None
    sim_track = world.sim.catalog.tracks[track_id]
    assert track["name"] == sim_track.name
    assert track["duration_ms"] == sim_track.duration_ms
    assert track["state"] == "enriched"
    assert track["artist_ids"]
    assert shown[track_id] > 0


async def test_rate_limit_is_waited_out(world: SignInWorld, store: Store) -> None:
    time = FakeTime()
    enricher = enricher_for(world, store, budget=2, time=time)
    world.sim.faults.rate_limit(retry_after=30, count=1, path="/v1/")
    before = len(world.sim.calls)
    assert await enricher.round() == 1
    assert enricher.stats.waits == [30]
    statuses = [c.status for c in world.sim.calls[before:] if c.path.startswith(CATALOG_PREFIXES)]
    assert statuses == [429, 200]  # the same item again after the wait, within the budget


async def test_quota_exceeded_waits_the_long_wait(world: SignInWorld, store: Store) -> None:
    time = FakeTime()
    enricher = enricher_for(world, store, budget=3, time=time)
    world.sim.faults.quota_exceeded(retry_after=40_000, path="/v1/")
    assert await enricher.round() <= 1
    assert enricher.stats.waits
    assert enricher.stats.waits[0] >= 39_000
