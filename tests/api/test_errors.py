"""Every failure class answers in the spec's shape, with a request id and no internals."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Query

from echostats.app import create_app
from echostats.errors import NotFound, RateLimited
from echostats.settings import Settings
from echostats.store import Store

pytestmark = pytest.mark.anyio


def _with_probe_routes(app: FastAPI) -> FastAPI:
    """Routes that fail on purpose, to exercise the shared handlers."""

    @app.get("/api/v1/_probe/validate")
    async def validate(count: int = Query(ge=1)) -> dict[str, int]:
        return {"count": count}

    @app.get("/api/v1/_probe/crash")
    async def crash() -> None:
        raise RuntimeError("internal detail: password=hunter2 at /srv/app.py line 12")

    @app.get("/api/v1/_probe/missing")
    async def missing() -> None:
        raise NotFound("No play with that id exists.")

    @app.get("/api/v1/_probe/slow-down")
    async def slow_down() -> None:
        raise RateLimited("Too many sign-in attempts; wait a minute.", retry_after=42.5)

    return app


@pytest.fixture
async def client(settings: Settings, store: Store) -> AsyncIterator[httpx.AsyncClient]:
    app = _with_probe_routes(create_app(settings, store=store))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


def _assert_error_shape(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status
    body = response.json()
    assert isinstance(body["detail"], str)
    assert body["detail"].endswith(".")
    assert body["request_id"] == response.headers["x-request-id"]
    return dict(body)


async def test_unknown_route_is_404(client: httpx.AsyncClient) -> None:
    body = _assert_error_shape(await client.get("/api/v1/nothing-here"), 404)
    assert "/api/v1/nothing-here" in str(body["detail"])


async def test_wrong_method_is_405(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/health")
    _assert_error_shape(response, 405)
    assert "GET" in response.headers["allow"]


async def test_validation_error_is_422_with_errors_list(client: httpx.AsyncClient) -> None:
    body = _assert_error_shape(await client.get("/api/v1/_probe/validate?count=zero"), 422)
    assert body["errors"] == [
        {
            "field": "count",
            "message": "Input should be a valid integer, unable to parse string as an integer",
        }
    ]
    body = _assert_error_shape(await client.get("/api/v1/_probe/validate"), 422)
    assert body["errors"] == [{"field": "count", "message": "Field required"}]


async def test_crash_is_500_without_internals(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/_probe/crash")
    body = _assert_error_shape(response, 500)
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert "logged" in str(body["detail"])


async def test_domain_errors_keep_their_status_and_sentence(client: httpx.AsyncClient) -> None:
    body = _assert_error_shape(await client.get("/api/v1/_probe/missing"), 404)
    assert body["detail"] == "No play with that id exists."


async def test_rate_limit_carries_retry_after(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/_probe/slow-down")
    _assert_error_shape(response, 429)
    assert response.headers["retry-after"] == "43"


async def test_every_response_has_a_request_id(client: httpx.AsyncClient) -> None:
    ids = set()
    for path in ("/api/health", "/api/health/ready", "/api/nope", "/api/openapi.json"):
        response = await client.get(path)
        ids.add(response.headers["x-request-id"])
    assert len(ids) == 4


async def test_sane_incoming_request_id_is_kept_and_junk_replaced(
    client: httpx.AsyncClient,
) -> None:
    kept = await client.get("/api/health", headers={"X-Request-ID": "trace-1234abcd"})
    assert kept.headers["x-request-id"] == "trace-1234abcd"
    junk = await client.get("/api/health", headers={"X-Request-ID": "bad id\nforged log line"})
    assert junk.headers["x-request-id"] != "bad id\nforged log line"
    assert len(junk.headers["x-request-id"]) == 32


async def test_docs_are_served(client: httpx.AsyncClient) -> None:
    """Swagger UI and ReDoc work offline: every script and stylesheet they load is served here."""
    for page in ("/api/docs", "/api/redoc"):
        html = await client.get(page)
        assert html.status_code == 200
        assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html.text)
        assert assets, html.text
        for asset in assets:
            assert asset.startswith("/"), f"{page} loads {asset} from elsewhere"
            served = await client.get(asset)
            assert served.status_code == 200, asset
            assert len(served.content) > 10_000, asset
    schema = (await client.get("/api/openapi.json")).json()
    assert {"/api/health", "/api/health/ready", "/api/health/update"} <= set(schema["paths"])
