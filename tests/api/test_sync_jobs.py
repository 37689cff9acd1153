"""Sync jobs end to end: real sign-in, the scheduler and syncer on the simulator, the routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
import pytest

from echostats.settings import Settings
from echostats.simulator import Simulator, SimulatorConfig
from echostats.store import Store
from echostats.store.sync_jobs import FINAL, INTERRUPTED_SENTENCE, SyncJobs
from tests.signin import SignInWorld, signin_world

pytestmark = pytest.mark.anyio

STEPS = ["recently_played", "top_items", "playlists", "saved_albums"]
ITEMS_ROUTE = "/v1/playlists/{playlist_id}/items"


async def jobs_of(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/v1/sync-jobs", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def wait_job(client: httpx.AsyncClient, job_id: str, within: float = 30) -> dict[str, Any]:
    with anyio.fail_after(within):
        while True:
            job: dict[str, Any] = (await client.get(f"/api/v1/sync-jobs/{job_id}")).json()
            if job["status"] in FINAL:
                return job
            await anyio.sleep(0.05)


async def trigger(world: SignInWorld) -> httpx.Response:
    return await world.client.post(
        "/api/v1/sync-jobs/trigger", headers={"Origin": world.settings.base_url}
    )


async def signed_in_with_history(world: SignInWorld) -> dict[str, Any]:
    """Sign in after three hours of listening; returns the finished initial job."""
    world.sim.start_autoplay("demo", since=world.sim.clock.now() - timedelta(hours=3))
    world.sim.stop_autoplay("demo")
    assert (await world.sign_in()).status_code == 303
    listed = await jobs_of(world.client)
    assert [j["job_type"] for j in listed["items"]] == ["initial"]
    return await wait_job(world.client, listed["items"][0]["id"])


@pytest.fixture
async def world(settings: Settings, store: Store) -> AsyncIterator[SignInWorld]:
    async with signin_world(settings, store) as world:
        yield world


async def test_initial_sync_fills_plays_top_items_playlists_albums(
    world: SignInWorld, store: Store
) -> None:
    job = await signed_in_with_history(world)
    assert job["status"] == "completed", job
    assert [s["action"] for s in job["steps"]] == STEPS
    assert all(s["status"] == "completed" and s["completed_at"] for s in job["steps"])
    user = (await world.client.get("/api/v1/me")).json()
    uid = user["id"]
    # Plays went through the aggregator (the ledger follows it).
    plays = await store["plays"].count_documents({"user_id": uid})
    assert plays > 0
    assert await store["ledger"].count_documents({"user_id": uid}) > 0
    assert job["steps"][0]["items"] == plays  # the last 50 plays: all of them here
    assert job["steps"][0]["detail"].startswith(f"{plays} plays read")
    assert await store["top_items"].count_documents({"user_id": uid}) == 6
    top = await store["top_items"].find_one({"_id": f"{uid}:tracks:medium_term"})
    assert top is not None
    assert top["items"][0]["rank"] == 1
    assert top["items"][0]["spotify_id"]
    # Playlists: all listed; items only for owned and collaborative ones.
    sim_user = world.sim.users["demo"]
    stored = {p["playlist_id"]: p async for p in store["playlists"].find({"user_id": uid})}
    assert set(stored) == set(sim_user.playlist_ids)
    for playlist_id, doc in stored.items():
        playlist = world.sim.catalog.playlists[playlist_id]
        if doc["with_items"]:
            assert [i["spotify_id"] for i in doc["items"]] == [e.track_id for e in playlist.entries]
        else:
            assert doc["items"] == []
    assert sum(1 for d in stored.values() if d["with_items"]) == 5
    saved = await store["saved_albums"].count_documents({"user_id": uid})
    assert saved == len(sim_user.saved_albums)
    assert job["items_processed"] >= plays + len(stored) + saved
    stats = (await world.client.get("/api/v1/sync-jobs/stats")).json()
    assert stats["total_jobs"] == 1
    assert stats["completed"] == 1
    assert stats["running"] == 0
    assert stats["total_items_synced"] == job["items_processed"]
    last = datetime.fromisoformat(stats["last_sync_at"])
    assert datetime.fromisoformat(stats["next_sync_at"]) > last


async def test_sync_on_realistic_spotify_keeps_local_files_and_skips_unavailable_rows(
    settings: Settings, store: Store
) -> None:
    sim = Simulator(SimulatorConfig.realistic(seed=7))
    async with signin_world(settings, store, sim) as world:
        job = await signed_in_with_history(world)
        assert job["status"] == "completed", job
        uid = (await world.client.get("/api/v1/me")).json()["id"]
        demo = sim.users["demo"]
        owned = [sim.catalog.playlists[p] for p in demo.playlist_ids]
        odd = next(p for p in owned if any(e.local for e in p.entries))
        doc = await store["playlists"].find_one({"_id": f"{uid}:{odd.id}"})
        assert doc is not None
        # Every row but the one whose track left the catalog, in order.
        kept = [e for e in odd.entries if not e.unavailable]
        assert [i["spotify_id"] for i in doc["items"]] == [e.track_id or None for e in kept]
        local = next(i for i in doc["items"] if i["is_local"])
        entry = next(e.local for e in odd.entries if e.local)
        assert (local["name"], local["artists"][0]["name"]) == (entry.title, entry.artist)
        assert (doc["items"][0]["added_at"], doc["items"][0]["added_by"]) == (None, None)


async def test_trigger_while_running_cancel_and_filters(world: SignInWorld) -> None:
    first = await signed_in_with_history(world)
    # Slow the saved-albums read so the next job is surely still running when asked again.
    world.sim.faults.latency(1.0, path="/v1/me/albums", count=1)
    started = await trigger(world)
    assert started.status_code == 202
    assert started.json()["status"] == "started"
    job_id = started.json()["job_id"]
    again = await trigger(world)
    assert again.status_code == 200
    assert again.json() == {"status": "already_running", "job_id": job_id}
    assert (await wait_job(world.client, job_id))["status"] == "completed"
    # Cancelling a running job; then a finished one is a 409 with a sentence.
    world.sim.faults.latency(2.0, path="/v1/me/albums", count=1)
    third = (await trigger(world)).json()["job_id"]
    cancel = await world.client.post(
        f"/api/v1/sync-jobs/{third}/cancel", headers={"Origin": world.settings.base_url}
    )
    assert cancel.status_code == 202, cancel.text
    done = await wait_job(world.client, third)
    assert done["status"] == "cancelled"
    refused = await world.client.post(
        f"/api/v1/sync-jobs/{third}/cancel", headers={"Origin": world.settings.base_url}
    )
    assert refused.status_code == 409
    assert "already cancelled" in refused.json()["detail"]
    # Filters and pagination.
    everything = await jobs_of(world.client)
    assert [j["id"] for j in everything["items"]] == [third, job_id, first["id"]]
    assert (await jobs_of(world.client, status="cancelled"))["total"] == 1
    manual = await jobs_of(world.client, job_type="manual", limit=1, page=2)
    assert (manual["total"], manual["pages"], manual["limit"]) == (2, 2, 1)
    assert [j["id"] for j in manual["items"]] == [job_id]
    bad = await world.client.get("/api/v1/sync-jobs", params={"status": "exploded"})
    assert bad.status_code == 422


async def test_other_users_jobs_are_404(world: SignInWorld, store: Store) -> None:
    await signed_in_with_history(world)
    foreign = await SyncJobs(store).create("someone-else", "manual", datetime.now(UTC))
    assert (await world.client.get(f"/api/v1/sync-jobs/{foreign}")).status_code == 404
    cancel = await world.client.post(
        f"/api/v1/sync-jobs/{foreign}/cancel", headers={"Origin": world.settings.base_url}
    )
    assert cancel.status_code == 404
    assert (await world.client.get("/api/v1/sync-jobs/nope")).status_code == 404


async def test_playlist_changes_reach_the_store_and_unchanged_ones_are_not_reread(
    world: SignInWorld, store: Store
) -> None:
    await signed_in_with_history(world)
    sim = world.sim
    uid = (await world.client.get("/api/v1/me")).json()["id"]
    owned = [
        p
        for p in (sim.catalog.playlists[i] for i in sim.users["demo"].playlist_ids)
        if p.owner_id == "demo" and not p.collaborative
    ]
    changed, deleted = owned[0], owned[1]
    unchanged = [p.id for p in owned[2:]]
    track = next(iter(sim.catalog.tracks))
    sim.add_to_playlist(changed.id, [track])
    sim.delete_playlist(deleted.id)
    created = sim.create_playlist("demo", "Brand New", [track])
    before = len(sim.calls)
    job_id = (await trigger(world)).json()["job_id"]
    job = await wait_job(world.client, job_id)
    assert job["status"] == "completed"
    calls = sim.calls[before:]
    reread = {c.path.split("/")[3] for c in calls if c.route == ITEMS_ROUTE}
    assert reread == {changed.id, created.id}
    assert not reread & set(unchanged)
    stored = {p["playlist_id"]: p async for p in store["playlists"].find({"user_id": uid})}
    assert deleted.id not in stored
    assert [i["spotify_id"] for i in stored[created.id]["items"]] == [track]
    assert stored[changed.id]["items"][-1]["spotify_id"] == track
    assert stored[changed.id]["items_snapshot_id"] == changed.snapshot_id
    playlists_step = next(s for s in job["steps"] if s["action"] == "playlists")
    assert "1 removed" in playlists_step["detail"]


async def test_a_failing_step_fails_the_job_but_keeps_earlier_steps(
    world: SignInWorld, store: Store
) -> None:
    await signed_in_with_history(world)
    uid = (await world.client.get("/api/v1/me")).json()["id"]
    world.sim.faults.rate_limit(retry_after=7200, count=1, path="/v1/me/playlists")
    job = await wait_job(world.client, (await trigger(world)).json()["job_id"])
    assert job["status"] == "failed"
    assert "wait 7200 s" in job["error_message"]
    assert [(s["action"], s["status"]) for s in job["steps"]] == [
        ("recently_played", "completed"),
        ("top_items", "completed"),
        ("playlists", "failed"),
    ]
    assert job["steps"][2]["error"] == job["error_message"]
    assert await store["top_items"].count_documents({"user_id": uid}) == 6
    assert await store["playlists"].count_documents({"user_id": uid}) > 0


async def test_periodic_sync_fires(settings: Settings, store: Store) -> None:
    async with signin_world(settings, store, sync_interval=0.3) as world:
        await signed_in_with_history(world)
        with anyio.fail_after(20):
            while not (await jobs_of(world.client, job_type="periodic"))["total"]:
                await anyio.sleep(0.05)
        periodic = (await jobs_of(world.client, job_type="periodic"))["items"][-1]
        assert (await wait_job(world.client, periodic["id"]))["status"] == "completed"


async def test_jobs_left_running_by_a_crash_fail_at_startup(
    settings: Settings, store: Store
) -> None:
    # The replica that ran these was killed five minutes ago: its heartbeat stopped then.
    jobs = SyncJobs(store, "crashed-replica")
    crashed_at = datetime.now(UTC) - timedelta(minutes=5)
    running = await jobs.create("u1", "import", crashed_at, status="running")
    pending = await jobs.create("u1", "manual", crashed_at)
    done = await jobs.create("u1", "manual", crashed_at)
    await jobs.finish(done, "completed", crashed_at)
    # Another replica sharing the database is alive and running this one.
    elsewhere = await SyncJobs(store, "live-replica").create(
        "u1", "import", datetime.now(UTC), status="running"
    )
    async with signin_world(settings, store):
        for job_id in (running, pending):
            job = await jobs.get("u1", job_id)
            assert job is not None
            assert job.status == "failed"
            assert job.error_message == INTERRUPTED_SENTENCE
            assert job.completed_at is not None
        finished = await jobs.get("u1", done)
        assert finished is not None
        assert finished.status == "completed"
        alive = await jobs.get("u1", elsewhere)
        assert alive is not None
        assert alive.status == "running"
