"""Catalog and library reads, playlists, dev-mode withdrawals, autoplay and determinism."""

from __future__ import annotations

import itertools
from datetime import timedelta

import httpx
import pytest

from echostats.simulator import Simulator, SimulatorConfig

from .conftest import BASE_URL, bearer

pytestmark = pytest.mark.anyio


def test_same_seed_same_world_and_different_seed_different_world() -> None:
    a, b, c = (Simulator(SimulatorConfig(seed=s)) for s in (11, 11, 12))
    assert list(a.catalog.tracks) == list(b.catalog.tracks)
    assert [t.name for t in a.catalog.tracks.values()] == [
        t.name for t in b.catalog.tracks.values()
    ]
    assert list(a.catalog.tracks) != list(c.catalog.tracks)
    track = next(iter(a.catalog.tracks.values()))
    assert len(track.id) == 22
    assert len(track.isrc) == 12


def test_autoplay_does_not_depend_on_how_often_anyone_looks() -> None:
    stepped, jumped = Simulator(SimulatorConfig(seed=5)), Simulator(SimulatorConfig(seed=5))
    for sim in (stepped, jumped):
        sim.start_autoplay("demo")
    for _ in range(24 * 60):
        stepped.clock.advance(60)  # a poller looking every minute for a day
    jumped.clock.advance(24 * 3600)  # nobody looking at all
    plays = stepped.users["demo"].played
    assert plays == jumped.users["demo"].played
    assert len(plays) > 50
    assert any(p.skipped for p in plays)
    assert len({p.device_id for p in plays}) > 1
    assert len({p.context_uri for p in plays}) > 3
    # Idle gaps between sessions, and the plays never overlap.
    gaps = [b.started_ms - a.ended_ms for a, b in itertools.pairwise(plays)]
    assert min(gaps) >= 0
    assert max(gaps) > 60_000


def test_autoplay_backfills_history_from_the_past(sim: Simulator) -> None:
    now = sim.clock.now()
    sim.start_autoplay("demo", since=now - timedelta(days=2))
    user = sim.users["demo"]
    assert user.played[0].started_at >= now - timedelta(days=2)
    assert user.played[-1].ended_at <= now
    assert len(user.history) >= 50


def test_a_listener_kept_listening_plays_now_and_takes_only_short_breaks(sim: Simulator) -> None:
    """Demo mode: whoever opens the dashboard finds the listener playing, whatever hour the
    back-filled history ended in (an idle evening once greeted newcomers for 11+ minutes)."""
    sim.start_autoplay("demo", since=sim.clock.now() - timedelta(days=2))
    player = sim.users["demo"].player
    while player.is_playing:  # until the listener is between sessions, or pausing
        sim.clock.advance(30)
    sim.keep_listening("demo")
    assert player.is_playing
    silent = longest = 0.0
    for _ in range(6 * 60 * 6):  # six hours, looked at every 10 s
        sim.clock.advance(10)
        silent = 0.0 if player.is_playing else silent + 10
        longest = max(longest, silent)
    assert longest <= 60


