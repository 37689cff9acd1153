"""``ECHOSTATS_LOG_FORMAT=json``: one JSON object per line, each request's lines carry its id."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest

from echostats.app import create_app
from echostats.logs import JsonFormatter, configure_logging
from echostats.settings import Settings
from echostats.store import Store

pytestmark = pytest.mark.anyio


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The logging the CLI sets up for ``json``, written to a buffer; restored afterwards (the
    suite's own secret-scanning handler lives on the root logger too)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("DEBUG", "json")
    (handler,) = root.handlers
    assert isinstance(handler.formatter, JsonFormatter)
    buffer = io.StringIO()
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    try:
        yield buffer
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


async def test_json_lines_carry_the_request_id(
    settings: Settings, store: Store, json_log: io.StringIO
) -> None:
    app = create_app(settings, store=store)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        given = await client.get("/api/health", headers={"X-Request-ID": "trace-12345678"})
        fresh = await client.get("/api/v1/me")
    assert fresh.status_code == 401
    entries = [json.loads(line) for line in json_log.getvalue().splitlines()]
    assert entries, "nothing was logged"
    assert all({"ts", "level", "logger", "msg"} <= entry.keys() for entry in entries)
    requests = {e["path"]: e for e in entries if e["msg"] == "request"}
    assert requests["/api/health"]["request_id"] == "trace-12345678"
    assert given.headers["x-request-id"] == "trace-12345678"
    assert requests["/api/v1/me"]["request_id"] == fresh.headers["x-request-id"]
    assert requests["/api/v1/me"]["status"] == 401
    started = next(e for e in entries if e["msg"] == "echostats started")
    assert "request_id" not in started  # only lines written while serving a request have one
