"""Helpers shared by the benchmarks: process memory, a small results table, and a real
``echostats serve`` in a process of its own."""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import statistics
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from echostats.security.keys import new_key_entry, new_session_secret
from echostats.settings import Settings


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MiB, read from /proc."""
    return _status_mb(pid, "VmRSS")


def peak_rss_mb(pid: int) -> float:
    """The highest resident set size ``pid`` has had, in MiB."""
    return _status_mb(pid, "VmHWM")


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for pid {pid}")


def machine() -> str:
    cpus = len(
        [ln for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("processor")]
    )
    return f"{platform.machine()}, {cpus} cores, Python {platform.python_version()}"


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    median = statistics.median(ordered)
    return f"median {median:.3f}  min {ordered[0]:.3f}  p95 {p95:.3f}  max {ordered[-1]:.3f}"


def bench_settings(data_dir: Path) -> Settings:
    """App settings for a benchmark: fresh secrets, no release feed, no real Spotify."""
    return Settings(
        _env_file=None,
        data_dir=data_dir,
        update_feed_url="",
        spotify_client_id="bench",
        spotify_client_secret="bench-secret",
        session_secret=new_session_secret(),
        encryption_keys=new_key_entry("bench"),
    )


def service_env(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    """The environment of an ``echostats serve`` for a benchmark (none of the caller's
    ``ECHOSTATS_`` settings, fresh secrets, no release feed, quiet logs)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECHOSTATS_")}
    env.update(
        ECHOSTATS_DATA_DIR=str(data_dir),
        ECHOSTATS_PORT=str(port),
        ECHOSTATS_UPDATE_FEED_URL="",
        ECHOSTATS_LOG_LEVEL="WARNING",
        ECHOSTATS_SPOTIFY_CLIENT_ID="bench",
        ECHOSTATS_SPOTIFY_CLIENT_SECRET="bench-secret",
        ECHOSTATS_SESSION_SECRET=new_session_secret(),
        ECHOSTATS_ENCRYPTION_KEYS=new_key_entry("bench"),
    )
    env.update(extra)
    return env


@contextlib.contextmanager
def serving(env: dict[str, str], cwd: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``echostats serve`` running for the block; stopped with SIGTERM (killed after 30 s)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "echostats.cli", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=cwd,
    )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