async def test_dev_mode_withdrawals_and_removed_fields(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    h = bearer(sim)
    track = next(iter(sim.catalog.tracks.values()))
    artist = (await client.get(f"/v1/artists/{track.artist_ids[0]}", headers=h)).json()
    assert set(artist) == {"external_urls", "href", "id", "images", "name", "type", "uri"}
    body = (await client.get(f"/v1/tracks/{track.id}", headers=h)).json()
    assert "popularity" not in body
    assert body["external_ids"] == {"isrc": track.isrc}
    album = (await client.get(f"/v1/albums/{track.album_id}", headers=h)).json()
    assert "label" not in album
    assert album["genres"] == []
    for url, status in (
        (f"/v1/tracks?ids={track.id}", 403),
        ("/v1/browse/new-releases", 403),
        ("/v1/browse/featured-playlists", 403),
        (f"/v1/audio-features/{track.id}", 403),
        (f"/v1/artists/{track.artist_ids[0]}/top-tracks", 403),
        ("/v1/recommendations?seed_genres=folk", 404),
        ("/v1/users/demo", 403),
    ):
        assert (await client.get(url, headers=h)).status_code == status, url
    assert (
        await client.get(f"/v1/artists/{track.artist_ids[0]}/albums?limit=11", headers=h)
    ).status_code == 400
    search = await client.get("/v1/search?q=a&type=track&offset=995&limit=10", headers=h)
    assert search.json()["error"]["message"] == "Limit + Offset exceeds maximum of 1000"


async def test_extended_mode_serves_what_dev_mode_withholds() -> None:
    sim = Simulator(SimulatorConfig(seed=42, dev_mode=False))
    transport = httpx.ASGITransport(app=sim.app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        h = bearer(sim)
        track = next(iter(sim.catalog.tracks.values()))
        artist = (await client.get(f"/v1/artists/{track.artist_ids[0]}", headers=h)).json()
        assert artist["genres"] == sim.catalog.artists[track.artist_ids[0]].genres
        recs = await client.get(
            f"/v1/recommendations?seed_artists={track.artist_ids[0]}", headers=h
        )
        assert recs.status_code == 200
        assert recs.json()["tracks"]


async def test_playlist_access_rules(sim: Simulator, client: httpx.AsyncClient) -> None:
    h = bearer(sim)
    demo = sim.users["demo"]
    mine = (await client.get("/v1/me/playlists?limit=50", headers=h)).json()
    assert mine["total"] == len(demo.playlist_ids)
    by_owner = {p["owner"]["id"]: p for p in mine["items"]}
    collab = next(p for p in mine["items"] if p["collaborative"] and p["owner"]["id"] != "demo")
    assert (await client.get(f"/v1/playlists/{collab['id']}/items", headers=h)).status_code == 200
    spotify = by_owner["spotify"]
    assert spotify["id"].startswith("37i9")
    assert (await client.get(f"/v1/playlists/{spotify['id']}/items", headers=h)).status_code == 404
    big = max((sim.catalog.playlists[p] for p in demo.playlist_ids), key=lambda p: len(p.entries))
    assert len(big.entries) > 100
    page = (await client.get(f"/v1/playlists/{big.id}/items?limit=100", headers=h)).json()
    assert [r["item"]["id"] for r in page["items"]] == [e.track_id for e in big.entries[:100]]
    assert page["next"] is not None
    assert (
        await client.get(f"/v1/playlists/{big.id}/items?limit=101", headers=h)
    ).status_code == 400


async def test_snapshot_id_changes_with_every_edit(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    h = bearer(sim)
    tracks = list(sim.catalog.tracks)[:5]
    playlist = sim.create_playlist("demo", "Test list", tracks[:2])

    async def snapshot() -> str:
        body = (await client.get(f"/v1/playlists/{playlist.id}", headers=h)).json()
        return str(body["snapshot_id"])

    seen = [await snapshot()]
    sim.add_to_playlist(playlist.id, tracks[2:4])
    seen.append(await snapshot())
    sim.remove_from_playlist(playlist.id, [tracks[0]])
    seen.append(await snapshot())
    added = await client.post(
        f"/v1/playlists/{playlist.id}/items",
        json={"uris": [f"spotify:track:{tracks[4]}"]},
        headers=h,
    )
    assert added.status_code == 201
    assert added.json()["snapshot_id"] == await snapshot()
    seen.append(added.json()["snapshot_id"])
    assert len(set(seen)) == 4
    items = (await client.get(f"/v1/playlists/{playlist.id}/items", headers=h)).json()["items"]
    assert [r["item"]["id"] for r in items] == tracks[1:5]
    sim.delete_playlist(playlist.id)
    assert (await client.get(f"/v1/playlists/{playlist.id}", headers=h)).status_code == 404
    assert playlist.id not in sim.users["demo"].playlist_ids


async def test_others_playlists_are_metadata_only(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    sim.add_user("erin")
    theirs = sim.create_playlist("erin", "Erin's", list(sim.catalog.tracks)[:3], followers=["demo"])
    h = bearer(sim)
    body = (await client.get(f"/v1/playlists/{theirs.id}", headers=h)).json()
    assert "items" not in body
    assert body["owner"]["display_name"] == "erin"
    assert (await client.get(f"/v1/playlists/{theirs.id}/items", headers=h)).status_code == 403
    assert (await client.get(f"/v1/playlists/{theirs.id}/tracks", headers=h)).status_code == 403


async def test_following_cursor_paging_walks_every_artist(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    h = bearer(sim)
    seen: list[str] = []
    url: str | None = "/v1/me/following?type=artist&limit=25"
    pages = 0
    while url:
        artists = (await client.get(url, headers=h)).json()["artists"]
        seen += [a["id"] for a in artists["items"]]
        assert artists["total"] == len(sim.users["demo"].followed_artists)
        url = artists["next"].removeprefix(BASE_URL) if artists["next"] else None
        pages += 1
    assert seen == sim.users["demo"].followed_artists
    assert pages == 3
    assert (await client.get("/v1/me/following?type=user", headers=h)).json()["error"][
        "message"
    ] == "Invalid type: user"


async def test_library_reads_and_writes(sim: Simulator, client: httpx.AsyncClient) -> None:
    h = bearer(sim)
    saved = (await client.get("/v1/me/tracks?limit=50&offset=10", headers=h)).json()
    demo = sim.users["demo"]
    assert [r["track"]["id"] for r in saved["items"]] == [t for t, _ in demo.saved_tracks[10:60]]
    assert saved["total"] == len(demo.saved_tracks)
    new = next(t for t in sim.catalog.tracks if t not in {s for s, _ in demo.saved_tracks})
    uri = f"spotify:track:{new}"
    assert (await client.put(f"/v1/me/library?uris={uri}", headers=h)).status_code == 200
    assert (await client.get(f"/v1/me/library/contains?uris={uri}", headers=h)).json() == [True]
    first = (await client.get("/v1/me/tracks?limit=1", headers=h)).json()["items"][0]
    assert first["track"]["id"] == new
    await client.delete(f"/v1/me/library?uris={uri}", headers=h)
    assert (await client.get(f"/v1/me/library/contains?uris={uri}", headers=h)).json() == [False]
    too_many = ",".join([uri] * 41)
    assert (await client.put(f"/v1/me/library?uris={too_many}", headers=h)).status_code == 400
    assert (await client.put("/v1/me/library?uris=abc", headers=h)).status_code == 400


async def test_top_items_follow_listening(sim: Simulator, client: httpx.AsyncClient) -> None:
    h = bearer(sim)
    outsider = next(a for a in sim.catalog.artists if a not in sim.users["demo"].taste)
    tracks = sim.catalog.artist_tracks(outsider)[:2]
    sim.listen("demo", tracks * 3)
    sim.clock.advance(sum(sim.catalog.tracks[t].duration_ms for t in tracks) * 3 / 1000)
    top = (await client.get("/v1/me/top/artists?time_range=short_term&limit=1", headers=h)).json()
    assert top["items"][0]["id"] == outsider
    top_tracks = (
        await client.get("/v1/me/top/tracks?time_range=short_term&limit=2", headers=h)
    ).json()
    assert {t["id"] for t in top_tracks["items"]} == set(tracks)
    assert (await client.get("/v1/me/top/tracks?time_range=forever", headers=h)).status_code == 400
    assert (await client.get("/v1/me/top/tracks?limit=51", headers=h)).status_code == 400
