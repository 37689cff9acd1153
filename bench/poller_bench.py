"""Live ingestion figures: now-playing latency, and Spotify calls per hour.

Run: ``.venv/bin/python -m bench.poller_bench [--changes 30] [--interval 0.5]``.

1. Latency (real time): the real app (uvicorn on 127.0.0.1, embedded store in a temp dir) polls
   a real-time in-process simulator every ``--interval`` s; the bench skips to the next track
   and times how long until the SSE client on /api/v1/stream/now-playing has the new track.
   Expected: about half the sample interval on average, at most one interval plus processing.
2. Calls per hour (simulated time, default settings: 5 s while playing, up to 60 s idle): one
   user idle for 6 h, and one listening continuously for 6 h; Spotify calls counted at the
   simulator.
Bounded: every wait has a timeout; loopback only.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from pathlib import Path

import anyio

from bench.common import bench_settings, machine
from echostats.settings import Settings
from echostats.simulator import Simulator, SimulatorConfig
from echostats.store import open_store
from tests.ingest.stepped import SteppedTime
from tests.ingest.world import SseReader, live_app


def _settings(data_dir: Path, **changes: object) -> Settings:
    return bench_settings(data_dir).model_copy(update=changes)


class _RealTime(SteppedTime):
    """The real-time simulator's clock with real sleeps (the app's production timing)."""

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def latency(changes: int, interval: float, data_dir: Path) -> list[float]:
    sim = Simulator(SimulatorConfig(seed=5, realtime=True))
    settings = _settings(data_dir, poll_playing_interval=interval)
    async with (
        open_store(settings) as store,
        live_app(settings, store, sim, _RealTime(sim)) as world,
    ):
        tracks = list(sim.catalog.tracks)[: changes + 2]
        sim.listen("demo", tracks=tracks)
        await world.sign_in()
        reader = SseReader()
        delays: list[float] = []
        async with anyio.create_task_group() as tg:
            tg.start_soon(reader.read, world.client, "/api/v1/stream/now-playing")
            with anyio.fail_after(10):
                await reader.subscribed.wait()
                await reader.wait_for("now_playing", 1)
            player = sim.users["demo"].player
            for _ in range(changes):
                seen = len(reader.named("now_playing"))
                # Skip at a random phase relative to the poller's cadence.
                await anyio.sleep(interval * (0.3 + 0.7 * (len(delays) % 7) / 7))
                started = time.perf_counter()
                player.next(sim.sync())
                expected = player.current
                with anyio.fail_after(10 + interval * 4):
                    while True:
                        await reader.wait_for("now_playing", seen + 1)
                        last = reader.named("now_playing")[-1]
                        track = last["track"]
                        if isinstance(track, dict) and track.get("spotify_id") == expected:
                            break
                        seen += 1
                delays.append(time.perf_counter() - started)
            tg.cancel_scope.cancel()
    return delays


async def calls_per_hour(listening: bool, hours: float, data_dir: Path) -> float:
    sim = Simulator(SimulatorConfig(seed=9, realtime=False))
    stepped = SteppedTime(sim)
    settings = _settings(data_dir)
    async with open_store(settings) as store, live_app(settings, store, sim, stepped) as world:
        await world.sign_in()
        await stepped.settle(2)
        if listening:
            # A long playlist on repeat: the player never stops.
            sim.listen("demo", tracks=list(sim.catalog.tracks)[:60])
            player = sim.users["demo"].player
            player.set_repeat(sim.sync(), "context")
        start = len(sim.calls)
        await stepped.run_for(hours * 3600, 2, timeout=300)
        calls = [c for c in sim.calls[start:] if c.user_id == "demo"]
    return len(calls) / hours


async def main(changes: int, interval: float, hours: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        delays = await latency(changes, interval, Path(tmp) / "latency")
        idle = await calls_per_hour(False, hours, Path(tmp) / "idle")
        busy = await calls_per_hour(True, hours, Path(tmp) / "busy")
    print(f"poller bench — {machine()}")
    print("| figure | value |")
    print("|---|---|")
    print(f"| sample interval (latency run) | {interval} s |")
    p50 = statistics.median(delays) * 1000
    print(f"| now-playing latency p50 ({len(delays)} track changes) | {p50:.0f} ms |")
    print(f"| now-playing latency p99 | {_pct(delays, 0.99) * 1000:.0f} ms |")
    print(f"| now-playing latency max | {max(delays) * 1000:.0f} ms |")
    print(f"| Spotify calls per hour, idle user ({hours:g} h simulated) | {idle:.1f} |")
    print(
        f"| Spotify calls per hour, listening continuously ({hours:g} h simulated) | {busy:.1f} |"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=30)
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--hours", type=float, default=6.0)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(main, args.changes, args.interval, args.hours, backend="asyncio")
