"""The enricher against the simulator and the real store: budget, order, 429 waits."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import anyio
import pytest

from actors.enricher import Enricher
from echostats.domain.library import RequestBudget
from echostats.settings import Settings
from echostats.simulator import Simulator, SimulatorConfig
from echostats.spotify import SpotifyClient, SpotifyConfig
from echostats.store import Store
from echostats.store.catalog import Catalog, RecentPlays
from echostats.store.users import Users
from tests.api.test_sync_jobs import jobs_of, signed_in_with_history, wait_job
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


def enricher_for(
    world: SignInWorld, store: Store, budget: int, time: FakeTime | SimTime
) -> Enricher:
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
        RecentPlays(world.app.state.ledger),
        Users(store),
        learn=world.app.state.ledger.learn,
        budget=RequestBudget(budget),
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
    plays = await RecentPlays(world.app.state.ledger).newest(uid, 2000)
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


WINDOW = 30  # requests per rolling 30 s


@dataclass
class SimTime:
    """The simulator's stepped clock as monotonic time; sleeping moves it (Retry-After passes)."""

    sim: Simulator

    def monotonic(self) -> float:
        return self.sim.clock.now().timestamp()

    async def sleep(self, seconds: float) -> None:
        self.sim.clock.advance(seconds)
        await anyio.lowlevel.checkpoint()


async def test_a_lookup_burst_meets_spotifys_rate_limit_and_waits_it_out(
    settings: Settings, store: Store
) -> None:
    # The realistic simulator, its window small enough for the lookups of 50 plays to burst it.
    sim = Simulator(SimulatorConfig.realistic(seed=7, rate_limit=WINDOW))
    async with signin_world(settings, store, sim) as world:
        sim.start_autoplay("demo", since=sim.clock.now() - timedelta(hours=8))
        sim.stop_autoplay("demo")
        assert (await world.sign_in()).status_code == 303
        initial = (await jobs_of(world.client))["items"][0]
        assert (await wait_job(world.client, initial["id"]))["status"] == "completed"
        time = SimTime(sim)
        enricher = enricher_for(world, store, budget=300, time=time)
        uid = (await Users(store).all_ids())[0]
        wanted = len(await enricher.wanted(uid, 300))
        assert wanted > WINDOW  # more than one window allows
        before = len(sim.calls)
        assert await enricher.round() == wanted
        assert enricher.stats.failed == 0
        calls = [c for c in sim.calls[before:] if c.path.startswith(CATALOG_PREFIXES)]
        limited = [i for i, c in enumerate(calls) if c.status == 429]
        assert limited  # the burst met the limit ...
        for i in limited:  # ... and the next lookup waited for the window to roll on
            assert calls[i + 1].at > calls[i].at
        assert sum(1 for c in calls if c.status == 200) == wanted
