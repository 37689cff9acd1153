"""Every analytics figure equals a brute-force reference over random histories and zones.

Histories mix recent plays (named periods) with plays around DST changes and plays crossing
local midnight, recorded by every source — polled (every id), extended-export rows (the track id,
other names only) and account-data rows (names only) — in two batches, so identity links what
one batch teaches to the other's plays; each example is its own user on the real app, store and
aggregator, checked against the brute-force identity of ``tests/identity_reference.py``.
Queries run in the saved zone, in another zone and over partial days.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from echostats.domain.counting import decide
from echostats.domain.periods import resolve_range
from echostats.domain.plays import Play, TimePrecision
from echostats.domain.timestamps import iso_utc
from echostats.settings import Settings
from echostats.store import Store
from echostats.store.users import Profile, Users
from tests.api.analytics_reference import reference, top_shape
from tests.signin import SignInWorld, signin_world

pytestmark = pytest.mark.anyio

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
DST_BASES = [datetime(2024, 3, 30, 22, tzinfo=UTC), datetime(2024, 11, 2, 22, tzinfo=UTC)]
MS = [5_000, 29_999, 30_000, 200_000, 3 * 3_600_000]  # 3 h: crosses local midnight


@pytest.fixture
async def world(settings: Settings, store: Store) -> AsyncIterator[SignInWorld]:
    async with signin_world(settings, store) as world:
        yield world


Source = Literal["poll", "extended", "account"]
SOURCES: tuple[Source, ...] = ("poll", "extended", "account")


def make_play(
    user_id: str, n: int, ended: datetime, track: int, ms: int, source: Source = "extended"
) -> Play:
    """A play of one consistent world (every name has one id), recorded as ``source`` does:
    the poller knows every id; an extended-export row the track id and the main artist's and
    album's names; an account-data row only the main artist's and the track's names."""
    main = track % 3
    artists = [(f"Artist {main}", f"a{main:021d}")]
    if track % 4 == 0:
        artists.append(("Guest", f"g{0:021d}"))
    if source != "poll":
        artists = artists[:1]
    album_id = f"b{main * 2 + track % 2:021d}"
    precision = {
        "poll": TimePrecision.MILLISECOND,
        "extended": TimePrecision.SECOND,
        "account": TimePrecision.MINUTE,
    }[source]
    return Play(
        user_id=user_id,
        track_key=f"name:artist {main}|song {track}"
        if source == "account"
        else f"spotify:track:t{track:021d}",
        track_id=None if source == "account" else f"t{track:021d}",
        track_name=f"Song {track}",
        artist_names=tuple(name for name, _ in artists),
        artist_ids=tuple(i for _, i in artists) if source == "poll" else (),
        album_name=None if source == "account" else f"Album {track % 2}",
        album_id=album_id if source == "poll" else None,
        ended_at=ended,
        started_at=ended - timedelta(milliseconds=ms),
        ms_played=ms,
        ms_played_estimated=source == "poll",
        duration_ms=240_000,
        source="poll" if source == "poll" else "import",
        precision=precision,
        skipped=ms < 30_000 if source == "extended" else None,
        shuffle=track % 2 == 0 if source == "extended" else None,
        platform=("android" if track % 3 else "web") if source == "extended" else None,
    )


# Plays at least 3 minutes apart: never close enough for the dedup to take two for one.
play_specs = st.lists(
    st.tuples(
        st.integers(0, 2),  # 0: recent, 1-2: around a DST change
        st.integers(0, 20 * 24 * 5),  # 3-minute steps after the base
        st.integers(0, 6),  # track
        st.sampled_from(MS),
        st.sampled_from(SOURCES),
    ),
    max_size=30,
    unique_by=lambda spec: (spec[0], spec[1]),
)


async def new_user(world: SignInWorld, store: Store, zone: str) -> dict[str, str]:
    user, _ = await Users(store).upsert_from_profile(
        Profile(spotify_id=uuid.uuid4().hex, display_name=None, image_url=None, product=None),
        datetime.now(UTC),
    )
    await store["users"].update_one({"_id": user.id}, {"$set": {"time_zone": zone}})
    token = world.app.state.auth.signer.issue(user.id, 1, datetime.now(UTC))
    return {"Authorization": f"Bearer {token}", "X-User": user.id}


