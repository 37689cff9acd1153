"""Run an ASGI app on a real uvicorn bound to 127.0.0.1 for the duration of a block."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import anyio
import uvicorn
from starlette.types import ASGIApp


@contextlib.asynccontextmanager
async def running_uvicorn(
    app: ASGIApp, start_timeout: float = 30, port: int = 0
) -> AsyncIterator[str]:
    """Yield the base URL of ``app`` served by uvicorn on loopback (a free port unless given)."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        lifespan="on",
        timeout_graceful_shutdown=5,  # an open stream must not hold a test's teardown
    )
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve)
        with anyio.fail_after(start_timeout):
            while not server.started:
                if server.should_exit:
                    raise RuntimeError("uvicorn exited during start-up")
                await anyio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
