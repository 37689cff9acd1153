"""The suite-wide response watch finds a secret, even split across two body chunks."""

from __future__ import annotations

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from tests import leaks

pytestmark = pytest.mark.anyio


async def leaky(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x-ok", b"1")]})
    await send(
        {"type": "http.response.body", "body": b'{"token": "test-client-', "more_body": True}
    )
    await send({"type": "http.response.body", "body": b'secret"}'})


async def test_a_secret_split_across_chunks_is_found() -> None:
    before = list(leaks.response_leaks)
    transport = httpx.ASGITransport(app=leaks.watch(leaky))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/leak")).status_code == 200
    found = leaks.response_leaks[len(before) :]
    # The leak was recorded; take it back out, so the session-wide check judges real answers.
    del leaks.response_leaks[len(before) :]
    assert found == ["GET /leak: the body carries test-client-…"]
