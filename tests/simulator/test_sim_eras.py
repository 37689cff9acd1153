"""A back-filled past grows like a real heavy listener's: each year an era of new artists, the
favourites that stay, a long tail heard once or twice. And it is Spotify's music: every track
the privacy export names is found by the catalog endpoints, search and the player."""

from __future__ import annotations

import io
import itertools
import json
import zipfile
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import anyio
import httpx
import pytest

from echostats.demo import demo_simulator
from echostats.simulator import Simulator, SimulatorConfig

from .conftest import BASE_URL, bearer

pytestmark = pytest.mark.anyio

DAYS = 730  # ECHOSTATS_DEMO_HISTORY_DAYS' default


@pytest.fixture(scope="module")
def demo() -> Simulator:
    """The demo's simulator and listener, on a stepped clock and without throttling, as an
    extended-quota app sees it (batch lookups of 50 tracks keep the check of every track quick).
    """
    return demo_simulator(
        history=timedelta(days=DAYS), realtime=False, rate_limit=None, quota=None, dev_mode=False
    )


@pytest.fixture(scope="module")
def exported(demo: Simulator) -> list[dict[str, Any]]:
    """The music rows of the demo listener's privacy export, as ``make demo`` imports it."""

    async def fetch() -> bytes:
        async with _client(demo) as http:
            got = await http.get("/account/privacy/export", headers=bearer(demo))
        return got.raise_for_status().content

    with zipfile.ZipFile(io.BytesIO(anyio.run(fetch))) as archive:
        rows = [row for name in archive.namelist() for row in json.loads(archive.read(name))]
    assert len(rows) == len(demo.users["demo"].played)
    return [row for row in rows if row["spotify_track_uri"]]


def _client(sim: Simulator) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app), base_url=BASE_URL)


def _keys(rows: list[dict[str, Any]]) -> dict[str, set[Any]]:
    """Distinct tracks, artists and albums, as an export names them (an album by its artist)."""
    artist, album = "master_metadata_album_artist_name", "master_metadata_album_album_name"
    return {
        "tracks": {r["spotify_track_uri"] for r in rows},
        "artists": {r[artist] for r in rows},
        "albums": {(r[artist], r[album]) for r in rows},
    }


def _ended(row: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(row["ts"])


def test_the_demo_listeners_past_has_a_real_listeners_cardinality(
    exported: list[dict[str, Any]],
) -> None:
    assert 50_000 <= len(exported) <= 62_000
    everything = _keys(exported)
    assert 15_000 <= len(everything["tracks"]) <= 25_000
    assert 2_000 <= len(everything["artists"]) <= 5_000
    assert 4_000 <= len(everything["albums"]) <= 8_000
    # Year over year the distinct music keeps growing: the second year brings an era of its own.
    first = _ended(exported[0])
    first_year = _keys([r for r in exported if _ended(r) < first + timedelta(days=365)])
    for kind, seen in first_year.items():
        assert len(everything[kind]) >= 1.6 * len(seen), kind
    # A long tail: most tracks are heard once or twice...
    plays = Counter(r["spotify_track_uri"] for r in exported)
    assert sum(n <= 2 for n in plays.values()) >= 0.6 * len(plays)
    # ...while favourites stay: artists played in every quarter of both years.
    quarters = [
        {r["master_metadata_album_artist_name"] for r in rows}
        for _, rows in itertools.groupby(exported, lambda r: (_ended(r) - first).days // 91)
    ]
    assert len(set.intersection(*quarters[:8])) >= 20


def _chunks(ids: set[str], size: int) -> Iterator[list[str]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


async def test_every_track_the_export_names_is_catalog_music(
    demo: Simulator, exported: list[dict[str, Any]]
) -> None:
    named = {
        r["spotify_track_uri"].split(":")[2]: (
            r["master_metadata_track_name"],
            r["master_metadata_album_artist_name"],
            r["master_metadata_album_album_name"],
        )
        for r in exported
    }
    h = bearer(demo)
    albums: set[str] = set()
    artists: set[str] = set()
    async with _client(demo) as http:
        for ids in _chunks(set(named), 50):
            got = await http.get("/v1/tracks", params={"ids": ",".join(ids)}, headers=h)
            for ident, track in zip(ids, got.raise_for_status().json()["tracks"], strict=True):
                assert track is not None, ident
                album = track["album"]
                assert (track["name"], album["artists"][0]["name"], album["name"]) == named[ident]
                assert album["images"], ident
                albums.add(album["id"])
                artists.update(a["id"] for a in track["artists"])
        for ids in _chunks(albums, 20):
            got = await http.get("/v1/albums", params={"ids": ",".join(ids)}, headers=h)
            rows = got.raise_for_status().json()["albums"]
            assert all(row is not None and row["images"] for row in rows)
            assert {t["id"] for row in rows for t in row["tracks"]["items"]} & set(named)
        for ids in _chunks(artists, 50):
            got = await http.get("/v1/artists", params={"ids": ",".join(ids)}, headers=h)
            assert all(row is not None and row["images"] for row in got.json()["artists"])
        # Search finds the artists of every year, and the player plays their tracks.
        first, last = exported[0], exported[-1]
        for row in (first, last):
            name = row["master_metadata_album_artist_name"]
            found = await http.get(
                "/v1/search", params={"q": name, "type": "artist", "limit": 50}, headers=h
            )
            assert name in [a["name"] for a in found.json()["artists"]["items"]]
        played = await http.put(
            "/v1/me/player/play",
            params={"device_id": demo.users["demo"].devices[0].id},
            json={"uris": [first["spotify_track_uri"]]},
            headers=h,
        )
        assert played.status_code == 200
        now = (await http.get("/v1/me/player/currently-playing", headers=h)).json()
        assert now["item"]["uri"] == first["spotify_track_uri"]


def test_a_past_is_the_same_for_the_same_seed_and_live_listening_keeps_the_library() -> None:
    sims = [Simulator(SimulatorConfig(seed=s, era_artists=6)) for s in (3, 3, 4)]
    core = len(sims[0].catalog.tracks)
    for sim in sims:
        sim.start_autoplay("demo", since=sim.clock.now() - timedelta(days=3))
    same, again, other = (sim.users["demo"].played for sim in sims)
    assert same == again
    assert same != other
    assert len(sims[0].catalog.tracks) > core  # the past brought an era's music
    # Past sessions are the library's, an era artist's album or tracks heard in passing...
    sim = sims[0]
    listener = sim.users["demo"].listener
    assert listener is not None
    library = set(listener.contexts)
    assert {p.context_uri for p in same} - library
    # ...and every session that starts from now on is the library's, as before there were
    # eras (six hours on, the session under way at the start has ended).
    live_from = sim.clock.now() + timedelta(hours=6)
    sim.clock.advance(2 * 86_400)
    live = [p for p in sim.users["demo"].played if p.started_at >= live_from]
    assert len(live) > 50
    assert {p.context_uri for p in live} <= library
