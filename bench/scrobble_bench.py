"""Scrobbling throughput: 10,000 listens through ``POST /1/submit-listens`` in ``import`` batches.

A real installation, as a household member without Spotify would use it: ``echostats
add-user`` makes the user, ``echostats serve`` runs (embedded store, its own process), the
printed link signs them in, a scrobble token is made through the API, and a client sends the
listens over loopback HTTP in ListenBrainz's largest batches (1,000 listens, one request after
the other, as a backfilling scrobbler does). Then the very same listens are sent again: all
duplicates, which dedup must find as fast.

Data shape: a heavy listener's seven weeks (~200 listens a day, back to back in sessions), 2,000
distinct tracks by 300 artists, half with a Spotify track URL, track lengths 2.5-5.5 minutes,
ListenBrainz's documented fields (``duration_ms``, ``release_name``, ``submission_client``).

Reported: listens/s per pass, request latency, and resident memory of the service process and
of the store process (before, after, and the peak the kernel recorded).

Run: ``.venv/bin/python -m bench.scrobble_bench`` (``--listens``, ``--batch``).
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx

from bench.common import machine, peak_rss_mb, rss_mb, service_env, serving, summary
from bench.load import _children, wait_ready
from echostats.store.embedded import free_loopback_port


def listens(count: int, seed: int = 19) -> list[dict[str, Any]]:
    """``count`` listens of a heavy listener, the last ending an hour ago, oldest first."""
    rng = random.Random(seed)
    artists = [f"Artist {i}" for i in range(300)]
    tracks = [
        (
            rng.choice(artists),
            f"Track {i}",
            f"Album {i // 10}",
            rng.randint(150_000, 330_000),
            f"{i:06d}{'x' * 16}" if i % 2 == 0 else None,
        )
        for i in range(2_000)
    ]
    moment = datetime(2026, 1, 1, tzinfo=UTC)  # moved below so the last ends an hour ago
    out: list[dict[str, Any]] = []
    for _ in range(count):
        artist, name, album, length, spotify = rng.choice(tracks)
        info: dict[str, Any] = {"duration_ms": length, "submission_client": "bench"}
        if spotify:
            info["spotify_id"] = f"https://open.spotify.com/track/{spotify}"
        out.append(
            {
                "listened_at": int(moment.timestamp()),
                "track_metadata": {
                    "artist_name": artist,
                    "track_name": name,
                    "release_name": album,
                    "additional_info": info,
                },
            }
        )
        # Back to back; a longer break now and then ends a session.
        gap = length / 1000 + (rng.uniform(600, 7200) if rng.random() < 0.05 else 1)
        moment += timedelta(seconds=gap)
    shift = int((datetime.now(UTC) - timedelta(hours=1) - moment).total_seconds())
    for listen in out:
        listen["listened_at"] += shift
    return out


def cli(env: dict[str, str], cwd: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "echostats.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout


async def send_all(
    http: httpx.AsyncClient, token: str, payload: list[dict[str, Any]], batch: int
) -> tuple[float, list[float]]:
    """Every listen in ``import`` requests of ``batch``; (seconds, per-request seconds)."""
    latencies = []
    started = time.perf_counter()
    for start in range(0, len(payload), batch):
        body = {"listen_type": "import", "payload": payload[start : start + batch]}
        t0 = time.perf_counter()
        response = await http.post(
            "/1/submit-listens", json=body, headers={"Authorization": f"Token {token}"}
        )
        latencies.append(time.perf_counter() - t0)
        assert response.status_code == 200, response.text
    return time.perf_counter() - started, latencies


async def run(count: int, batch: int) -> None:
    payload = listens(count)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        port = free_loopback_port()
        base_url = f"http://127.0.0.1:{port}"
        env = service_env(root / "data", port)
        link = urlsplit(cli(env, root, "add-user", "Bench").strip().splitlines()[-1])
        with serving(env, root) as process:
            async with httpx.AsyncClient(
                base_url=base_url, timeout=120, headers={"Origin": base_url}
            ) as http:
                await wait_ready(http, process)
                await http.get(f"{link.path}?{link.query}")
                made = await http.post("/api/v1/scrobble-tokens", json={"name": "bench"})
                token = made.json()["token"]
                store_pid = _children(process.pid)[0]
                before = rss_mb(process.pid), rss_mb(store_pid)
                first, first_latency = await send_all(http, token, payload, batch)
                after = rss_mb(process.pid), rss_mb(store_pid)
                stored = (await http.get("/api/v1/history", params={"limit": 1})).json()["total"]
                again, again_latency = await send_all(http, token, payload, batch)
                still = (await http.get("/api/v1/history", params={"limit": 1})).json()["total"]
                peaks = peak_rss_mb(process.pid), peak_rss_mb(store_pid)
    print(f"machine: {machine()}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    days = (payload[-1]["listened_at"] - payload[0]["listened_at"]) / 86_400
    print(f"listens: {count:,} over {days:.0f} days, batches of {batch:,}")
    print(f"stored after the first pass: {stored:,}; after sending them again: {still:,}")
    print("| figure | value |")
    print("|---|---|")
    print(f"| first pass: {count:,} new listens (s) | {first:.1f} |")
    print(f"| first pass rate (listens/s) | {count / first:,.0f} |")
    print(f"| first pass request latency (s) | {summary(first_latency)} |")
    print(f"| second pass: the same listens again, all duplicates (s) | {again:.1f} |")
    print(f"| second pass rate (listens/s) | {count / again:,.0f} |")
    print(f"| second pass request latency (s) | {summary(again_latency)} |")
    print(f"| RSS service before / after first pass / peak (MiB) | "
          f"{before[0]:.0f} / {after[0]:.0f} / {peaks[0]:.0f} |")  # fmt: skip
    print(f"| RSS store before / after first pass / peak (MiB) | "
          f"{before[1]:.0f} / {after[1]:.0f} / {peaks[1]:.0f} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listens", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1_000)
    args = parser.parse_args()
    anyio.run(run, args.listens, args.batch)


if __name__ == "__main__":
    main()
