"""Analytics, library and history routes: edge cases, errors, rebuilds, exports, deletes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import anyio
import pytest

from echostats.domain import play_export
from echostats.domain.counters import key_id
from echostats.domain.counting import decide
from echostats.domain.identity import Kind, key_of
from echostats.domain.listens import play_to_listen
from echostats.domain.periods import parse_tz
from echostats.domain.play_export import CSV_FIELDS
from echostats.domain.plays import from_document
from echostats.domain.timestamps import iso_utc
from echostats.settings import Settings
from echostats.store import Store
from tests.api.analytics_reference import reference
from tests.api.test_analytics_property import get, make_play, new_user
from tests.identity_reference import TRACK, Identity
from tests.ledger_views import assert_ledger_matches_plays, ledger_rows
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
        make_play(
            user_id,
            n,
            now - timedelta(hours=5 * n + 1),
            n % 5,
            200_000,
            "account" if n % 7 == 0 else "extended",
        )
        for n in range(40)
    ]
    plays.append(make_play(user_id, 99, now - timedelta(hours=2), 1, 5_000))  # a skip
    await world.app.state.pipeline.submit_plays(user_id, plays)
    return headers, user_id, plays


async def finished_job(world: SignInWorld, job_id: str) -> dict[str, Any]:
    """The job's document once it ended (ledger builds run beside the aggregator)."""
    with anyio.fail_after(60):
        while True:
            job: dict[str, Any] | None = await world.app.state.store["sync_jobs"].find_one(
                {"_id": job_id}
            )
            if job is not None and job["status"] not in {"pending", "running"}:
                return job
            await anyio.sleep(0.05)


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
    # A track id finds the plays recorded under its name only, too (identity links them).
    identity = Identity(plays)
    one = next(p for p in plays if p.track_id)
    by_track = await get(world, headers, "/api/v1/history", track=one.track_id, limit="100")
    assert by_track["total"] == sum(identity.of(p).track == TRACK + one.track_id for p in plays)
    assert by_track["total"] > sum(p.track_id == one.track_id for p in plays)
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


