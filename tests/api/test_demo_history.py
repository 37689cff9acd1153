"""Demo mode: the first demo sign-in imports the listener's past from the simulator's privacy
export, through the real importer, and it merges with what the poller recorded."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta
from typing import Any

import anyio
import httpx
import pytest

from echostats.domain.plays import normalise_name
from echostats.settings import Settings
from echostats.simulator import Simulator, SimulatorConfig
from echostats.store import Store
from tests.signin import SIM_BASE, signin_world

pytestmark = pytest.mark.anyio

FINAL = {"completed", "failed", "cancelled"}


async def _jobs_when_done(client: httpx.AsyncClient, kinds: set[str]) -> list[dict[str, Any]]:
    with anyio.fail_after(60):
        while True:
            jobs = (await client.get("/api/v1/sync-jobs")).raise_for_status().json()["items"]
            if {j["job_type"] for j in jobs} >= kinds and all(j["status"] in FINAL for j in jobs):
                return list(jobs)
            await anyio.sleep(0.1)


async def _all_history(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in range(1, 100):
        got = (await client.get("/api/v1/history", params={"limit": 100, "page": page})).json()
        items.extend(got["items"])
        if len(items) >= got["total"]:
            return items
    raise AssertionError("history did not end")


async def test_first_demo_sign_in_imports_the_listeners_past(
    settings: Settings, store: Store
) -> None:
    sim = Simulator(SimulatorConfig(seed=7))
    sim.start_autoplay("demo", since=sim.clock.now() - timedelta(days=3))
    truth = {(p.track_id, p.ended_ms): p.listened_ms for p in sim.users["demo"].played}
    assert len(truth) > 100
    async with signin_world(settings, store, sim, demo_mode=True, demo_history_days=3) as world:
        assert (await world.client.get("/api/v1/auth/demo-login")).status_code == 303
        jobs = await _jobs_when_done(world.client, {"import", "initial"})
        imported = next(j for j in jobs if j["job_type"] == "import")
        assert imported["status"] == "completed", imported
        report = imported["report"]
        assert report["rows"] == len(truth)
        assert report["skipped"]["malformed"] == 0
        # Every play the listener made is stored once, whether the poller saw it first (then
        # the export row improved it) or the import did: the export's ms_played everywhere.
        items = await _all_history(world.client)
        assert len(items) == len(truth)
        for item in items:
            ended_ms = datetime.fromisoformat(item["ended_at"]).timestamp() * 1000
            listened = [
                ms
                for (track, end), ms in truth.items()
                if track == item["track"]["spotify_id"] and abs(end - ended_ms) < 1_500
            ]
            assert listened == [item["ms_played"]], item
            assert item["ms_played_estimated"] is False
        # A second sign-in is not a first one: nothing is imported again.
        assert (await world.client.get("/api/v1/auth/demo-login")).status_code == 303
        again = await _jobs_when_done(world.client, {"import", "initial"})
        assert sum(j["job_type"] == "import" for j in again) == 1


async def test_the_simulator_serves_the_export_only_to_its_listener(
    settings: Settings, store: Store
) -> None:
    sim = Simulator(SimulatorConfig(seed=7))
    sim.start_autoplay("demo", since=sim.clock.now() - timedelta(days=1))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url=SIM_BASE
    ) as http:
        refused = await http.get("/account/privacy/export")
        assert refused.status_code == 401
        token = sim.issue_tokens("demo")["access_token"]
        got = await http.get(
            "/account/privacy/export", headers={"Authorization": f"Bearer {token}"}
        )
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(got.content)) as archive:
        names = archive.namelist()
        rows = [row for name in names for row in json.loads(archive.read(name))]
    assert all(
        n.startswith("Spotify Extended Streaming History/Streaming_History_Audio_") for n in names
    )
    played = sim.users["demo"].played
    assert len(rows) == len(played)
    assert {r["spotify_track_uri"] for r in rows} == {f"spotify:track:{p.track_id}" for p in played}
    assert sum(r["incognito_mode"] for r in rows) == sum(p.private for p in played)


async def test_one_artist_album_and_track_whatever_source_recorded_it(
    settings: Settings, store: Store
) -> None:
    """The export names artists and albums; the poller (and the sync) knows their ids. Every
    top list counts each once, and an artist's page agrees with its row."""
    sim = Simulator(SimulatorConfig(seed=11))
    sim.start_autoplay("demo", since=sim.clock.now() - timedelta(days=3))
    async with signin_world(settings, store, sim, demo_mode=True, demo_history_days=3) as world:
        assert (await world.client.get("/api/v1/auth/demo-login")).status_code == 303
        await _jobs_when_done(world.client, {"import", "initial"})
        sources = {i["source"] for i in await _all_history(world.client)}
        assert sources == {"import"}  # polled plays were improved by their export rows
        for kind in ("artists", "albums", "tracks"):
            for period in ("week", "all_time"):
                got = await world.client.get(
                    f"/api/v1/{kind}/top", params={"period": period, "limit": 100}
                )
                rows = got.json()["items"]
                names = [
                    (normalise_name(r["name"]), *map(normalise_name, r["artists"][:1]))
                    for r in rows
                ]
                assert len(names) == len(set(names)), (kind, period, names)
        artists = (
            await world.client.get("/api/v1/artists/top", params={"period": "all_time"})
        ).json()["items"]
        assert all(not a["spotify_id"].startswith("name:") for a in artists)  # all linked
        for row in artists[:5]:
            page = (await world.client.get(f"/api/v1/artists/{row['spotify_id']}")).json()
            assert (page["stats"]["plays"], page["stats"]["total_ms"]) == (
                row["play_count"],
                row["total_ms"],
            )
