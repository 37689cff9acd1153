"""Analytics, library and history routes: edge cases, errors, rebuilds, exports, deletes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest

from echostats.domain.counting import decide
from echostats.domain.periods import parse_tz
from echostats.domain.plays import play_artist_keys
from echostats.settings import Settings
from echostats.store import Store
from tests.api.test_analytics_property import get, make_play, new_user
from tests.rollup_views import brute_view, stored_view
from tests.signin import SignInWorld, signin_world

pytestmark = pytest.mark.anyio


@pytest.fixture
async def world(settings: Settings, store: Store) -> AsyncIterator[SignInWorld]:
    async with signin_world(settings, store) as world:
        yield world


async def seeded(world: SignInWorld, store: Store, zone: str = "Europe/Berlin") -> Any:
    headers = await new_user(world, store, zone)
    user_id = headers.pop("X-User")
    now = datetime.now(UTC)
    plays = [
        make_play(user_id, n, now - timedelta(hours=5 * n + 1), n % 5, 200_000, n % 7 == 0)
        for n in range(40)
    ]
    plays.append(make_play(user_id, 99, now - timedelta(hours=2), 1, 5_000, False))  # a skip
    await world.app.state.pipeline.submit_plays(user_id, plays)
    return headers, user_id, plays


async def rollups(store: Store, user_id: str) -> dict[str, Any]:
    """The stored rollups as comparable figures, per level (bookkeeping like ``rev`` and
    ``applied`` left out)."""
    docs = await store["rollups"].find({"user_id": user_id}).to_list()
    return {level: stored_view(docs, level) for level in ("d", "m", "y", "e")}


async def barrier(world: SignInWorld, user_id: str) -> None:
    """The aggregator serves its inbox in order: an empty batch answers after a queued rebuild."""
    with anyio.fail_after(30):
        await world.app.state.pipeline.submit_plays(user_id, [])


async def test_empty_history(world: SignInWorld, store: Store) -> None:
    headers = await new_user(world, store, "UTC")
    headers.pop("X-User")
    ov = await get(world, headers, "/api/v1/analytics/overview", period="all_time")
    assert ov["total_tracks_played"] == 0
    assert ov["top_tracks"] == []
    assert len(ov["hourly_distribution"]) == 24
    top = await get(world, headers, "/api/v1/tracks/top", page="3")
    assert top == {**top, "items": [], "total": 0, "pages": 0, "page": 3}
    hist = await get(world, headers, "/api/v1/history")
    assert hist["items"] == []
    assert hist["total"] == 0
    for path in ("habits", "discovery", "compare", "trend", "heatmap", "rollup-status"):
        await get(world, headers, f"/api/v1/analytics/{path}")
    genres = await get(world, headers, "/api/v1/genres/distribution")
    assert genres["genres"] == []
    assert genres["total_genres"] == 0


@pytest.mark.parametrize(
    "params",
    [
        {"tz": "Mars/Olympus"},
        {"period": "decade"},
        {"start": "2024-02-30"},
        {"end": "2024-01-01"},
        {"start": "2024-03-02", "end": "2024-03-01"},
        {"period": "week", "start": "2024-01-01"},
    ],
)
async def test_invalid_ranges_are_422_with_a_sentence(
    world: SignInWorld, store: Store, params: dict[str, str]
) -> None:
    headers = await new_user(world, store, "UTC")
    headers.pop("X-User")
    for path in ("/api/v1/analytics/overview", "/api/v1/tracks/top", "/api/v1/analytics/trend"):
        response = await world.client.get(path, params=params, headers=headers)
        assert response.status_code == 422, response.text
        assert response.json()["detail"].endswith(".")


async def test_auth_required_and_unknown_ids(world: SignInWorld, store: Store) -> None:
    for path in ("/api/v1/analytics/overview", "/api/v1/history", "/api/v1/tracks/top"):
        assert (await world.client.get(path)).status_code == 401
    headers, _, _ = await seeded(world, store)
    for path in ("/api/v1/tracks/0000000000000000000000", "/api/v1/artists/nobody"):
        response = await world.client.get(path, headers=headers)
        assert response.status_code == 404, response.text
    response = await world.client.delete("/api/v1/history/not-an-id", headers=headers)
    assert response.status_code == 404
    other, _, _ = await seeded(world, store)
    mine = (await get(world, headers, "/api/v1/history"))["items"][0]["id"]
    response = await world.client.delete(f"/api/v1/history/{mine}", headers=other)
    assert response.status_code == 404


async def test_history_filters_pages_and_delete(world: SignInWorld, store: Store) -> None:
    headers, _, plays = await seeded(world, store)
    page = await get(world, headers, "/api/v1/history", limit="7", page="2")
    assert page["total"] == len(plays)
    assert page["limit"] == 7
    assert len(page["items"]) == 7
    newest = sorted(plays, key=lambda p: p.ended_at, reverse=True)
    assert [i["track"]["name"] for i in page["items"]] == [p.track_name for p in newest[7:14]]
    assert set(page["items"][0]) >= {"id", "played_at", "ended_at", "ms_played", "track"}
    q = await get(world, headers, "/api/v1/history", q="sONG 3", limit="100")
    assert q["total"] == sum(p.track_name == "Song 3" for p in plays)
    by_artist = await get(world, headers, "/api/v1/history", artist="artist 1", limit="100")
    assert by_artist["total"] == sum("Artist 1" in p.artist_names for p in plays)
    assert (await get(world, headers, "/api/v1/history", source="poll"))["total"] == 0
    one = next(p for p in plays if p.track_id)
    by_track = await get(world, headers, "/api/v1/history", track=one.track_id, limit="100")
    assert by_track["total"] == sum(p.track_id == one.track_id for p in plays)
    assert {i["track"]["spotify_id"] for i in by_track["items"]} == {one.track_id}
    # A filtered page past the first keeps the newest-first order.
    second = await get(world, headers, "/api/v1/history", q="song", limit="5", page="2")
    assert second["total"] == len(plays)
    assert [i["track"]["name"] for i in second["items"]] == [p.track_name for p in newest[5:10]]
    start = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    ranged = await get(world, headers, "/api/v1/history", start=start, limit="100")
    assert ranged["total"] == sum(p.started_at >= datetime.fromisoformat(start) for p in plays)
    assert (
        await world.client.get("/api/v1/history", params={"limit": 101}, headers=headers)
    ).status_code == 422

    before = await get(world, headers, "/api/v1/analytics/overview", period="all_time")
    target = page["items"][0]
    response = await world.client.delete(f"/api/v1/history/{target['id']}", headers=headers)
    assert response.status_code == 204
    after = await get(world, headers, "/api/v1/analytics/overview", period="all_time")
    assert after["total_tracks_played"] == before["total_tracks_played"] - 1
    assert after["total_ms_played"] == before["total_ms_played"] - target["ms_played"]
    assert (
        await world.client.delete(f"/api/v1/history/{target['id']}", headers=headers)
    ).status_code == 404


async def test_exports(world: SignInWorld, store: Store) -> None:
    headers, _, plays = await seeded(world, store)
    as_json = await world.client.get("/api/v1/history/export", headers=headers)
    rows = json.loads(as_json.text)
    assert len(rows) == len(plays)
    assert rows == sorted(rows, key=lambda r: r["ended_at"])
    as_csv = await world.client.get("/api/v1/history/export?format=csv", headers=headers)
    assert len(list(csv.DictReader(io.StringIO(as_csv.text)))) == len(plays)
    lb = await world.client.get("/api/v1/history/export?format=listenbrainz", headers=headers)
    listens = [json.loads(line) for line in lb.text.splitlines()]
    assert len(listens) == len(plays)
    assert {"listened_at", "track_metadata"} <= set(listens[0])
    assert listens[0]["track_metadata"]["artist_name"]


def to_ms(moment: datetime) -> datetime:
    """As stored: BSON dates keep milliseconds."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def expected_stats(plays: list[Any], zone: str) -> dict[str, Any]:
    """A detail page's stats by brute force over the item's counted plays."""
    tz = parse_tz(zone)
    months: dict[str, list[int]] = {}
    for p in plays:
        local = p.started_at.astimezone(tz)
        slot = months.setdefault(f"{local.year}-{local.month:02d}", [0, 0])
        slot[0] += 1
        slot[1] += p.ms_played
    return {
        "plays": len(plays),
        "total_ms": sum(p.ms_played for p in plays),
        "first_played": to_ms(min(p.started_at for p in plays)),
        "last_played": to_ms(max(p.started_at for p in plays)),
        "plays_per_month": [
            {"month": m, "plays": n, "ms": ms} for m, (n, ms) in sorted(months.items())
        ],
    }


