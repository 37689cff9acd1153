"""Run a simulator as a real HTTP server (uvicorn), for ``echostats simulator`` and e2e tests."""

from __future__ import annotations

import socket
from collections.abc import Callable

import anyio
import uvicorn
from anyio.abc import TaskStatus

from echostats.simulator.app import Simulator

STARTUP_TIMEOUT_S = 10.0


def bind(host: str, port: int) -> socket.socket:
    """Bind before serving so the caller learns the real port when ``port`` is 0."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


async def serve(
    sim: Simulator,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    ready: Callable[[int], None] | None = None,
    log_level: str = "warning",
    task_status: TaskStatus[int] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``sim.app`` until cancelled.

    The bound port is reported through ``task_status`` (``port = await tg.start(serve, sim)``)
    and through ``ready(port)``. Cancellation shuts uvicorn down gracefully, so no socket or
    connection is left behind.
    """
    sock = bind(host, port)
    bound_port = int(sock.getsockname()[1])
    config = uvicorn.Config(sim.app, log_level=log_level, lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    finished = anyio.Event()

    async def run() -> None:
        try:
            # Shielded: shutdown is driven by ``should_exit`` so uvicorn can close cleanly.
            with anyio.CancelScope(shield=True):
                await server.serve(sockets=[sock])
        finally:
            sock.close()
            finished.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        try:
            with anyio.fail_after(STARTUP_TIMEOUT_S):
                # uvicorn offers no startup callback; ``started`` flips once it is listening.
                while not server.started:
                    if finished.is_set():
                        raise RuntimeError("the simulator server stopped during startup")
                    await anyio.sleep(0.01)
            task_status.started(bound_port)
            if ready is not None:
                ready(bound_port)
            await anyio.sleep_forever()
        finally:
            server.should_exit = True