async def test_exports(world: SignInWorld, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    headers, _, plays = await seeded(world, store)
    monkeypatch.setattr(play_export, "CHUNK", 7)  # the 41 plays cross chunk boundaries
    as_json = await world.client.get("/api/v1/history/export", headers=headers)
    rows = json.loads(as_json.text)
    assert len(rows) == len(plays)
    assert rows == sorted(rows, key=lambda r: r["ended_at"])
    stored = {str(d["_id"]): d for d in await store["plays"].find({}).to_list()}
    for row in rows:  # every play exactly as recorded
        doc = stored[row["id"]]
        assert row == {
            "id": row["id"],
            "played_at": iso_utc(doc["started_at"]),
            "ended_at": iso_utc(doc["ended_at"]),
            "ms_played": doc["ms_played"],
            "ms_played_estimated": doc["ms_played_estimated"],
            "track_id": doc["track_id"],
            "track_name": doc["track_name"],
            "artists": doc["artist_names"],
            "album": doc["album_name"],
            "source": doc["source"],
            "platform": doc["platform"],
            "shuffle": doc["shuffle"],
            "skipped": doc["skipped"],
            "reason_start": doc["reason_start"],
            "reason_end": doc["reason_end"],
        }
    as_csv = await world.client.get("/api/v1/history/export?format=csv", headers=headers)
    assert list(csv.DictReader(io.StringIO(as_csv.text))) == [as_csv_row(r) for r in rows]
    lb = await world.client.get("/api/v1/history/export?format=listenbrainz", headers=headers)
    listens = [json.loads(line) for line in lb.text.splitlines()]
    assert listens == [play_to_listen(from_document(stored[r["id"]])) for r in rows]
    assert all(listen["track_metadata"]["artist_name"] for listen in listens)


def as_csv_row(row: dict[str, Any]) -> dict[str, str]:
    """A JSON export row as the CSV export writes it: artists joined, None empty."""
    out = {**row, "artists": "; ".join(row["artists"])}
    return {k: "" if v is None else str(v) for k, v in out.items()}


async def test_an_empty_history_exports_as_empty_files(world: SignInWorld, store: Store) -> None:
    headers = await new_user(world, store, "UTC")
    headers.pop("X-User")
    got = {
        fmt: (await world.client.get(f"/api/v1/history/export?format={fmt}", headers=headers))
        for fmt in ("json", "csv", "listenbrainz")
    }
    assert all(response.status_code == 200 for response in got.values())
    assert json.loads(got["json"].text) == []
    assert got["csv"].text.splitlines() == [",".join(CSV_FIELDS)]
    assert got["listenbrainz"].text == ""


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
    """In the saved zone and another, over every spelling of the item, equal to brute force."""
    headers, _, plays = await seeded(world, store)
    identity = Identity(plays)
    counted = [p for p in plays if decide(p) is None]
    target = next(p for p in counted if p.track_id)
    mine = [p for p in counted if identity.of(p).track == identity.of(target).track]
    for zone in ("Europe/Berlin", "Pacific/Auckland"):
        track = await get(world, headers, f"/api/v1/tracks/{target.track_id}", tz=zone)
        assert track["name"] == target.track_name
        assert parsed(track["stats"]) == expected_stats(mine, zone)
    top_artist = (await get(world, headers, "/api/v1/artists/top", period="all_time"))["items"][0]
    key = top_artist["spotify_id"]
    by_artist = [p for p in counted if key in identity.of(p).artists]
    tracks: dict[str, list[int]] = {}
    for p in by_artist:
        slot = tracks.setdefault(identity.of(p).track, [0, 0])
        slot[0] += 1
        slot[1] += p.ms_played
    ranking = sorted(tracks.items(), key=lambda kv: (-kv[1][0], -kv[1][1], key_id(kv[0])))[:10]
    for zone in ("Europe/Berlin", "Pacific/Auckland"):
        artist = await get(world, headers, f"/api/v1/artists/{key}", tz=zone)
        assert artist["stats"]["plays"] == top_artist["play_count"]
        assert parsed(artist["stats"]) == expected_stats(by_artist, zone)
        assert [(t["play_count"], t["total_ms"]) for t in artist["top_tracks"]] == [
            tuple(counts) for _, counts in ranking
        ]


async def test_album_page_equals_brute_force(world: SignInWorld, store: Store) -> None:
    """The album page's stats and tracks, in the saved zone and another, over every spelling."""
    headers, _, plays = await seeded(world, store)
    identity = Identity(plays)
    counted = [p for p in plays if decide(p) is None]
    top = (await get(world, headers, "/api/v1/albums/top", period="all_time"))["items"][0]
    album_key = key_of(Kind.ALBUM, top["spotify_id"])
    mine = [p for p in counted if identity.of(p).album == album_key]
    by_track: dict[str, list[int]] = {}
    for p in mine:
        slot = by_track.setdefault(identity.of(p).track, [0, 0])
        slot[0] += 1
        slot[1] += p.ms_played
    expected = sorted(by_track.items(), key=lambda kv: (-kv[1][0], -kv[1][1], key_id(kv[0])))
    for zone in ("Europe/Berlin", "Pacific/Auckland"):
        album = await get(world, headers, f"/api/v1/albums/{quote(top['spotify_id'])}", tz=zone)
        assert album["name"] == top["name"]
        assert album["artists"] == top["artists"]
        assert parsed(album["stats"]) == expected_stats(mine, zone)
        assert [(t["play_count"], t["total_ms"]) for t in album["tracks"]] == [
            tuple(counts) for _, counts in expected
        ]
    missing = await world.client.get("/api/v1/albums/name:nobody|nothing", headers=headers)
    assert missing.status_code == 404
    assert "No album" in missing.json()["detail"]


async def test_every_shown_entity_has_an_id_its_page_accepts(
    world: SignInWorld, store: Store
) -> None:
    """Top lists and history rows name the artist, album and track ids the detail routes take."""
    headers, _, _ = await seeded(world, store)
    tracks = (await get(world, headers, "/api/v1/tracks/top", period="all_time"))["items"]
    history = (await get(world, headers, "/api/v1/history", limit=100))["items"]
    paths: set[str] = set()
    for item in tracks:
        assert len(item["artist_ids"]) == len(item["artists"])
        paths.add(f"/api/v1/tracks/{item['spotify_id']}")
        paths.update(f"/api/v1/artists/{i}" for i in item["artist_ids"])
        if item["album_id"]:
            paths.add(f"/api/v1/albums/{item['album_id']}")
    for row in history:
        track = row["track"]
        assert len(track["artist_ids"]) == len(track["artists"])
        if row["counted"]:
            paths.add(f"/api/v1/tracks/{track['id']}")
            paths.update(f"/api/v1/artists/{i}" for i in track["artist_ids"])
            if track["album_id"]:  # account-data rows name no album
                paths.add(f"/api/v1/albums/{track['album_id']}")
    assert any(not row["counted"] for row in history)  # the 5-second skip is listed, uncounted
    for path in sorted(paths):
        response = await world.client.get(quote(path), headers=headers)
        assert response.status_code == 200, (path, response.text)


async def test_rebuild_equals_incremental_and_zone_change(world: SignInWorld, store: Store) -> None:
    headers, user_id, plays = await seeded(world, store, "America/New_York")
    await assert_ledger_matches_plays(store, user_id)
    incremental = await ledger_rows(store, user_id)
    built = await world.client.post("/api/v1/analytics/rollup-build", headers=headers)
    assert built.status_code == 202
    assert built.json()["status"] == "started"
    job = await finished_job(world, built.json()["job_id"])
    assert job["status"] == "completed"
    assert job["items_processed"] == len(plays)  # every stored play is read
    assert await ledger_rows(store, user_id) == incremental
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
    # Nothing to rebuild: the very next request counts in the new zone.
    overview = await get(world, headers, "/api/v1/analytics/overview", period="all_time")
    assert overview["time_zone"] == "Asia/Kolkata"
    ref = reference(plays, None, datetime.now(UTC) + timedelta(days=1))
    assert [(h["count"], h["total_ms"]) for h in overview["hourly_distribution"]] == ref.hours(
        parse_tz("Asia/Kolkata")
    )


async def test_already_running(world: SignInWorld, store: Store) -> None:
    _, user_id, _ = await seeded(world, store)
    pipeline = world.app.state.pipeline
    # The second request is answered while the first build is queued or running.
    first, second = await pipeline.rebuild_ledger(user_id), await pipeline.rebuild_ledger(user_id)
    assert first[1] is True
    assert second == (first[0], False)
    assert (await finished_job(world, first[0]))["status"] == "completed"


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
    reported = [p for p in plays if p.skipped is not None]  # account data reports no skips
    assert habits["skip_rate"] == round(sum(bool(p.skipped) for p in reported) / len(reported), 6)
    assert sum(m["plays"] for m in habits["platforms"]) == len(plays)
    disc = await get(world, headers, "/api/v1/analytics/discovery", period="all_time")
    assert disc["tracks"]["new"] == len({Identity(plays).of(p).track for p in counted})
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