def parsed(stats: dict[str, Any]) -> dict[str, Any]:
    out = dict(stats)
    for field in ("first_played", "last_played"):
        out[field] = datetime.fromisoformat(out[field].replace("Z", "+00:00"))
    return out


async def test_track_and_artist_pages(world: SignInWorld, store: Store) -> None:
    """Rollup path (saved zone) and raw path (another zone) both equal brute force."""
    headers, _, plays = await seeded(world, store)
    counted = [p for p in plays if decide(p) is None]
    target = next(p for p in counted if p.track_id)
    mine = [p for p in counted if p.track_key == target.track_key]
    for zone in ("Europe/Berlin", "Pacific/Auckland"):
        track = await get(world, headers, f"/api/v1/tracks/{target.track_id}", tz=zone)
        assert track["name"] == target.track_name
        assert parsed(track["stats"]) == expected_stats(mine, zone)
    top_artist = (await get(world, headers, "/api/v1/artists/top", period="all_time"))["items"][0]
    key = top_artist["spotify_id"]
    by_artist = [p for p in counted if any(k.endswith(key) for k in play_artist_keys(p))]
    tracks: dict[str, list[int]] = {}
    for p in by_artist:
        slot = tracks.setdefault(p.track_key, [0, 0])
        slot[0] += 1
        slot[1] += p.ms_played
    ranking = sorted(tracks.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))[:10]
    for zone in ("Europe/Berlin", "Pacific/Auckland"):
        artist = await get(world, headers, f"/api/v1/artists/{key}", tz=zone)
        assert artist["stats"]["plays"] == top_artist["play_count"]
        assert parsed(artist["stats"]) == expected_stats(by_artist, zone)
        assert [(t["play_count"], t["total_ms"]) for t in artist["top_tracks"]] == [
            tuple(counts) for _, counts in ranking
        ]


