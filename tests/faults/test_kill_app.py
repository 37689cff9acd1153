"""``kill -9`` of the app in the middle of an import and of a sync, then a restart on the same data
directory: no play doubled, none lost, and no job left claiming to run."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import anyio
import pytest

from bench.export_generator import write_export
from echostats.domain.dedup import same_play
from echostats.domain.plays import Play, from_document
from echostats.simulator import Simulator, SimulatorConfig
from echostats.store.embedded import free_loopback_port
from echostats.store.sync_jobs import INTERRUPTED_SENTENCE
from tests.faults.service import Service, opened_data_dir, service_with_simulator
from tests.ingest.truth import expected_plays, to_ms

pytestmark = [pytest.mark.anyio, pytest.mark.faults]

# Big enough that the import is still running when the test sees its first rows stored.
IMPORT_ROWS = 5_000


def doubled(plays: Sequence[Play]) -> list[tuple[Play, Play]]:
    """Pairs of stored plays the dedup rules say are one play (neighbours in end time)."""
    ordered = sorted(plays, key=lambda p: p.ended_at)
    window = timedelta(seconds=80)  # wider than any dedup tolerance
    pairs = []
    for i, play in enumerate(ordered):
        for other in ordered[i + 1 :]:
            if other.ended_at - play.ended_at > window:
                break
            if same_play(play, other):
                pairs.append((play, other))
    return pairs


async def upload(service: Service, paths: Sequence[Path]) -> str:
    files = [("file", (p.name, p.read_bytes(), "application/json")) for p in paths]
    response = await service.http.post("/api/v1/history/import", files=files)
    assert response.status_code == 202, response.text
    return str(response.json()["job_id"])


async def stored(data_dir: Path, user_id: str) -> list[dict[str, Any]]:
    async with opened_data_dir(data_dir) as store:
        return await store["plays"].find({"user_id": user_id}).to_list()


async def test_kill_during_an_import_then_restart(tmp_path: Path) -> None:
    paths, truth = write_export(tmp_path / "export", IMPORT_ROWS, span=timedelta(days=40))
    sim = Simulator(SimulatorConfig(seed=5, realtime=True))
    async with service_with_simulator(tmp_path, sim, free_loopback_port()) as (service, sim_url):
        await service.start()
        user_id = await service.sign_in(sim_url)
        job_id = await upload(service, paths)
        with anyio.fail_after(60):
            while (job := await service.job(job_id))["items_processed"] == 0:
                assert job["status"] in {"pending", "running"}, job
                await anyio.sleep(0.05)
        assert job["status"] == "running", "the import finished before it could be interrupted"
        uploads = service.data_dir / "imports"
        assert any(uploads.iterdir())  # the upload was on disk when the process died
        await service.kill9()

        await service.start()
        interrupted = await service.job(job_id)
        assert interrupted["status"] == "failed"
        assert interrupted["error_message"] == INTERRUPTED_SENTENCE
        assert interrupted["completed_at"] is not None
        assert list(uploads.iterdir()) == []  # the dead run's upload was swept at start-up

        # The person imports the same export again: what was stored stays, the rest is added.
        again = await service.wait_job(
            await upload(service, paths), "completed", "failed", within=120
        )
        assert again["status"] == "completed", again
        assert again["report"]["rows"] == truth.rows
        overview = await service.http.get("/api/v1/analytics/overview?period=all_time")
        assert overview.status_code == 200, overview.text
        assert overview.json()["total_tracks_played"] == truth.counted  # rollups redone once
        jobs = (await service.http.get("/api/v1/sync-jobs?limit=100")).json()["items"]
        assert not [j for j in jobs if j["status"] in {"pending", "running"}]
    docs = await stored(service.data_dir, user_id)
    plays = [from_document(d) for d in docs]
    assert sum(bool(d["counted"]) for d in docs) == truth.counted
    assert doubled(plays) == []


async def test_kill_during_a_sync_then_restart(tmp_path: Path) -> None:
    sim = Simulator(SimulatorConfig(seed=9, realtime=True))
    sim.start_autoplay("demo", since=sim.clock.now() - timedelta(days=1))
    # The playlists step answers slowly, so the first sync is still running when the app dies.
    sim.faults.latency(4.0, path="/v1/me/playlists")
    fast_recent = {
        "ECHOSTATS_POLL_RECENT_INTERVAL": "2",
        "ECHOSTATS_POLL_RECENT_IDLE_INTERVAL": "2",
        "ECHOSTATS_POLL_IDLE_INTERVAL": "2",
    }
    port = free_loopback_port()
    async with service_with_simulator(tmp_path, sim, port, **fast_recent) as (service, sim_url):
        await service.start()
        user_id = await service.sign_in(sim_url)  # the first sign-in starts the initial sync
        with anyio.fail_after(60):
            while True:
                jobs = (await service.http.get("/api/v1/sync-jobs")).json()["items"]
                steps = {s["action"]: s["status"] for j in jobs for s in j["steps"]}
                if steps.get("playlists") == "running":
                    break
                await anyio.sleep(0.05)
        (sync,) = jobs
        assert sync["status"] == "running"
        assert steps["recently_played"] == "completed"
        await service.kill9()

        sim.faults.clear()
        await service.start()
        interrupted = await service.job(sync["id"])
        assert interrupted["status"] == "failed"
        assert interrupted["error_message"] == INTERRUPTED_SENTENCE

        trigger = await service.http.post("/api/v1/sync-jobs/trigger")
        assert trigger.status_code == 202, trigger.text
        manual = await service.wait_job(trigger.json()["job_id"], "completed", "failed")
        assert manual["status"] == "completed", manual

        # Listening stops; once the poller has read the last plays, compare with Spotify's.
        sim.stop_autoplay("demo")
        sim.users["demo"].player.pause(sim.sync())
        truth = expected_plays(sim)
        with anyio.fail_after(60):
            while True:
                page = (await service.http.get("/api/v1/history?limit=1")).json()["items"]
                if page and to_ms(datetime.fromisoformat(page[0]["ended_at"])) == truth[-1][1]:
                    break
                await anyio.sleep(0.2)
    docs = await stored(service.data_dir, user_id)
    keys = sorted(((str(d["track_id"]), to_ms(d["ended_at"])) for d in docs), key=lambda k: k[1])
    assert len(keys) >= 50  # at least the recently-played window of the sign-in
    first = truth.index(keys[0])
    assert keys == truth[first:]  # from the first stored play on: every play, each once
    assert all(b[1] > a[1] for a, b in pairwise(keys))
