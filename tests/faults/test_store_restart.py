"""The database process killed while the app is busy: readers hammering the API, an SSE client
listening and the poller recording plays. The watcher restarts the store, readiness comes back,
no request ends in a 500, and every play the app announced (acknowledged) is still stored, with
nothing lost or doubled against Spotify's own history."""

from __future__ import annotations

import contextlib
import os
import signal
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import anyio
import anyio.lowlevel
import httpx
import pytest

from echostats.settings import Settings
from echostats.simulator import Simulator, SimulatorConfig
from echostats.store import Store
from echostats.store.database import make_client
from echostats.store.embedded import EmbeddedServer, running_embedded_server
from tests.ingest.stepped import SteppedTime
from tests.ingest.truth import expected_plays, stored_keys, to_ms
from tests.ingest.world import SseReader, live_app

pytestmark = [pytest.mark.anyio, pytest.mark.faults]

SLEEPERS = 2
READERS = 6
READ_PATHS = (
    "/api/v1/analytics/overview?period=all_time",
    "/api/v1/tracks/top?period=month",
    "/api/v1/history?limit=50",
    "/api/v1/history?limit=20&page=2",
    "/api/health/ready",
)


@pytest.fixture
def sim() -> Simulator:
    return Simulator(SimulatorConfig(seed=31, realtime=False))


@pytest.fixture
def stepped(sim: Simulator) -> SteppedTime:
    return SteppedTime(sim)


@contextlib.asynccontextmanager
async def own_store(server: EmbeddedServer) -> AsyncIterator[Store]:
    client = make_client(server.url)
    store = Store(client=client, db=client[f"t_{uuid.uuid4().hex[:8]}"])
    await store.prepare()
    try:
        yield store
    finally:
        await client.close()


async def read_forever(client: httpx.AsyncClient, statuses: Counter[int]) -> None:
    while True:
        for path in READ_PATHS:
            try:
                response = await client.get(path)
            except httpx.TransportError:
                statuses[0] += 1
                continue
            statuses[response.status_code] += 1
            await anyio.lowlevel.checkpoint()


async def test_store_killed_under_load_recovers_and_keeps_every_acknowledged_play(
    settings: Settings, sim: Simulator, stepped: SteppedTime, tmp_path: Path
) -> None:
    statuses: Counter[int] = Counter()
    async with (
        running_embedded_server(tmp_path / "own-db") as server,
        own_store(server) as store,
        live_app(settings, store, sim, stepped) as world,
    ):
        user_id = await world.sign_in()
        sim.listen("demo", tracks=list(sim.catalog.tracks)[:200])
        reader = SseReader()
        async with anyio.create_task_group() as tg:
            tg.start_soon(reader.read, world.client, "/api/v1/stream/now-playing")
            with anyio.fail_after(10):
                await reader.subscribed.wait()
            for _ in range(READERS):
                tg.start_soon(read_forever, world.client, statuses)
            await stepped.run_for(1200, SLEEPERS)
            before = len(reader.named("play_recorded"))
            assert before > 0

            pid = server.pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            # Plays keep ending while the store is down and comes back.
            await stepped.run_for(600, SLEEPERS, timeout=120)
            with anyio.fail_after(30):
                while server.restarts == 0:
                    await anyio.sleep(0.05)
                while (await world.client.get("/api/health/ready")).status_code != 200:
                    await anyio.sleep(0.1)
            await stepped.run_for(1200, SLEEPERS)
            sim.users["demo"].player.pause(sim.sync())
            await stepped.run_for(900, SLEEPERS)
            tg.cancel_scope.cancel()

        stored = await stored_keys(store, user_id)
        assert stored == expected_plays(sim)
        announced = {
            (str(d["track_id"]), to_ms(datetime.fromisoformat(str(d["ended_at"]))))
            for d in reader.named("play_recorded")
        }
        assert len(announced) > before  # plays were announced after the restart too
        assert announced <= set(stored)  # nothing acknowledged was lost
    assert statuses[500] == 0, statuses
    assert statuses[200] > 0, statuses
