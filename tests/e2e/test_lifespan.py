"""The whole app on a real uvicorn with the embedded store it launches itself."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import AsyncIterator

import anyio
import httpx
import pytest
from fastapi import FastAPI

from echostats.app import create_app
from echostats.settings import Settings
from echostats.store import Store
from echostats.store.database import close_client, make_client
from echostats.store.embedded import EmbeddedServer
from tests.servers import run_in_own_event_loop, running_uvicorn

pytestmark = pytest.mark.anyio


def _embedded(app: FastAPI) -> EmbeddedServer:
    store: Store = app.state.store
    assert store.embedded is not None
    return store.embedded


async def _wait_for_status(
    client: httpx.AsyncClient, path: str, status: int, within: float
) -> httpx.Response:
    with anyio.fail_after(within):
        while True:
            response = await client.get(path)
            if response.status_code == status:
                return response
            await anyio.sleep(0.05)


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings)
    async with running_uvicorn(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        yield app, client


async def test_lifespan_starts_and_stops_the_embedded_store(settings: Settings) -> None:
    app = create_app(settings)
    async with running_uvicorn(app) as url, httpx.AsyncClient(base_url=url) as client:
        ready = await client.get("/api/health/ready")
        assert ready.status_code == 200, ready.text
        server = _embedded(app)
        pid = server.pid
        assert pid is not None
        assert server.storage_path.is_relative_to(settings.data_dir)
        names = await app.state.store.db.list_collection_names()
        assert {"plays", "users", "meta"} <= set(names)
        # Nobody else can share the embedded store, so its events are not bridged (no change
        # stream making the store read every play written).
        assert "event_bridge" not in app.state.pipeline.liveness()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_frozen_store_makes_readiness_503_and_recovers(
    served: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = served
    pid = _embedded(app).pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        response = await _wait_for_status(client, "/api/health/ready", 503, within=15)
        body = response.json()
        assert body["status"] == "not_ready"
        assert body["checks"]["database"]["ok"] is False
        assert "database" in body["reason"]
        assert (await client.get("/api/health")).status_code == 200  # the app itself is alive
    finally:
        os.kill(pid, signal.SIGCONT)
    await _wait_for_status(client, "/api/health/ready", 200, within=15)


async def test_killed_store_is_restarted_and_readiness_returns(
    served: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = served
    server = _embedded(app)
    assert server.pid is not None
    await app.state.store["plays"].insert_one({"user_id": "u", "track_key": "t", "ended_at": 1})
    os.kill(server.pid, signal.SIGKILL)
    with anyio.fail_after(20):
        while server.restarts == 0:
            await anyio.sleep(0.05)
    await _wait_for_status(client, "/api/health/ready", 200, within=15)
    assert (
        await app.state.store["plays"].count_documents({}) == 1
    )  # the acknowledged write survived


async def test_unreachable_database_answers_503_with_retry_after(
    settings: Settings, store: Store
) -> None:
    # The app runs on a working store; the probe route reads through a real client to a
    # loopback port where nothing listens, so the driver's own connection error reaches the
    # shared error handling. (Readiness going 503 is covered by the frozen-store test above.)
    unreachable = make_client("mongodb://127.0.0.1:9/?directConnection=true")
    app = create_app(settings, store=store)

    @app.get("/api/v1/_probe/plays")
    async def count_plays() -> dict[str, int]:
        return {"plays": await unreachable["db"]["plays"].count_documents({})}

    try:
        async with running_uvicorn(app) as url, httpx.AsyncClient(base_url=url, timeout=20) as http:
            response = await http.get("/api/v1/_probe/plays")
            assert response.status_code == 503
            assert response.headers["retry-after"] == "5"
            body = response.json()
            assert body["request_id"] == response.headers["x-request-id"]
            assert "database" in body["detail"]
    finally:
        await unreachable.close()


async def test_external_mongodb_url_is_used_instead_of_embedded(
    settings: Settings, db_server: EmbeddedServer
) -> None:
    external = Settings(
        _env_file=None,
        data_dir=settings.data_dir,
        mongodb_url=db_server.url,
        database_name="external_url_test",
        spotify_client_id="x",
        spotify_client_secret="y",
        update_feed_url="",
        session_secret=settings.session_secret,
        encryption_keys=settings.encryption_keys,
    )
    app = create_app(external)
    async with running_uvicorn(app) as url, httpx.AsyncClient(base_url=url) as client:
        assert (await client.get("/api/health/ready")).status_code == 200
        assert app.state.store.embedded is None
        assert app.state.store.db.name == "external_url_test"
        assert "event_bridge" in app.state.pipeline.liveness()  # other replicas may share it
    assert not (settings.data_dir / "db").exists()


async def test_start_up_on_an_unreachable_database_finishes_and_says_not_ready(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # Every actor's first attempt meets a database that is not there: start-up must still
    # finish (bounded per actor by the supervisor) and readiness must say why it is not ready.
    # The scheduler's scan for due syncs and the enricher's rounds say so and try again later;
    # neither crashes (and restarts) over it.
    caplog.set_level(logging.WARNING)
    # Run in an event loop of its own: see ``run_in_own_event_loop``.
    await anyio.to_thread.run_sync(run_in_own_event_loop, lambda: _unreachable(settings, caplog))


async def _unreachable(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    client = make_client("mongodb://127.0.0.1:9/?directConnection=true")
    app = create_app(settings, store=Store(client=client, db=client["unreachable"]))
    waiting = {
        "periodic sync scan skipped: database unavailable",
        "enrichment round skipped: database unavailable",
    }
    try:
        async with (
            running_uvicorn(app, start_timeout=120) as url,
            httpx.AsyncClient(base_url=url, timeout=20) as http,
        ):
            ready = await http.get("/api/health/ready")
            assert ready.status_code == 503
            assert ready.headers["retry-after"] == "5"
            body = ready.json()
            assert body["checks"]["database"]["ok"] is False
            assert "database: the database is not answering" in body["reason"]
            assert (await http.get("/api/health")).status_code == 200
            with anyio.fail_after(30):
                while not waiting <= {r.getMessage() for r in caplog.records}:
                    await anyio.sleep(0.1)
            liveness = app.state.pipeline.liveness()
            for name in ("scheduler", "enricher"):
                assert liveness[name].alive, liveness[name]
                assert liveness[name].restarts == 0, liveness[name]
    finally:
        # Shutdown cancelled actors inside the driver's server selection; on Python 3.11 that
        # can leave the client's lock held, so the close is bounded as the app's own is.
        await close_client(client)
