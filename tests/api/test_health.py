from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from echostats import __version__
from echostats.app import create_app
from echostats.settings import Settings
from echostats.store import Store

pytestmark = pytest.mark.anyio

FEED = "http://feed.test/releases/latest"


class LocalFeed:
    """A release feed on an in-process ASGI app (the GitHub releases API shape)."""

    def __init__(self) -> None:
        self.payload: object = {
            "tag_name": "v99.1.0",
            "html_url": "https://example.org/releases/v99.1.0",
            "body": "Faster imports.",
            "published_at": "2026-11-01T12:00:00Z",
        }
        self.hits = 0
        self.app = Starlette(routes=[Route("/releases/latest", self.latest)])

    async def latest(self, request: Request) -> Response:
        self.hits += 1
        if self.payload == "garbage":
            return PlainTextResponse("<html>rate limited</html>")
        return JSONResponse(self.payload)


async def _client(app: object) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://test")


@pytest.fixture
def feed() -> LocalFeed:
    return LocalFeed()


@pytest.fixture
async def feed_http(feed: LocalFeed) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=feed.app)) as http:
        yield http


async def _get(
    settings: Settings, store: Store, path: str, http: httpx.AsyncClient | None = None
) -> httpx.Response:
    app = create_app(settings, store=store, http=http)
    async with app.router.lifespan_context(app), await _client(app) as client:
        return await client.get(path)


async def test_liveness(settings: Settings, store: Store) -> None:
    response = await _get(settings, store, "/api/health")
    assert response.json() == {
        "status": "healthy",
        "service": "echostats-api",
        "version": __version__,
    }


async def test_ready_when_database_and_credentials_are_there(
    settings: Settings, store: Store
) -> None:
    response = await _get(settings, store, "/api/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["spotify_credentials"]["ok"] is True


async def test_not_ready_without_spotify_credentials(settings: Settings, store: Store) -> None:
    bare = settings.model_copy(update={"spotify_client_id": ""})
    response = await _get(bare, store, "/api/health/ready")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert body["status"] == "not_ready"
    assert "ECHOSTATS_SPOTIFY_CLIENT_ID" in body["reason"]
    assert body["checks"]["database"]["ok"] is True


async def test_update_available_from_feed(
    settings: Settings, store: Store, feed: LocalFeed, feed_http: httpx.AsyncClient
) -> None:
    configured = settings.model_copy(update={"update_feed_url": FEED})
    body = (await _get(configured, store, "/api/health/update", feed_http)).json()
    assert body == {
        "current_version": __version__,
        "latest_version": "99.1.0",
        "update_available": True,
        "release_url": "https://example.org/releases/v99.1.0",
        "release_notes": "Faster imports.",
        "published_at": "2026-11-01T12:00:00.000Z",
    }


async def test_update_check_is_cached(
    settings: Settings, store: Store, feed: LocalFeed, feed_http: httpx.AsyncClient
) -> None:
    configured = settings.model_copy(update={"update_feed_url": FEED})
    app = create_app(configured, store=store, http=feed_http)
    async with app.router.lifespan_context(app), await _client(app) as client:
        for _ in range(3):
            assert (await client.get("/api/health/update")).status_code == 200
    assert feed.hits == 1


async def test_older_release_is_not_an_update(
    settings: Settings, store: Store, feed: LocalFeed, feed_http: httpx.AsyncClient
) -> None:
    feed.payload = {"tag_name": "v0.0.1"}
    configured = settings.model_copy(update={"update_feed_url": FEED})
    body = (await _get(configured, store, "/api/health/update", feed_http)).json()
    assert body["latest_version"] == "0.0.1"
    assert body["update_available"] is False


@pytest.mark.parametrize("payload", ["garbage", {"unexpected": True}, ["not", "an", "object"]])
async def test_broken_feed_degrades_to_unknown(
    settings: Settings, store: Store, feed: LocalFeed, feed_http: httpx.AsyncClient, payload: object
) -> None:
    feed.payload = payload
    configured = settings.model_copy(update={"update_feed_url": FEED})
    response = await _get(configured, store, "/api/health/update", feed_http)
    assert response.status_code == 200
    assert response.json()["latest_version"] is None
    assert response.json()["update_available"] is False


async def test_offline_feed_degrades_to_unknown(settings: Settings, store: Store) -> None:
    # Port 9 on loopback: nothing listens, the connection is refused at once.
    offline = settings.model_copy(update={"update_feed_url": "http://127.0.0.1:9/releases"})
    response = await _get(offline, store, "/api/health/update")
    assert response.status_code == 200
    assert response.json()["latest_version"] is None