async def get(world: SignInWorld, headers: dict[str, str], path: str, **params: Any) -> Any:
    response = await world.client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def strip(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keep = ("rank", "spotify_id", "play_count", "total_ms")
    return [{k: item[k] for k in keep} for item in items]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=play_specs,
    saved=st.sampled_from(ZONES),
    other=st.sampled_from(ZONES),
    query=st.sampled_from(["week", "all_time", "dst", "partial"]),
)
async def test_routes_equal_brute_force(
    world: SignInWorld, store: Store, specs: list[Any], saved: str, other: str, query: str
) -> None:
    headers = await new_user(world, store, saved)
    user_id = headers.pop("X-User")
    now = datetime.now(UTC)
    bases = [now - timedelta(days=9), *DST_BASES]
    plays = [
        make_play(user_id, n, bases[b] + timedelta(minutes=3 * m), t, ms, source)
        for n, (b, m, t, ms, source) in enumerate(specs)
        if bases[b] + timedelta(minutes=3 * m) < now
    ]
    # In two batches: what the second one teaches applies to the first one's plays too.
    pipeline = world.app.state.pipeline
    await pipeline.submit_plays(user_id, plays[: len(plays) // 2])
    await pipeline.submit_plays(user_id, plays[len(plays) // 2 :])

    for zone in dict.fromkeys([saved, other]):
        params: dict[str, str] = {"tz": zone}
        if query in {"week", "all_time"}:
            params["period"] = query
        elif query == "dst":
            params.update(start="2024-03-30", end="2024-04-02")
        else:
            params.update(start="2024-11-03T01:30:00", end="2024-11-05T07:15:00+00:00")
        earliest = None
        if query == "all_time" and plays:
            counted = [p for p in plays if decide(p) is None]
            earliest = min((p.started_at for p in counted), default=now)
            earliest_day = earliest.astimezone(resolve_range(tz=zone, now=now).tz).date()
        rng = resolve_range(
            tz=zone,
            now=now,
            period=params.get("period"),
            start=params.get("start"),
            end=params.get("end"),
            earliest=earliest_day if earliest else None,
        )
        ref = reference(plays, rng.start, rng.end)
        tz = rng.tz

        ov = await get(world, headers, "/api/v1/analytics/overview", **params)
        assert ov["range"]["start"] == iso_utc(rng.start)
        assert ov["total_tracks_played"] == len(ref.plays)
        assert ov["total_ms_played"] == ref.total_ms()
        assert ov["unique_tracks"] == len(ref.ranking("t"))
        assert ov["unique_artists"] == len(ref.ranking("a"))
        assert ov["unique_albums"] == len(ref.ranking("al"))
        assert [(h["count"], h["total_ms"]) for h in ov["hourly_distribution"]] == ref.hours(tz)
        assert [(d["count"], d["total_ms"]) for d in ov["daily_distribution"]] == ref.weekdays(tz)
        assert strip(ov["top_tracks"]) == top_shape(ref.ranking("t"))[:10]
        assert strip(ov["top_artists"]) == top_shape(ref.ranking("a"))[:10]
        assert strip(ov["top_albums"]) == top_shape(ref.ranking("al"))[:10]
        today = now.astimezone(tz).date()
        current, longest = ref.streaks(tz, today)
        assert (ov["listening_streak_days"], ov["longest_streak_days"]) == (current, longest)

        heat = await get(world, headers, "/api/v1/analytics/heatmap", **params)
        cells = {
            (c["weekday"], c["hour"]): (c["plays"], c["ms"]) for c in heat["cells"] if c["plays"]
        }
        assert cells == ref.heat(tz)

        trend = await get(world, headers, "/api/v1/analytics/trend", **params)
        by_day = ref.by_day(tz)
        assert sum(p["plays"] for p in trend["points"]) == len(ref.plays)
        if trend["granularity"] == "day":
            expected = [by_day.get(date.fromisoformat(p["label"]), (0, 0)) for p in trend["points"]]
            assert [(p["plays"], p["ms"]) for p in trend["points"]] == expected

        # Discovery: a key is new when its first counted play ever starts in the range.
        firsts: dict[str, dict[str, datetime]] = {"t": {}, "a": {}}
        for p in plays:
            if decide(p) is not None:
                continue
            canon = ref.identity.of(p)
            for section, keys in (("t", (canon.track,)), ("a", canon.artists)):
                for key in keys:
                    if key not in firsts[section] or p.started_at < firsts[section][key]:
                        firsts[section][key] = p.started_at
        disc = await get(world, headers, "/api/v1/analytics/discovery", **params)
        for section, name in (("t", "tracks"), ("a", "artists")):
            new = {k for k, t in firsts[section].items() if rng.start <= t < rng.end}
            assert disc[name]["new"] == len(new), name
            assert disc[name]["new_plays"] == sum(n for k, n, _ in ref.ranking(section) if k in new)
        assert sum(point["new_tracks"] for point in disc["timeline"]) == disc["tracks"]["new"]

        ranking = top_shape(ref.ranking("t"))
        for page, limit in ((1, 1), (2, 1), (1, 100), (3, 2)):
            top = await get(
                world, headers, "/api/v1/tracks/top", page=str(page), limit=str(limit), **params
            )
            assert top["total"] == len(ranking)
            assert top["limit"] == limit
            assert top["pages"] == (len(ranking) + limit - 1) // limit
            assert strip(top["items"]) == ranking[(page - 1) * limit : page * limit]

    # History pages: every stored play, newest first.
    stored = await store["plays"].find({"user_id": user_id}).to_list()
    ends = sorted((d["ended_at"] for d in stored), reverse=True)
    for page, limit in ((1, 3), (2, 3), (1, 100), (5, 4)):
        hist = await get(world, headers, "/api/v1/history", page=str(page), limit=str(limit))
        assert hist["total"] == len(ends)
        got = [datetime.fromisoformat(i["ended_at"].replace("Z", "+00:00")) for i in hist["items"]]
        assert got == ends[(page - 1) * limit : page * limit]
