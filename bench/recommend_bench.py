"""Recommendation cost at scale: the history read, the pure ranking, and playlist play counts.

Seeds one user with N counted plays spread over the two-year lookback on a private embedded
server (bulk insert), then times, ``SAMPLES`` times each: ``Listening.listens_since`` (the one
indexed range read the route does), ``recommend`` (the pure ranking, mixed seeds), and
``Listening.play_counts`` for a 130-item playlist (one aggregation). Loopback only, bounded.

    .venv/bin/python -m bench.recommend_bench [plays ...]      # default 10000
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio

from bench.common import machine, summary
from echostats.domain.plays import Play, TimePrecision, to_document, track_key
from echostats.domain.recommend import Options, recommend
from echostats.store.database import Store, make_client
from echostats.store.embedded import running_embedded_server
from echostats.store.listening import Listening

SAMPLES = 5
TRACKS, ARTISTS = 5_000, 800
USER = "bench-user"


def plays_for(count: int, now: datetime) -> list[Play]:
    rng = random.Random(7)
    span = timedelta(days=729).total_seconds()
    out = []
    for n in range(count):
        track = min(int(rng.paretovariate(0.9)) - 1, TRACKS - 1)
        artist = track % ARTISTS
        # Sessions of ten back-to-back plays, spread evenly over the lookback.
        sessions = max(1, count // 10)
        ended = now - timedelta(seconds=span * (n // 10 + 0.5) / sessions - (n % 10) * 180)
        tid = f"{track:022d}"
        out.append(
            Play(
                user_id=USER,
                track_key=track_key(tid, "", ""),
                track_id=tid,
                track_name=f"Track {track}",
                artist_names=(f"Artist {artist}",),
                artist_ids=(f"{artist:022d}",),
                album_name=None,
                album_id=None,
                ended_at=ended,
                started_at=ended - timedelta(minutes=3),
                ms_played=180_000,
                ms_played_estimated=False,
                duration_ms=180_000,
                source="import",
                precision=TimePrecision.SECOND,
            )
        )
    return out


def timed(samples: list[float], started: float) -> None:
    samples.append(time.perf_counter() - started)


async def run(sizes: list[int]) -> None:
    print(f"machine: {machine()}; {SAMPLES} samples per row, seconds")
    print(f"{'plays':>7}  {'step':<22} timing")
    with tempfile.TemporaryDirectory() as tmp:
        async with running_embedded_server(Path(tmp)) as server:
            client = make_client(server.url)
            try:
                for size in sizes:
                    store = Store(client=client, db=client[f"bench_{size}"])
                    await store.prepare()
                    now = datetime.now(UTC)
                    plays = plays_for(size, now)
                    docs = [{**to_document(p), "counted": True} for p in plays]
                    for start in range(0, len(docs), 5_000):
                        await store["plays"].insert_many(docs[start : start + 5_000])
                    listening = Listening(store)
                    keys = {f"spotify:track:{i:022d}" for i in range(0, 1300, 10)}
                    reads: list[float] = []
                    ranks: list[float] = []
                    counts: list[float] = []
                    for _ in range(SAMPLES):
                        started = time.perf_counter()
                        listens = await listening.listens_since(
                            USER, now - timedelta(days=730), 50_000
                        )
                        timed(reads, started)
                        started = time.perf_counter()
                        result = recommend(listens, now, Options(limit=20))
                        timed(ranks, started)
                        started = time.perf_counter()
                        await listening.play_counts(USER, keys)
                        timed(counts, started)
                    reasons = sorted({i.reason for i in result.items})
                    print(f"{size:>7}  {'items / reasons':<22} {len(result.items)} {reasons}")
                    print(f"{size:>7}  {'history read':<22} {summary(reads)}")
                    print(f"{size:>7}  {'ranking (pure)':<22} {summary(ranks)}")
                    print(f"{size:>7}  {'130-item play counts':<22} {summary(counts)}")
                    await client.drop_database(f"bench_{size}")
            finally:
                await client.close()


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10_000]
    anyio.run(run, sizes)


if __name__ == "__main__":
    main()
