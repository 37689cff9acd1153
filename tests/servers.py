"""Run an ASGI app on a real uvicorn bound to 127.0.0.1 for the duration of a block."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

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


ABANDON_AFTER = 10.0


def run_in_own_event_loop(main: Callable[[], Awaitable[None]]) -> None:
    """Run ``main`` in a fresh event loop on the calling (worker) thread.

    For tests that cancel actors inside PyMongo's server selection on an unreachable server: on
    Python 3.11 that can leave the client's topology lock held, and its tasks then never end,
    not even when cancelled. In the session's own loop they would hang the test runner's close
    at the end of the session; here they are abandoned with this loop.
    """
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(main())
    finally:
        left = asyncio.all_tasks(loop)
        for task in left:
            task.cancel()
        if left:
            loop.run_until_complete(asyncio.wait(left, timeout=ABANDON_AFTER))
        loop.close()
