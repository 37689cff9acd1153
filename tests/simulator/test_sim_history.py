"""Stepped playback produces exact ground truth, and recently-played exposes it like Spotify."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from echostats.simulator import Simulator, SimulatorConfig
from echostats.simulator.clock import iso_ms

from .conftest import BASE_URL, bearer

pytestmark = pytest.mark.anyio


def _album_tracks(sim: Simulator, n: int) -> list[str]:
    album = next(a for a in sim.catalog.albums.values() if len(a.track_ids) >= n)
    return album.track_ids[:n]


def test_scripted_listening_gives_exact_plays(sim: Simulator) -> None:
    tracks = _album_tracks(sim, 3)
    durations = [sim.catalog.tracks[t].duration_ms for t in tracks]
    start = sim.clock.now()
    sim.listen("demo", tracks)
    sim.clock.advance(sum(durations) / 1000 - 1)
    user = sim.users["demo"]
    assert [p.track_id for p in user.played] == tracks[:2]  # the third is still playing
    sim.clock.advance(1)
    played = user.played
    assert [p.track_id for p in played] == tracks
    assert [p.listened_ms for p in played] == durations
    assert played[0].started_at == start
    assert played[0].ended_at == start + timedelta(milliseconds=durations[0])
    assert played[2].ended_at == start + timedelta(milliseconds=sum(durations))
    assert all(not p.skipped and p.in_history for p in played)
    assert user.player.current is None  # the list ran out: idle


async def test_recently_played_shows_finished_plays_newest_first(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    tracks = _album_tracks(sim, 3)
    sim.listen("demo", tracks)
    sim.clock.advance(sum(sim.catalog.tracks[t].duration_ms for t in tracks) / 1000)
    body = (await client.get("/v1/me/player/recently-played", headers=bearer(sim))).json()
    played = sim.users["demo"].played
    assert [i["track"]["id"] for i in body["items"]] == tracks[::-1]
    assert [i["played_at"] for i in body["items"]] == [iso_ms(p.ended_at) for p in played[::-1]]
    assert body["items"][0]["played_at"].endswith("Z")
    assert body["items"][0]["context"] is None  # uris, not a context
    assert body["cursors"] == {"after": str(played[-1].ended_ms), "before": str(played[0].ended_ms)}
    assert body["limit"] == 20


async def test_only_the_last_50_plays_exist_and_cursors_page_through_them(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    playlist = max(sim.catalog.playlists.values(), key=lambda p: len(p.entries))
    sim.listen("demo", context_uri=f"spotify:playlist:{playlist.id}")
    sim.clock.advance(6 * 3600)
    user = sim.users["demo"]
    assert len(user.played) > 60
    h = bearer(sim)
    latest = (await client.get("/v1/me/player/recently-played?limit=50", headers=h)).json()
    newest_50 = [p.ended_ms for p in user.played[-50:]][::-1]
    assert [_ms(i["played_at"]) for i in latest["items"]] == newest_50
    before = latest["cursors"]["before"]
    older = await client.get(f"/v1/me/player/recently-played?limit=50&before={before}", headers=h)
    assert older.json() == {
        "items": [],
        "next": None,
        "cursors": None,
        "limit": 50,
        "href": str(older.url),
    }
    # Paging backwards with ``next`` (before=...) walks exactly the 50 that exist.
    seen: list[int] = []
    url: str | None = "/v1/me/player/recently-played?limit=20"
    while url:
        page = (await client.get(url, headers=h)).json()
        seen += [_ms(i["played_at"]) for i in page["items"]]
        url = page["next"]
        url = url.removeprefix(BASE_URL) if url else None
    assert seen == newest_50
    # ``after`` gives the plays just after the cursor; nothing newer than the newest.
    after = await client.get(
        f"/v1/me/player/recently-played?after={newest_50[10]}&limit=3", headers=h
    )
    assert [_ms(i["played_at"]) for i in after.json()["items"]] == newest_50[7:10]
    none_newer = f"/v1/me/player/recently-played?after={latest['cursors']['after']}"
    assert (await client.get(none_newer, headers=h)).json()["items"] == []
    both = await client.get("/v1/me/player/recently-played?after=1&before=2", headers=h)
    assert both.status_code == 400
    assert (
        await client.get("/v1/me/player/recently-played?limit=51", headers=h)
    ).status_code == 400


def _ms(stamp: str) -> int:
    return round(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)


async def test_pauses_seeks_and_skips_shape_the_ground_truth(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    tracks = _album_tracks(sim, 3)
    h = bearer(sim)
    sim.listen("demo", tracks)
    sim.clock.advance(10)
    assert (await client.put("/v1/me/player/pause", headers=h)).status_code == 200
    sim.clock.advance(600)  # paused time is not listening time
    assert (await client.put("/v1/me/player/play", headers=h)).status_code == 200
    sim.clock.advance(5)
    assert (await client.post("/v1/me/player/next", headers=h)).status_code == 200
    sim.clock.advance(40)
    await client.post("/v1/me/player/next", headers=h)
    first, second = sim.users["demo"].played
    assert (first.track_id, first.listened_ms, first.reason_end) == (tracks[0], 15_000, "fwdbtn")
    assert first.skipped
    assert not first.in_history  # skipped before 30 s: Spotify does not list it
    assert (second.listened_ms, second.in_history) == (40_000, True)
    body = (await client.get("/v1/me/player/recently-played", headers=h)).json()
    assert [i["track"]["id"] for i in body["items"]] == [tracks[1]]


async def test_configured_lag_delays_recently_played() -> None:
    sim = Simulator(SimulatorConfig(seed=9, history_lag_s=120))
    track = _album_tracks(sim, 1)
    sim.listen("demo", track)
    sim.clock.advance(sim.catalog.tracks[track[0]].duration_ms / 1000)
    transport = httpx.ASGITransport(app=sim.app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        h = bearer(sim)
        assert (await client.get("/v1/me/player/recently-played", headers=h)).json()["items"] == []
        sim.clock.advance(120)
        assert (
            len((await client.get("/v1/me/player/recently-played", headers=h)).json()["items"]) == 1
        )


def test_private_sessions_are_not_in_history(sim: Simulator) -> None:
    user = sim.users["demo"]
    user.devices[0].is_private_session = True
    track = _album_tracks(sim, 1)
    sim.listen("demo", track, device=user.devices[0].id)
    sim.clock.advance(sim.catalog.tracks[track[0]].duration_ms / 1000)
    assert len(user.played) == 1
    assert user.history == []
