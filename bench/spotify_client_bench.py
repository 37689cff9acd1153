"""Spotify client overhead against the in-process simulator.

Measures, for ``me()`` and ``currently_playing()``: calls per second sequentially and with 20
concurrent callers, and the client's share of each call (total time minus the time spent inside
the simulator's ASGI app). Run: ``.venv/bin/python bench/spotify_client_bench.py [calls]``.
Results are recorded by hand in bench/RESULTS.md.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import anyio
import httpx

from echostats.simulator import Simulator, SimulatorConfig
from echostats.spotify import SpotifyClient, SpotifyConfig, TokenSet
from echostats.spotify.records import ApiCallRecord

USER = "bench"
CONCURRENCY = 20


class _Store:
    def __init__(self) -> None:
        self.tokens: dict[str, TokenSet] = {}

    async def load(self, user_id: str) -> TokenSet | None:
        return self.tokens.get(user_id)

    async def save(self, user_id: str, tokens: TokenSet) -> None:
        self.tokens[user_id] = tokens


class _TimedApp:
    """Wraps the simulator's ASGI app to measure the time spent inside it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.inside = 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        began = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.inside += time.perf_counter() - began


async def _run(
    label: str, calls: int, concurrency: int, call: Callable[[], Awaitable[object]], app: _TimedApp
) -> tuple[str, int, int, float, float, float]:
    app.inside = 0.0
    per_worker = calls // concurrency

    async def worker() -> None:
        for _ in range(per_worker):
            await call()

    began = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for _ in range(concurrency):
            tg.start_soon(worker)
    elapsed = time.perf_counter() - began
    done = per_worker * concurrency
    overhead_ms = max(0.0, elapsed - app.inside) / done * 1000 if concurrency == 1 else float("nan")
    return label, concurrency, done, done / elapsed, elapsed / done * 1000, overhead_ms


async def main(calls: int) -> None:
    sim = Simulator(
        SimulatorConfig(
            seed=42,
            client_id="sim-client-id",
            client_secret="sim-client-secret",
            realtime=False,
            dev_mode=True,
        )
    )
    sim.add_user(USER, display_name="Bench", premium=True)
    sim.listen(USER, context_uri=f"spotify:album:{next(iter(sim.catalog.albums))}")
    app = _TimedApp(sim.app)
    records: list[ApiCallRecord] = []
    store = _Store()
    answer = sim.issue_tokens(USER)
    store.tokens[USER] = TokenSet(
        access_token=str(answer["access_token"]),
        refresh_token=str(answer["refresh_token"]),
        expires_at=sim.clock.now() + timedelta(seconds=3600),
        scope=str(answer.get("scope", "")),
    )
    config = SpotifyConfig(
        client_id="sim-client-id",
        client_secret="sim-client-secret",
        redirect_uri="http://127.0.0.1:8000/api/v1/auth/callback",
        accounts_url="http://sim",
        api_url="http://sim/v1",
    )
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim")
    async with (
        http,
        SpotifyClient(config, store, http=http, sink=records.append, now=sim.clock.now) as client,
    ):
        rows = []
        for label, call in (
            ("me()", lambda: client.me(USER)),
            ("currently_playing()", lambda: client.currently_playing(USER)),
        ):
            await _run(label, 50, 1, call, app)  # warm-up
            rows.append(await _run(label, calls, 1, call, app))
            rows.append(await _run(label, calls, CONCURRENCY, call, app))
    header = f"{'call':<22}{'conc':>6}{'calls':>8}{'calls/s':>10}{'ms/call':>10}{'client ms':>11}"
    print(header)
    print("-" * len(header))
    for label, conc, done, rate, ms, overhead in rows:
        client_ms = "-" if overhead != overhead else f"{overhead:.3f}"  # NaN for concurrent rows
        print(f"{label:<22}{conc:>6}{done:>8}{rate:>10.0f}{ms:>10.3f}{client_ms:>11}")
    print(f"records emitted: {len(records)}")


if __name__ == "__main__":
    anyio.run(main, int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
