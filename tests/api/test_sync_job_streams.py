"""Sync-job SSE streams and the api-logs routes, on a real uvicorn (streams need one)."""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import anyio
import httpx
import pytest

from echostats.app import create_app
from echostats.settings import Settings
from echostats.simulator import Simulator, SimulatorConfig
from echostats.store import Store
from echostats.store.embedded import free_loopback_port
from tests.api.test_sse import Frame, frames, next_event
from tests.api.test_sync_jobs import wait_job
from tests.servers import running_uvicorn
from tests.signin import SIM_BASE, wire

pytestmark = pytest.mark.anyio


@dataclass
class Served:
    url: str
    client: httpx.AsyncClient
    sim: Simulator
    store: Store

    async def trigger(self) -> str:
        response = await self.client.post("/api/v1/sync-jobs/trigger", headers={"Origin": self.url})
        assert response.status_code == 202, response.text
        job_id: str = response.json()["job_id"]
        return job_id


@contextlib.asynccontextmanager
async def served(settings: Settings, store: Store, **changes: object) -> AsyncIterator[Served]:
    # As in production (echostats.logs): the access log would print the callback's code.
    access = logging.getLogger("uvicorn.access")
    level = access.level
    access.setLevel(logging.WARNING)
    try:
        async with _served(settings, store, **changes) as app:
            yield app
    finally:
        access.setLevel(level)


@contextlib.asynccontextmanager
async def _served(settings: Settings, store: Store, **changes: object) -> AsyncIterator[Served]:
    sim = Simulator(SimulatorConfig(seed=7))
    port = free_loopback_port()
    wired = wire(settings, sim, port=port, **changes)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url=SIM_BASE
    ) as sim_http:
        app = create_app(wired, store=store, spotify_http=sim_http)
        async with (
            running_uvicorn(app, port=port) as url,
            httpx.AsyncClient(base_url=url, timeout=10) as client,
        ):
            login = await client.get("/api/v1/auth/login", headers={"Accept": "application/json"})
            consent = await sim_http.get(f"{login.json()['url']}&sim_user=demo")
            callback = urlsplit(consent.headers["location"])
            signed = await client.get(f"{callback.path}?{callback.query}")
            assert signed.status_code == 303
            first = (await client.get("/api/v1/sync-jobs")).json()["items"][0]["id"]
            await wait_job(client, first)
            yield Served(url, client, sim, store)


async def events_until_finished(stream: AsyncIterator[Frame], job_id: str) -> list[Frame]:
    seen: list[Frame] = []
    with anyio.fail_after(30):
        while True:
            frame = await next_event(stream)
            assert frame.data is not None
            if json.loads(frame.data)["job_id"] != job_id:
                continue
            seen.append(frame)
            if frame.event == "finished":
                return seen


async def test_sync_job_streams(settings: Settings, store: Store) -> None:
    async with served(settings, store) as app:
        async with app.client.stream("GET", "/api/v1/stream/sync-jobs") as response:
            assert response.status_code == 200
            stream = frames(response)
            with anyio.fail_after(5):
                assert "subscribed" in (await anext(stream)).comments
            job_id = await app.trigger()
            seen = await events_until_finished(stream, job_id)
        names = [f.event for f in seen]
        assert names[0] == "job"
        assert json.loads(seen[0].data or "")["change"] == "created"
        assert "progress" in names
        steps = {json.loads(f.data or "")["step"] for f in seen if f.event == "progress"}
        assert {"recently_played", "top_items", "playlists", "saved_albums"} <= steps
        finished = json.loads(seen[-1].data or "")
        assert finished["status"] == "completed"
        assert [s["status"] for s in finished["job"]["steps"]] == ["completed"] * 4
        ids = [int(f.id or 0) for f in seen]
        assert ids == sorted(ids)

        # One job's stream: live until its finished event, then the server closes it.
        app.sim.faults.latency(1.0, path="/v1/me/albums", count=1)
        running = await app.trigger()
        async with app.client.stream("GET", f"/api/v1/sync-jobs/{running}/stream") as response:
            with anyio.fail_after(30):
                got = [f async for f in frames(response) if f.event is not None]
        assert got[-1].event == "finished"
        assert {json.loads(f.data or "")["job_id"] for f in got} == {running}

        # An already finished job: its final state at once, then the end of the stream.
        async with app.client.stream("GET", f"/api/v1/sync-jobs/{job_id}/stream") as response:
            with anyio.fail_after(10):
                got = [f async for f in frames(response) if f.event is not None]
        assert [f.event for f in got] == ["job", "finished"]
        assert json.loads(got[1].data or "")["status"] == "completed"
        missing = await app.client.get("/api/v1/sync-jobs/unknown/stream")
        assert missing.status_code == 404