async def test_rebuild_equals_incremental_and_zone_change(world: SignInWorld, store: Store) -> None:
    headers, user_id, plays = await seeded(world, store, "America/New_York")
    incremental = await rollups(store, user_id)
    built = await world.client.post("/api/v1/analytics/rollup-build", headers=headers)
    assert built.status_code == 202
    assert built.json()["status"] == "started"
    await barrier(world, user_id)
    assert await rollups(store, user_id) == incremental
    status = await get(world, headers, "/api/v1/analytics/rollup-status")
    assert status["last_built_at"] is not None
    assert status["is_building"] is False

    bad = await world.client.patch(
        "/api/v1/me/settings", json={"time_zone": "Nowhere/Else"}, headers=headers
    )
    assert bad.status_code == 422
    changed = await world.client.patch(
        "/api/v1/me/settings", json={"time_zone": "Asia/Kolkata"}, headers=headers
    )
    assert changed.status_code == 200
    assert changed.json()["rollup_job_id"]
    await barrier(world, user_id)
    counted = [p for p in plays if decide(p) is None]
    views = await rollups(store, user_id)
    for level in ("d", "m", "y"):
        assert views[level] == brute_view(counted, parse_tz("Asia/Kolkata")), level
    job = await store["sync_jobs"].find_one({"_id": changed.json()["rollup_job_id"]})
    assert job is not None
    assert job["status"] == "completed"
    assert job["items_processed"] == len(plays)  # every stored play is read (the timeline)


async def test_already_running(world: SignInWorld, store: Store) -> None:
    _, user_id, _ = await seeded(world, store)
    pipeline = world.app.state.pipeline
    # Both requests are answered before the aggregator takes the first rebuild off its inbox.
    first, second = await pipeline.rebuild_rollups(user_id), await pipeline.rebuild_rollups(user_id)
    assert first[1] is True
    assert second == (first[0], False)
    await barrier(world, user_id)


async def test_compare_habits_discovery(world: SignInWorld, store: Store) -> None:
    headers, _, plays = await seeded(world, store, "UTC")
    counted = [p for p in plays if decide(p) is None]
    now = datetime.now(UTC)
    week_start = datetime.combine(now.date() - timedelta(days=6), datetime.min.time(), UTC)
    prev_start = week_start - timedelta(days=7)
    cmp = await get(world, headers, "/api/v1/analytics/compare", period="week")
    assert cmp["a"]["plays"] == sum(p.started_at >= week_start for p in counted)
    assert cmp["b"]["plays"] == sum(prev_start <= p.started_at < week_start for p in counted)
    assert cmp["deltas"]["plays"] == cmp["a"]["plays"] - cmp["b"]["plays"]
    habits = await get(world, headers, "/api/v1/analytics/habits", period="all_time")
    assert habits["plays"] == len(plays)
    assert habits["skip_rate"] == round(sum(bool(p.skipped) for p in plays) / len(plays), 6)
    assert sum(m["plays"] for m in habits["platforms"]) == len(plays)
    disc = await get(world, headers, "/api/v1/analytics/discovery", period="all_time")
    assert disc["tracks"]["new"] == len({p.track_key for p in counted})
    assert disc["tracks"]["new_play_share"] == 1.0
    week = await get(world, headers, "/api/v1/analytics/discovery", period="week", tz="Asia/Tokyo")
    assert week["tracks"]["new"] <= disc["tracks"]["new"]


async def test_openapi_has_typed_responses(world: SignInWorld) -> None:
    schema = (await world.client.get("/api/openapi.json")).json()
    for path in (
        "/api/v1/analytics/overview",
        "/api/v1/analytics/compare",
        "/api/v1/tracks/top",
        "/api/v1/history",
    ):
        ok = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        assert "$ref" in ok["schema"]
