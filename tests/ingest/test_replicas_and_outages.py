"""Ingestion across a frozen database and across two app instances on one database."""

from __future__ import annotations

import contextlib
import os
import signal
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest
from pymongo import AsyncMongoClient

from echostats.settings import Settings
from echostats.simulator import Simulator
from echostats.store import Store
from echostats.store.embedded import EmbeddedServer, running_embedded_server
from echostats.store.sync_jobs import INTERRUPTED_SENTENCE, SyncJobs
from tests.ingest.stepped import SteppedTime
from tests.ingest.truth import expected_plays, stored_keys
from tests.ingest.world import SseReader, live_app

pytestmark = pytest.mark.anyio

SLEEPERS = 2
PLAYER = "/v1/me/player"


@contextlib.asynccontextmanager
async def impatient_store(server: EmbeddedServer, timeout_ms: int = 500) -> AsyncIterator[Store]:
    """A store whose calls give up after ``timeout_ms`` (0.5 s), so a frozen server shows within
    the test."""
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        server.url,
        tz_aware=True,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        socketTimeoutMS=timeout_ms,
    )
    store = Store(client=client, db=client[f"t_{uuid.uuid4().hex[:8]}"])
    await store.prepare()
    try:
        yield store
    finally:
        await client.close()


async def test_a_frozen_database_pauses_ingestion_and_loses_nothing(
    settings: Settings, sim: Simulator, stepped: SteppedTime, tmp_path: Path
) -> None:
    async with (
        running_embedded_server(tmp_path / "own-db") as server,
        impatient_store(server) as store,
        live_app(settings, store, sim, stepped) as world,
    ):
        user_id = await world.sign_in()
        sim.start_autoplay("demo")
        await stepped.run_for(1800, SLEEPERS)
        before = len(await stored_keys(store, user_id))
        assert server.pid is not None
        # Freeze the database just before a track ends: the poller's read of the finished play
        # then hits the frozen database.
        player = sim.users["demo"].player
        if player.end_ms() is None:
            sim.listen("demo", tracks=list(sim.catalog.tracks)[:10])
        ends = player.end_ms()
        assert ends is not None
        await stepped.run_for(max(0.0, (ends - sim.sync()) / 1000 - 3), SLEEPERS)
        os.kill(server.pid, signal.SIGSTOP)
        try:
            # Spotify keeps answering; every database call times out. Now-playing goes on.
            # (Each database call costs real time here, so the outage is kept short.)
            await stepped.run_for(30, SLEEPERS, timeout=60)
        finally:
            os.kill(server.pid, signal.SIGCONT)
        await stepped.run_for(1800, SLEEPERS)
        sim.stop_autoplay("demo")
        sim.users["demo"].player.pause(sim.sync())
        await stepped.run_for(600, SLEEPERS)
        stored = await stored_keys(store, user_id)
        assert len(stored) > before
        assert stored == expected_plays(sim)


async def test_two_instances_one_poller_and_events_cross_over(
    settings: Settings, store: Store, sim: Simulator, stepped: SteppedTime
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        a = await stack.enter_async_context(
            live_app(settings, store, sim, stepped, instance_id="replica-a")
        )
        b = await stack.enter_async_context(
            live_app(settings, store, sim, stepped, instance_id="replica-b")
        )
        user_id = await a.sign_in()
        b.client.cookies.set("session", a.client.cookies["session"])
        # Two discovery loops and one poller.
        await stepped.settle(3)
        reader = SseReader()
        async with anyio.create_task_group() as tg:
            tg.start_soon(reader.read, b.client, "/api/v1/stream/now-playing")
            with anyio.fail_after(10):
                await reader.subscribed.wait()
            sim.listen("demo", tracks=list(sim.catalog.tracks)[:40])
            start = len(sim.calls)
            await stepped.run_for(1800, 3)
            lease = await store["leases"].find_one({"_id": f"poll:{user_id}"})
            assert lease is not None
            assert lease["owner"] == "replica-a"
            samples = [c for c in sim.calls[start:] if c.path == PLAYER]
            # One poller: about one sample per 5 s (plus one per track end), not two.
            assert 1800 / 5 <= len(samples) <= 1800 / 5 * 1.3
            # Instance B's client saw what instance A's poller and aggregator produced.
            await reader.wait_for("now_playing", 5)
            await reader.wait_for("play_recorded", 5)
            tg.cancel_scope.cancel()
        truth = expected_plays(sim)
        assert await stored_keys(store, user_id) == truth
        # A stops: its lease is released and B takes the user over.
        await stack.aclose()


async def test_a_replica_takes_over_when_the_other_stops(
    settings: Settings, store: Store, sim: Simulator, stepped: SteppedTime
) -> None:
    async with live_app(settings, store, sim, stepped, instance_id="replica-b") as b:
        async with live_app(settings, store, sim, stepped, instance_id="replica-a") as a:
            user_id = await a.sign_in()
            await stepped.settle(3)
            sim.listen("demo", tracks=list(sim.catalog.tracks)[:40])
            await stepped.run_for(600, 3)
            lease = await store["leases"].find_one({"_id": f"poll:{user_id}"})
            assert lease is not None
            assert lease["owner"] == "replica-a"
        assert await store["leases"].find_one({"_id": f"poll:{user_id}"}) is None
        # B's discovery (every lease_ttl / 3 = 20 s) finds the user; B polls from then on.
        await stepped.run_for(20, 1)
        await stepped.run_for(1200, 2)
        lease = await store["leases"].find_one({"_id": f"poll:{user_id}"})
        assert lease is not None
        assert lease["owner"] == "replica-b"
        sim.users["demo"].player.pause(sim.sync())
        await stepped.run_for(600, 2)
        assert await stored_keys(store, user_id) == expected_plays(sim)
        assert b.app.state.instance_id == "replica-b"


async def test_a_replica_starting_fails_only_the_jobs_whose_owner_is_gone(
    settings: Settings, store: Store, sim: Simulator, stepped: SteppedTime
) -> None:
    async with live_app(settings, store, sim, stepped, instance_id="replica-a"):
        now = datetime.now(UTC)
        # An import replica A runs (its keeper renews the heartbeat), and one of a replica that
        # was killed ten minutes ago.
        running = await SyncJobs(store, "replica-a").create("u1", "import", now, status="running")
        gone = await SyncJobs(store, "replica-gone").create(
            "u1", "import", now - timedelta(minutes=10), status="running"
        )
        async with live_app(settings, store, sim, stepped, instance_id="replica-b"):
            jobs = {
                d["_id"]: d
                async for d in store["sync_jobs"].find({"_id": {"$in": [running, gone]}})
            }
            assert jobs[running]["status"] == "running"  # a rolling deploy must not fail it
            assert (jobs[gone]["status"], jobs[gone]["error_message"]) == (
                "failed", INTERRUPTED_SENTENCE
            )  # fmt: skip
