"""Load: overview, top lists, history pages and SSE streams at the same time, at 10, 50 and 200
concurrent clients, against a real ``echostats serve`` on its embedded store.

Run: ``.venv/bin/python -m bench.load [--rows 20000] [--days 365] [--seconds 20]``.

Set-up, all through the service's public surface: this process serves a Spotify simulator
(real HTTP on loopback) and starts ``echostats serve`` wired to it in a fresh data directory;
signs the simulator's user in through the OAuth flow; uploads a generated privacy export
(``bench.export_generator``) through ``POST /api/v1/history/import`` and waits for the job.
Then, for each concurrency level, that many clients (httpx, one connection each) loop over the
read routes for ``--seconds`` while ``max(1, clients // 10)`` SSE clients stay subscribed to
the now-playing and stats streams. Throughput counts completed requests; latencies are per
request. The service's and its store's RSS and CPU (from /proc) are sampled over each window.
Everything is bounded by ``--timeout`` and the service is stopped on the way out.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import httpx

from bench.common import machine, rss_mb, service_env, serving
from bench.export_generator import write_export
from echostats.simulator import Simulator, SimulatorConfig
from echostats.simulator.server import serve as serve_simulator
from echostats.store.embedded import free_loopback_port

ROUTES: tuple[tuple[str, str], ...] = (
    ("overview", "/api/v1/analytics/overview?period=month"),
    ("top tracks", "/api/v1/tracks/top?period=month&limit=20"),
    ("top artists", "/api/v1/artists/top?period=year&limit=20"),
    ("history p1", "/api/v1/history?limit=50&page=1"),
    ("history p5", "/api/v1/history?limit=50&page=5"),
)
STREAMS = ("/api/v1/stream/now-playing", "/api/v1/stream/stats")
LEVELS = (10, 50, 200)
TICKS = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Window:
    clients: int
    seconds: float
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    sse_events: int = 0
    sse_subscribed: int = 0
    app_cpu: float = 0.0
    store_cpu: float = 0.0
    app_rss: float = 0.0
    store_rss: float = 0.0

    def row(self, name: str, samples: list[float]) -> str:
        ordered = sorted(samples)
        if not ordered:
            return f"| {self.clients} | {name} | 0 | - | - | - | {self.errors.get(name, 0)} |"
        return (
            f"| {self.clients} | {name} | {len(ordered) / self.seconds:,.1f} | "
            f"{percentile(ordered, 0.50) * 1000:,.0f} | {percentile(ordered, 0.95) * 1000:,.0f} | "
            f"{percentile(ordered, 0.99) * 1000:,.0f} | {self.errors.get(name, 0)} |"
        )


async def reader(http: httpx.AsyncClient, offset: int, window: Window, stop: anyio.Event) -> None:
    i = offset
    while not stop.is_set():
        name, path = ROUTES[i % len(ROUTES)]
        i += 1
        started = time.perf_counter()
        try:
            response = await http.get(path)
        except httpx.HTTPError:
            window.errors[name] += 1
            continue
        if stop.is_set():
            return  # only requests that finished inside the window count
        if response.status_code == 200:
            window.latencies[name].append(time.perf_counter() - started)
        else:
            window.errors[name] += 1


async def listener(http: httpx.AsyncClient, path: str, window: Window) -> None:
    async with http.stream("GET", path, timeout=None) as response:
        async for line in response.aiter_lines():
            if line.startswith(": subscribed"):
                window.sse_subscribed += 1
            elif line.startswith("event:"):
                window.sse_events += 1


async def measure(
    base_url: str, cookies: httpx.Cookies, clients: int, seconds: float, pids: tuple[int, int]
) -> Window:
    window = Window(clients, seconds)
    app_pid, store_pid = pids
    limits = httpx.Limits(max_connections=clients + 50, max_keepalive_connections=clients + 50)
    async with httpx.AsyncClient(
        base_url=base_url, cookies=cookies, timeout=120, limits=limits
    ) as http:
        stop = anyio.Event()
        async with anyio.create_task_group() as tg:
            for k in range(max(1, clients // 10)):
                tg.start_soon(listener, http, STREAMS[k % len(STREAMS)], window)
            cpu0 = cpu_seconds(app_pid), cpu_seconds(store_pid)
            t0 = time.perf_counter()
            for k in range(clients):
                tg.start_soon(reader, http, k, window, stop)
            await anyio.sleep(seconds / 2)
            window.app_rss, window.store_rss = rss_mb(app_pid), rss_mb(store_pid)
            await anyio.sleep(seconds / 2)
            stop.set()
            elapsed = time.perf_counter() - t0
            window.app_cpu = (cpu_seconds(app_pid) - cpu0[0]) / elapsed
            window.store_cpu = (cpu_seconds(store_pid) - cpu0[1]) / elapsed
            tg.cancel_scope.cancel()  # requests still in flight are not counted
        window.seconds = elapsed
    return window


async def sign_in(http: httpx.AsyncClient) -> None:
    login = await http.get("/api/v1/auth/login", headers={"Accept": "application/json"})
    login.raise_for_status()
    async with httpx.AsyncClient(timeout=30) as browser:
        consent = await browser.get(f"{login.json()['url']}&sim_user=demo")
    location = urlsplit(consent.headers["location"])
    done = await http.get(f"{location.path}?{location.query}")
    assert done.status_code in {302, 303, 307}, done.text


async def import_history(http: httpx.AsyncClient, paths: list[Path]) -> dict[str, object]:
    files = [("file", (p.name, p.read_bytes(), "application/json")) for p in paths]
    accepted = await http.post("/api/v1/history/import", files=files)
    assert accepted.status_code == 202, accepted.text
    job_id = accepted.json()["job_id"]
    while True:
        job: dict[str, object] = (await http.get(f"/api/v1/sync-jobs/{job_id}")).json()
        if job["status"] not in {"pending", "running"}:
            return job
        await anyio.sleep(0.5)


async def wait_ready(http: httpx.AsyncClient, process: subprocess.Popen[bytes]) -> None:
    while True:
        if process.poll() is not None:
            raise RuntimeError("echostats serve exited during start-up")
        try:
            if (await http.get("/api/health/ready")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await anyio.sleep(0.1)


async def run(args: argparse.Namespace) -> None:
    sim = Simulator(SimulatorConfig(seed=2026, realtime=True))
    sim.start_autoplay("demo", since=datetime.now(UTC) - timedelta(hours=6))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths, truth = write_export(root / "export", args.rows, span=timedelta(days=args.days))
        async with anyio.create_task_group() as tg:
            sim_port = await tg.start(serve_simulator, sim, "127.0.0.1", 0)
            port = free_loopback_port()
            base_url = f"http://127.0.0.1:{port}"
            sim_base = f"http://127.0.0.1:{sim_port}"
            env = service_env(
                root / "data",
                port,
                ECHOSTATS_SPOTIFY_CLIENT_ID=sim.config.client_id,
                ECHOSTATS_SPOTIFY_CLIENT_SECRET=sim.config.client_secret,
                ECHOSTATS_SPOTIFY_ACCOUNTS_URL=sim_base,
                ECHOSTATS_SPOTIFY_API_URL=f"{sim_base}/v1",
            )
            try:
                with serving(env, root) as process:
                    async with httpx.AsyncClient(
                        base_url=base_url, timeout=60, headers={"Origin": base_url}
                    ) as http:
                        await wait_ready(http, process)
                        await sign_in(http)
                        t0 = time.perf_counter()
                        job = await import_history(http, paths)
                        imported_in = time.perf_counter() - t0
                        store_pid = _children(process.pid)[0]
                        print(f"machine: {machine()}")
                        print(
                            f"history: {truth.rows:,} export rows over {args.days} days imported"
                            f" in {imported_in:.0f} s ({job['status']}; {truth.counted:,} "
                            "counted plays) + the simulator's live plays"
                        )
                        print(
                            f"idle RSS: service {rss_mb(process.pid):.0f} MiB, "
                            f"store {rss_mb(store_pid):.0f} MiB"
                        )
                        windows = [
                            await measure(
                                base_url,
                                http.cookies,
                                clients,
                                args.seconds,
                                (process.pid, store_pid),
                            )
                            for clients in args.levels
                        ]
            finally:
                tg.cancel_scope.cancel()
    report(windows)


def report(windows: list[Window]) -> None:
    print()
    print("| clients | route | req/s | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|---|")
    for window in windows:
        every: list[float] = []
        for name, _ in ROUTES:
            print(window.row(name, window.latencies[name]))
            every.extend(window.latencies[name])
        window.errors["all"] = sum(window.errors.values())
        print(window.row("**all**", every))
    print()
    print(
        "| clients | SSE clients | SSE events | service CPU | store CPU | service RSS | store RSS |"
    )
    print("|---|---|---|---|---|---|---|")
    for w in windows:
        print(
            f"| {w.clients} | {w.sse_subscribed}/{max(1, w.clients // 10)} | {w.sse_events} | "
            f"{w.app_cpu * 100:.0f} % | {w.store_cpu * 100:.0f} % | {w.app_rss:.0f} MiB | "
            f"{w.store_rss:.0f} MiB |"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000, help="export rows to import first")
    parser.add_argument("--days", type=int, default=365, help="days the export spans")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds per level")
    parser.add_argument("--levels", type=int, nargs="+", default=list(LEVELS))
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds for the whole run")
    args = parser.parse_args()

    async def bounded() -> None:
        with anyio.fail_after(args.timeout):
            await run(args)

    asyncio.run(bounded())


if __name__ == "__main__":
    main()