def nearest_rank_p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[-(-len(ordered) * 95 // 100) - 1]


async def test_api_logs_filters_and_stats(settings: Settings, store: Store) -> None:
    # A quiet poller, so no call lands between counting the records and asking the routes.
    quiet = {f"poll_{name}_interval": 3600.0 for name in ("playing", "idle", "recent")}
    async with served(settings, store, **quiet, poll_recent_idle_interval=3600.0) as app:
        app.sim.faults.server_errors(count=1, status=503, path="/v1/me/albums")
        await wait_job(app.client, await app.trigger())
        uid = (await app.client.get("/api/v1/me")).json()["id"]
        # The logger writes in batches; every call made so far must be there (but the sign-in's
        # profile read, made before the user existed).
        expected = len([c for c in app.sim.calls if c.path.startswith("/v1/")]) - 1
        with anyio.fail_after(10):
            while await store["api_logs"].count_documents({"user_id": uid}) < expected:
                await anyio.sleep(0.05)
        docs = await store["api_logs"].find({"user_id": uid}).to_list()
        get = app.client.get

        page = (await get("/api/v1/api-logs", params={"limit": 200})).json()
        assert page["total"] == len(docs)
        stamps = [i["timestamp"] for i in page["items"]]
        # One width for every instant (milliseconds, "Z"), so the text sorts as the times do.
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", s) for s in stamps)
        assert stamps == sorted(stamps, reverse=True)
        assert set(page["items"][0]) == {
            "id", "service", "method", "endpoint", "status_code", "latency_ms", "error",
            "request_id", "timestamp",
        }  # fmt: skip
        three = (await get("/api/v1/api-logs", params={"limit": 3, "page": 2})).json()
        assert (len(three["items"]), three["limit"], three["page"]) == (3, 3, 2)
        assert [i["id"] for i in three["items"]] == [i["id"] for i in page["items"][3:6]]

        cases: list[tuple[dict[str, str | int], list[dict[str, object]]]] = [
            ({"status_min": 500}, [d for d in docs if d["status_code"] >= 500]),
            ({"status_max": 299}, [d for d in docs if d["status_code"] <= 299]),
            (
                {"status_min": 200, "status_max": 200},
                [d for d in docs if d["status_code"] == 200],
            ),
            ({"method": "get"}, [d for d in docs if d["method"] == "GET"]),
            ({"method": "PUT"}, []),
            ({"endpoint_contains": "PLAYLISTS"}, [d for d in docs if "playlists" in d["endpoint"]]),
            ({"service": "spotify"}, docs),
            ({"service": "lastfm"}, []),
        ]
        for params, want in cases:
            got = (await get("/api/v1/api-logs", params={**params, "limit": 200})).json()
            assert got["total"] == len(want), params
            assert {i["id"] for i in got["items"]} == {str(d["_id"]) for d in want}, params
        assert any(d["status_code"] == 503 for d in docs)
        bad = await get("/api/v1/api-logs", params={"status_min": 500, "status_max": 200})
        assert bad.status_code == 422
        assert (await get("/api/v1/api-logs", params={"limit": 201})).status_code == 422

        stats = (await get("/api/v1/api-logs/stats")).json()
        latencies = [float(d["latency_ms"]) for d in docs]
        errors = [d for d in docs if d["status_code"] == 0 or d["status_code"] >= 400]
        assert stats["total_calls"] == len(docs)
        assert stats["error_count"] == len(errors)
        assert stats["rate_limit_count"] == sum(d["status_code"] == 429 for d in docs)
        assert stats["success_rate"] == round(100 * (len(docs) - len(errors)) / len(docs), 2)
        assert stats["avg_latency_ms"] == pytest.approx(sum(latencies) / len(docs), abs=0.01)
        assert stats["p95_latency_ms"] == pytest.approx(nearest_rank_p95(latencies))
        assert sum(stats["status_distribution"].values()) == len(docs)
        assert stats["status_distribution"]["503"] == 1
        top = stats["top_endpoints"]
        assert top[0]["count"] == max(
            sum(d["endpoint"] == e for d in docs) for e in {d["endpoint"] for d in docs}
        )
        only_errors = (await get("/api/v1/api-logs/stats", params={"status_min": 400})).json()
        assert only_errors["total_calls"] == len(errors)
        assert only_errors["success_rate"] == 0.0
