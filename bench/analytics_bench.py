"""Analytics latency at scale: rollup-served routes vs computing from raw plays, one run.

Seeds one user with N plays over ten years on a private embedded server (plays inserted in
bulk, rollups computed with the same domain code the aggregator uses),
then times each route through the whole app (ASGI, auth included) for ``week`` and ``all_time``,
and the same figures computed from raw plays (fetch the range, sum into rollups, merge) as the
baseline. Loopback only, bounded: ``SAMPLES`` requests per row.

    .venv/bin/python -m bench.analytics_bench [plays] [--data-dir DIR]   # default 200000
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import httpx
from pymongo.errors import BulkWriteError

from bench.common import bench_settings, machine
from echostats.app import create_app
from echostats.domain.analytics import summarise_plays
from echostats.domain.counting import decide
from echostats.domain.periods import ResolvedRange, parse_tz, resolve_range
from echostats.domain.plays import Play, TimePrecision
from echostats.domain.rollups import Builder
from echostats.store.analytics import AnalyticsStore
from echostats.store.database import Store, make_client
from echostats.store.embedded import running_embedded_server
from echostats.store.plays import new_play_id, play_document
from echostats.store.rollups import RollupStore
from echostats.store.users import Profile, Users

SAMPLES = 20
ZONE = "Europe/Berlin"
TRACKS, ARTISTS, ALBUMS = 20_000, 3_000, 6_000


def plays_for(user_id: str, count: int, now: datetime) -> list[Play]:
    rng = random.Random(7)
    span = timedelta(days=3650).total_seconds()
    out = []
    for n in range(count):
        track = min(int(rng.paretovariate(0.9)) - 1, TRACKS - 1)
        artist = track % ARTISTS
        ms = rng.choice((200_000, 180_000, 240_000, 12_000))
        ended = now - timedelta(seconds=span * (n + 0.5) / count)
        out.append(
            Play(
                user_id=user_id,
                track_key=f"spotify:track:t{track:021d}",
                track_id=f"t{track:021d}",
                track_name=f"Song {track}",
                artist_names=(f"Artist {artist}",),
                artist_ids=(f"a{artist:021d}",),
                album_name=f"Album {track % ALBUMS}",
                album_id=f"b{track % ALBUMS:021d}",
                ended_at=ended,
                started_at=ended - timedelta(milliseconds=ms),
                ms_played=ms,
                ms_played_estimated=False,
                duration_ms=240_000,
                source="import",
                precision=TimePrecision.SECOND,
                skipped=ms < 30_000,
            )
        )
    return out


async def insert_idempotently(store: Store, docs: list[dict[str, object]]) -> None:
    """On a loaded machine the driver may retry an insert that did land: duplicates are fine."""
    try:
        await store["plays"].insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
            raise


async def seed(store: Store, user_id: str, count: int, now: datetime) -> float:
    await store.prepare()  # building indexes after a bulk load is slower still here
    began = time.perf_counter()
    plays = plays_for(user_id, count, now)
    builder = Builder(parse_tz(ZONE))
    docs, pairs = [], []
    for play in plays:
        counted = decide(play) is None
        pairs.append((play, counted))
        docs.append(play_document(new_play_id(), play, counted=counted, batch="seed"))
        if len(docs) == 2_000:
            await insert_idempotently(store, docs)
            builder.add(pairs)
            docs.clear()
            pairs.clear()
    if docs:
        await insert_idempotently(store, docs)
        builder.add(pairs)
    await RollupStore(store).replace_all(user_id, builder.rollups(), "seed")
    return time.perf_counter() - began


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


async def timed(call: object, samples: int) -> list[float]:
    out = []
    for _ in range(samples):
        began = time.perf_counter()
        await call()  # type: ignore[operator]
        out.append(time.perf_counter() - began)
    return out


async def main(count: int, data_dir: Path | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with running_embedded_server(data_dir or Path(tmp) / "db") as server:
            client = make_client(server.url)
            store = Store(client=client, db=client["bench"])
            settings = bench_settings(Path(tmp) / "data")
            now = datetime.now(UTC)
            user, _ = await Users(store).upsert_from_profile(
                Profile(spotify_id="bench", display_name=None, image_url=None, product=None), now
            )
            await store["users"].update_one({"_id": user.id}, {"$set": {"time_zone": ZONE}})
            if data_dir is None or not any(
                (data_dir / n).exists() for n in ("seeded", "seeded.json")
            ):
                seconds = await seed(store, user.id, count, now)
                print(f"seeded {count:,} plays in {seconds:.0f} s ({machine()})")
                if data_dir is not None:
                    (data_dir / "seeded").write_text(f"{count}\n")
            else:
                print(f"reusing the plays seeded in {data_dir} ({machine()})")
            app = create_app(settings, store=store)
            async with app.router.lifespan_context(app):
                token = app.state.auth.signer.issue(user.id, 1, now)
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(
                    transport=transport,
                    base_url=settings.base_url,
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=600,
                ) as http:
                    await report(http, AnalyticsStore(store), user.id)
            await client.close()


ROUTES = {
    "overview": "/api/v1/analytics/overview",
    "trend": "/api/v1/analytics/trend",
    "top tracks": "/api/v1/tracks/top",
    "top artists": "/api/v1/artists/top",
    "top albums": "/api/v1/albums/top",
    "heatmap": "/api/v1/analytics/heatmap",
    "compare": "/api/v1/analytics/compare",
    "history page": "/api/v1/history",
    "history p.200": "/api/v1/history?page=200",
}


async def report(http: httpx.AsyncClient, analytics: AnalyticsStore, user_id: str) -> None:
    print(f"{'route':<14}{'period':<10}{'cold ms':>9}{'p50 ms':>9}{'p95 ms':>9}{'raw p50':>10}"
          f"{'ratio':>8}")  # fmt: skip
    for period in ("week", "all_time"):
        rng = resolve_range(tz=ZONE, now=datetime.now(UTC), period=period,
                            earliest=datetime(2000, 1, 1).date())  # fmt: skip

        async def raw(rng: ResolvedRange = rng) -> None:
            plays = await analytics.plays_started_in(user_id, rng.start, rng.end, counted_only=True)
            summarise_plays(plays, rng.tz, rng.days[0], rng.days[-1])

        # All of a long history read raw takes minutes: one sample is the baseline there.
        raw_samples = await timed(raw, 1 if period == "all_time" else SAMPLES)
        for name, path in ROUTES.items():
            params = {} if name.startswith("history") else {"period": period}

            async def call(path: str = path, params: dict[str, str] = params) -> None:
                response = await http.get(path, params=params)
                assert response.status_code == 200, response.text

            cold = await timed(call, 1)
            samples = await timed(call, SAMPLES)
            ratio = pct(raw_samples, 0.5) / pct(samples, 0.5)
            p50, p95, raw50 = pct(samples, 0.5), pct(samples, 0.95), pct(raw_samples, 0.5)
            print(f"{name:<14}{period:<10}{cold[0] * 1000:>9.1f}{p50:>9.1f}{p95:>9.1f}"
                  f"{raw50:>10.1f}{ratio:>8.1f}")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plays", type=int, nargs="?", default=200_000)
    parser.add_argument("--data-dir", type=Path, help="keep the seeded database here and reuse it")
    args = parser.parse_args()
    anyio.run(main, args.plays, args.data_dir)
