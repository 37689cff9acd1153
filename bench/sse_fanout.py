"""SSE fan-out: N browsers on one stream, one event published; how long until all have it?

Run: ``.venv/bin/python -m bench.sse_fanout [--clients 1000] [--events 5]``.

One service process (uvicorn, the real ``Hub``/``Pipeline`` and ``event_stream_response``) and
this process as the N clients. The clients speak raw HTTP/1.1 on asyncio sockets rather than
httpx: on a small machine a thousand httpx streams cost more CPU than the server under test and
would measure the client. Each client only counts ``event: tick`` lines in what it reads.
The whole run is bounded by ``--timeout`` and the server is killed on the way out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response

from actors.events import Event
from actors.facade import Pipeline
from actors.hub import Hub
from bench.common import machine, rss_mb, summary
from echostats.api.sse import event_stream_response
from echostats.store.embedded import free_loopback_port

TOPIC = "bench"
SUBSCRIBED = b": subscribed"
TICK = b"event: tick"


def build_app() -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with Hub() as hub:
            app.state.pipeline = Pipeline(hub)
            yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/stream")
    async def stream(request: Request) -> Response:
        return event_stream_response(request, request.app.state.pipeline, [TOPIC])

    @app.post("/publish")
    async def publish(request: Request) -> dict[str, int]:
        event = Event(TOPIC, "tick", {"at": datetime.now(UTC), "pad": "x" * 200})
        return {"id": request.app.state.pipeline.publish(event).id}

    @app.get("/stats")
    async def stats(request: Request) -> dict[str, int]:
        s = request.app.state.pipeline.broadcast_stats()
        return {"subscribers": s.subscribers, "published": s.published, "dropped": s.dropped}

    return app


class Client:
    def __init__(self) -> None:
        self.ticks = 0
        self.arrivals: list[float] = []
        self.subscribed = asyncio.Event()
        self.changed = asyncio.Event()

    async def run(self, port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(
                b"GET /stream HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n"
            )
            await writer.drain()
            tail = b""
            while chunk := await reader.read(65536):
                window = tail + chunk
                if not self.subscribed.is_set() and SUBSCRIBED in window:
                    self.subscribed.set()
                new = window.count(TICK) - tail.count(TICK)
                if new:
                    now = time.perf_counter()
                    self.ticks += new
                    self.arrivals.extend([now] * new)
                    self.changed.set()
                tail = window[-len(TICK) :]
        finally:
            writer.close()


async def wait_for_subscribers(http: httpx.AsyncClient, count: int) -> None:
    # The count lives in the other process: polling it is the only way to wait.
    while (await http.get("/stats")).json()["subscribers"] != count:  # noqa: ASYNC110
        await asyncio.sleep(0.05)


async def measure(port: int, server_pid: int, n: int, events: int) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = [("machine", machine()), ("clients", str(n))]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        rows.append(("server RSS idle (MiB)", f"{rss_mb(server_pid):.1f}"))
        clients = [Client() for _ in range(n)]
        started = time.perf_counter()
        gate = asyncio.Semaphore(100)  # stay under the listen backlog while connecting

        async def connect(client: Client) -> None:
            async with gate:
                task = asyncio.create_task(client.run(port))
                tasks.append(task)
                await client.subscribed.wait()

        tasks: list[asyncio.Task[None]] = []
        await asyncio.gather(*(connect(c) for c in clients))
        await wait_for_subscribers(http, n)
        rows.append((f"connect + subscribe {n} (s)", f"{time.perf_counter() - started:.2f}"))
        rows.append((f"server RSS with {n} clients (MiB)", f"{rss_mb(server_pid):.1f}"))

        fanout: list[float] = []
        latencies: list[float] = []
        for k in range(1, events + 1):
            t0 = time.perf_counter()
            (await http.post("/publish")).raise_for_status()
            for client in clients:
                while client.ticks < k:
                    client.changed.clear()
                    await client.changed.wait()
            arrivals = [client.arrivals[k - 1] - t0 for client in clients]
            fanout.append(max(arrivals))
            latencies.extend(arrivals)
        rows.append((f"publish -> all {n} received (s), {events} events", summary(fanout)))
        rows.append(("publish -> one client received (s)", summary(latencies)))
        rows.append(("server RSS after events (MiB)", f"{rss_mb(server_pid):.1f}"))

        closed = time.perf_counter()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await wait_for_subscribers(http, 0)
        rows.append(
            ("all disconnected -> 0 subscribers (s)", f"{time.perf_counter() - closed:.2f}")
        )
        dropped = (await http.get("/stats")).json()["dropped"]
        rows.append(("slow subscribers dropped", str(dropped)))
    return rows


def wait_until_serving(port: int, process: subprocess.Popen[bytes], within: float) -> None:
    deadline = time.monotonic() + within
    with httpx.Client(timeout=2) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError("the bench server exited")
            try:
                if http.get(f"http://127.0.0.1:{port}/stats").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    raise TimeoutError("the bench server did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--events", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=120, help="seconds for the whole run")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        uvicorn.run(build_app(), host="127.0.0.1", port=args.serve, log_level="warning")
        return

    port = free_loopback_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.sse_fanout", "--serve", str(port)],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        wait_until_serving(port, server, 30)

        async def bounded() -> list[tuple[str, str]]:
            async with asyncio.timeout(args.timeout):
                return await measure(port, server.pid, args.clients, args.events)

        rows = asyncio.run(bounded())
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
