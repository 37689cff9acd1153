"""Every read route at a heavy listener's scale, through the whole app, on the embedded store.

Seeds one user with N plays over ten years shaped like a real history (``bench.listener``:
eras, favourites, a long tail — distinct tracks, artists and albums grow with the years), as the
sources really record them: the last year polled (ids for everything), the rest from the
extended export (the track's id, the main artist's and album's names only), one play in twenty
from account data (names only). Plays go straight into the plays collection; the ledger is then
built from them as an upgrade builds it (timed: the migration cost). Then each route is called
through the app (ASGI, auth included): once on a new, empty ledger cache ("cold": a request
that comes before the start-up warm-up has loaded the user), once more on the app's own cache
("first": the route's first call after a restart, once the warm-up is done), then ``SAMPLES``
times warm. The routes are measured in a process of their own, started after the seeding, as a
server is.

    .venv/bin/python -u -m bench.analytics_bench [plays] [--data-dir DIR]   # default 200000

With ``--data-dir`` the seeded database is kept and reused by later runs.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
from bson import ObjectId
from pymongo.errors import BulkWriteError

from bench.common import bench_settings, machine, peak_rss_mb, rss_mb
from bench.listener import Listen, Listener
from echostats.app import create_app
from echostats.domain.counting import decide
from echostats.domain.plays import Play, TimePrecision, name_key
from echostats.store.database import Store, make_client
from echostats.store.embedded import running_embedded_server
from echostats.store.ledger_build import build_ledger
from echostats.store.ledger_cache import Ledger
from echostats.store.library import Playlists
from echostats.store.plays import play_document
from echostats.store.users import Profile, Users

SAMPLES = 20
ZONE = "Europe/Berlin"
SPAN = timedelta(days=3652)


def as_play(user_id: str, n: int, count: int, listen: Listen) -> Play:
    """The listen as its source records it (see the module docstring)."""
    t = listen.track
    polled = n >= count * 0.9
    names_only = not polled and n % 20 == 7
    return Play(
        user_id=user_id,
        track_key=name_key(t.artist, t.name) if names_only else f"spotify:track:{t.id}",
        track_id=None if names_only else t.id,
        track_name=t.name,
        artist_names=(t.artist,),
        artist_ids=(t.artist_id,) if polled else (),
        album_name=None if names_only else t.album,
        album_id=t.album_id if polled else None,
        ended_at=listen.ended,
        started_at=listen.ended - timedelta(milliseconds=listen.ms),
        ms_played=listen.ms,
        ms_played_estimated=polled,
        duration_ms=240_000,
        source="poll" if polled else "import",
        precision=TimePrecision.MILLISECOND if polled else TimePrecision.SECOND,
        skipped=None if polled else listen.ms < 30_000,
        shuffle=None if polled else n % 3 == 0,
        platform=None if polled else ("android", "ios", "web", "osx")[n % 4],
        reason_start=None if polled else "trackdone",
        reason_end=None if polled else ("trackdone" if listen.ms > 30_000 else "fwdbtn"),
    )


async def insert_idempotently(store: Store, docs: list[dict[str, object]]) -> None:
    """On a loaded machine the driver may retry an insert that did land: duplicates are fine."""
    try:
        await store["plays"].insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
            raise


async def seed(store: Store, user_id: str, count: int, now: datetime) -> float:
    await store.prepare()
    began = time.perf_counter()
    docs: list[dict[str, object]] = []
    listens = Listener().plays(count, now - SPAN, SPAN - timedelta(days=1))
    for n, listen in enumerate(listens):
        play = as_play(user_id, n, count, listen)
        docs.append(play_document(str(ObjectId()), play, counted=decide(play) is None, batch=""))
        if len(docs) == 5_000:
            await insert_idempotently(store, docs)
            docs.clear()
    if docs:
        await insert_idempotently(store, docs)
    return time.perf_counter() - began


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


async def timed(call: Callable[[], Awaitable[Any]], samples: int) -> list[float]:
    out = []
    for _ in range(samples):
        began = time.perf_counter()
        await call()
        out.append(time.perf_counter() - began)
    return out


async def prepare(count: int, data_dir: Path) -> None:
    """Seed the plays and build the ledger in ``data_dir``, unless an earlier run did."""
    async with running_embedded_server(data_dir) as server:
        client = make_client(server.url)
        store = Store(client=client, db=client["bench"], embedded=server)
        now = datetime.now(UTC)
        user, _ = await Users(store).upsert_from_profile(
            Profile(spotify_id="bench", display_name=None, image_url=None, product=None), now
        )
        await store["users"].update_one({"_id": user.id}, {"$set": {"time_zone": ZONE}})
        marker = data_dir / "seeded"
        if not marker.exists():
            seconds = await seed(store, user.id, count, now)
            print(f"seeded {count:,} plays in {seconds:.0f} s ({machine()})")
            marker.write_text(f"{count}\n")
        else:
            print(f"reusing the plays seeded in {data_dir} ({machine()})")
        if not await store["ledger_heads"].find_one({"_id": user.id}):
            began = time.perf_counter()
            built = await build_ledger(store, Ledger(store), user.id, now)
            print(f"ledger built from {built:,} plays in {time.perf_counter() - began:.1f} s")
        await seed_playlist(store, user.id)
        await client.close()


async def measure(data_dir: Path) -> None:
    """Every route through a freshly started app on the prepared data."""
    with tempfile.TemporaryDirectory() as tmp:
        async with running_embedded_server(data_dir) as server:
            client = make_client(server.url)
            store = Store(client=client, db=client["bench"], embedded=server)
            settings = bench_settings(Path(tmp) / "data")
            now = datetime.now(UTC)
            user = await Users(store).only_user()
            assert user is not None, f"{data_dir} holds no seeded bench user"
            app = create_app(settings, store=store)
            began = time.perf_counter()
            async with app.router.lifespan_context(app):
                seconds = await warmed_after(app, user.id, began)
                print(
                    f"start-up warm-up: the ledger is in memory {seconds:.1f} s after start "
                    f"(app RSS {rss_mb(os.getpid()):.0f} MiB)"
                )
                token = app.state.auth.signer.issue(user.id, 1, now)
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(
                    transport=transport,
                    base_url=settings.base_url,
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=600,
                ) as http:
                    await report(http, app, store, user.id)
            await client.close()


async def warmed_after(app: Any, user_id: str, began: float) -> float:
    """Seconds from the app's start until its start-up warm-up holds the user's ledger (what a
    request after a restart finds; the ``first`` column below is a cold cache instead)."""
    with anyio.fail_after(600):
        while user_id not in app.state.ledger.cached_users():  # noqa: ASYNC110 - polled from outside
            await anyio.sleep(0.01)
    await app.state.ledger.view(user_id)  # waits for the warm-up's load: the same lock
    return time.perf_counter() - began


def main(count: int, data_dir: Path | None) -> None:
    """Seed (once), then measure in a process of its own: the seeding leaves this process
    millions of objects that every garbage collection would walk, which a server that
    restarted after an import does not have (they tripled the warm figures of the 12-07 run)."""
    with tempfile.TemporaryDirectory() as tmp:
        where = data_dir or Path(tmp) / "db"
        anyio.run(prepare, count, where)
        command = [sys.executable, "-u", "-m", "bench.analytics_bench", "--measure", str(where)]
        subprocess.run(command, check=True)


async def seed_playlist(store: Store, user_id: str) -> None:
    """A 100-track playlist of played tracks, so its page shows play counts."""
    since = datetime.now(UTC) - timedelta(days=30)  # polled plays: the last year's
    recent = store["plays"].find({"user_id": user_id, "ended_at": {"$gte": since}})
    tracks = [d async for d in recent if d["source"] == "poll"][:100]
    items = [
        {
            "position": i,
            "type": "track",
            "spotify_id": d["track_id"],
            "name": d["track_name"],
            "artists": [{"id": d["artist_ids"][0], "name": d["artist_names"][0]}],
            "album": {"id": d["album_id"], "name": d["album_name"]},
        }
        for i, d in enumerate(tracks)
    ]
    await Playlists(store).save(
        user_id, {"playlist_id": "bench", "name": "Bench"}, datetime.now(UTC), items=items
    )


async def routes(http: httpx.AsyncClient) -> dict[str, tuple[str, dict[str, str]]]:
    """Every read route worth timing, with ids taken from the data itself."""

    async def first(path: str, **params: str) -> dict[str, Any]:
        response = await http.get(path, params={"period": "all_time", **params})
        response.raise_for_status()
        item: dict[str, Any] = response.json()["items"][0]
        return item

    track = await first("/api/v1/tracks/top")
    artist = await first("/api/v1/artists/top")
    album = await first("/api/v1/albums/top")
    year = str(datetime.now(UTC).year - 3)
    week = {"start": f"{year}-01-01", "end": f"{year}-01-07"}
    out: dict[str, tuple[str, dict[str, str]]] = {}
    for period in ("week", "all_time"):
        p = {"period": period}
        out |= {
            f"overview {period}": ("/api/v1/analytics/overview", p),
            f"trend {period}": ("/api/v1/analytics/trend", p),
            f"heatmap {period}": ("/api/v1/analytics/heatmap", p),
            f"compare {period}": ("/api/v1/analytics/compare", p),
            f"habits {period}": ("/api/v1/analytics/habits", p),
            f"discovery {period}": ("/api/v1/analytics/discovery", p),
            f"genres {period}": ("/api/v1/genres/distribution", p),
            f"top tracks {period}": ("/api/v1/tracks/top", p),
        }
    out |= {
        "top tracks p.40": (
            "/api/v1/tracks/top",
            {"period": "all_time", "page": "40", "limit": "100"},
        ),
        "top artists p.40": (
            "/api/v1/artists/top",
            {"period": "all_time", "page": "40", "limit": "100"},
        ),
        "top albums p.40": (
            "/api/v1/albums/top",
            {"period": "all_time", "page": "40", "limit": "100"},
        ),
        "top, other tz": ("/api/v1/tracks/top", {"period": "all_time", "tz": "Asia/Tokyo"}),
        "history p.1": ("/api/v1/history", {}),
        "history p.2000": ("/api/v1/history", {"page": "2000", "limit": "100"}),
        "history q=love": ("/api/v1/history", {"q": "love"}),
        "history q=no hit": ("/api/v1/history", {"q": "zzqx nothing"}),
        "history artist": ("/api/v1/history", {"artist": artist["name"]}),
        "history source": ("/api/v1/history", {"source": "import", "page": "50"}),
        "history week": ("/api/v1/history", week),
        "track page": (f"/api/v1/tracks/{track['spotify_id']}", {}),
        "artist page": (f"/api/v1/artists/{artist['spotify_id']}", {}),
        "album page": (f"/api/v1/albums/{album['spotify_id']}", {}),
        "recommendations": ("/api/v1/recommendations", {}),
        "playlist page": ("/api/v1/playlists/bench", {}),
        "rollup-status": ("/api/v1/analytics/rollup-status", {}),
    }
    return out


async def report(http: httpx.AsyncClient, app: Any, store: Store, user_id: str) -> None:
    pid = os.getpid()
    shape = await app.state.ledger.view(user_id)
    counted = int(shape.counted.sum())
    ident = shape.identity
    print(
        f"data: {len(shape):,} plays ({counted:,} counted), {len(ident.tracks):,} distinct "
        f"tracks, {len(ident.artists):,} artists, {len(ident.albums):,} albums (canonical)"
    )
    warm = app.state.ledger
    table = await routes(http)
    print(f"{'route':<22}{'cold ms':>9}{'first ms':>10}{'p50 ms':>9}{'p95 ms':>9}")
    for name, (path, params) in table.items():

        async def call(path: str = path, params: dict[str, str] = params) -> None:
            response = await http.get(path, params=params)
            assert response.status_code == 200, (path, response.text[:300])

        app.state.ledger = Ledger(store)  # as after a restart before the warm-up ends: cold
        cold = await timed(call, 1)
        app.state.ledger = warm  # the cache a running server holds, warmed at its start
        gc.collect()  # the cold cache's arrays are gone before the clock runs again
        first = await timed(call, 1)  # this route's first call: what it derives, once per view
        samples = await timed(call, SAMPLES)
        print(
            f"{name:<22}{cold[0] * 1000:>9.1f}{first[0] * 1000:>10.1f}"
            f"{pct(samples, 0.5):>9.1f}{pct(samples, 0.95):>9.1f}"
        )
    for fmt in ("csv", "json", "listenbrainz"):
        began = time.perf_counter()
        rows = 0
        async with http.stream("GET", "/api/v1/history/export", params={"format": fmt}) as got:
            async for line in got.aiter_lines():
                rows += bool(line.strip())
        seconds = time.perf_counter() - began
        print(f"export {fmt:<13}{rows:>10,} lines in {seconds:.1f} s: {rows / seconds:,.0f}/s")
    print(
        f"app RSS {rss_mb(pid):.0f} MiB after the run, a cold cache swapped in for every route "
        f"(peak {peak_rss_mb(pid):.0f}), ledger cache "
        f"{app.state.ledger.cached_bytes / 2**20:.0f} MiB"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plays", type=int, nargs="?", default=200_000)
    parser.add_argument("--data-dir", type=Path, help="keep the seeded database here and reuse it")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the measuring child
    args = parser.parse_args()
    if args.measure is not None:
        anyio.run(measure, args.measure)
    else:
        main(args.plays, args.data_dir)
