"""Cold start of ``echostats serve`` to ``/api/health/ready`` = 200 on the embedded store, and the
idle RSS of the service and store processes.

Run: ``.venv/bin/python -m bench.startup [--runs 5]``. Each run uses a fresh data directory.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import machine, rss_mb, service_env, serving, summary
from echostats.store.embedded import free_loopback_port


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def one_run(idle_seconds: float) -> tuple[float, float, float]:
    port = free_loopback_port()
    with tempfile.TemporaryDirectory() as data_dir:
        env = service_env(Path(data_dir), port)
        started = time.perf_counter()
        with serving(env, Path(data_dir)) as process:
            url = f"http://127.0.0.1:{port}/api/health/ready"
            with httpx.Client(timeout=2) as client:
                while True:
                    if process.poll() is not None:
                        raise RuntimeError("echostats serve exited")
                    try:
                        if client.get(url).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    time.sleep(0.01)
            cold_start = time.perf_counter() - started
            time.sleep(idle_seconds)
            store_pid = _children(process.pid)[0]
            return cold_start, rss_mb(process.pid), rss_mb(store_pid)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle", type=float, default=5.0, help="seconds idle before reading RSS")
    args = parser.parse_args()
    starts, app_rss, store_rss = [], [], []
    for _ in range(args.runs):
        cold, app, store = one_run(args.idle)
        starts.append(cold)
        app_rss.append(app)
        store_rss.append(store)
    print(f"machine: {machine()}")
    print(f"cold start to ready (s), {args.runs} runs: {summary(starts)}")
    print(f"idle RSS service (MiB): {summary(app_rss)}")
    print(f"idle RSS store   (MiB): {summary(store_rss)}")


if __name__ == "__main__":
    main()
