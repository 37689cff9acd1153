"""Year in review (JSON and the SVG card) against a brute-force count of the stored plays."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from echostats.domain.counters import key_id
from echostats.domain.counting import decide
from echostats.domain.periods import parse_tz
from echostats.domain.plays import Play
from echostats.settings import Settings
from echostats.store import Store
from tests.api.test_analytics_routes import seeded
from tests.identity_reference import Identity
from tests.signin import SignInWorld, signin_world

pytestmark = pytest.mark.anyio
ZONE = parse_tz("Europe/Berlin")


@pytest.fixture
async def world(settings: Settings, store: Store) -> AsyncIterator[SignInWorld]:
    async with signin_world(settings, store) as world:
        yield world


def local_day(play: Play) -> date:
    return play.started_at.astimezone(ZONE).date()


def brute(plays: list[Play], first: date, last: date) -> dict[str, Any]:
    counted = [p for p in plays if decide(p) is None]
    mine = [p for p in counted if first <= local_day(p) <= last]
    per_day: dict[date, list[int]] = {}
    for p in mine:
        slot = per_day.setdefault(local_day(p), [0, 0])
        slot[0] += 1
        slot[1] += p.ms_played
    best = max(per_day.items(), key=lambda kv: (kv[1], -kv[0].toordinal()))
    days = sorted(per_day)
    longest = run = 1
    for a, b in itertools.pairwise(days):
        run = run + 1 if b - a == timedelta(days=1) else 1
        longest = max(longest, run)
    identity = Identity(plays)  # one entity whatever source recorded a play
    before = {k for p in counted if local_day(p) < first for k in identity.of(p).artists}
    artists = {k for p in mine for k in identity.of(p).artists}
    tracks = Counter[str]()
    ms: Counter[str] = Counter()
    for p in mine:
        tracks[identity.of(p).track] += 1
        ms[identity.of(p).track] += p.ms_played
    top = sorted(tracks, key=lambda k: (-tracks[k], -ms[k], key_id(k)))[:5]
    hours = Counter(p.started_at.astimezone(ZONE).hour for p in mine)
    return {
        "plays": len(mine),
        "minutes": sum(p.ms_played for p in mine) // 60_000,
        "top_day": {"date": best[0].isoformat(), "plays": best[1][0], "ms": best[1][1]},
        "streak": longest,
        "new_artists": len(artists - before),
        "top_tracks": [(tracks[k], ms[k]) for k in top],
        "hours": [hours[h] for h in range(24)],
    }


async def test_a_range_in_review_equals_brute_force(world: SignInWorld, store: Store) -> None:
    headers, _, plays = await seeded(world, store)
    today = datetime.now(UTC).astimezone(ZONE).date()
    first, last = today - timedelta(days=5), today
    query = {"start": first.isoformat(), "end": last.isoformat()}
    response = await world.client.get(
        "/api/v1/analytics/year-in-review", params=query, headers=headers
    )
    assert response.status_code == 200, response.text
    review = response.json()
    expected = brute(plays, first, last)
    assert review["title"] == f"{first.isoformat()} to {last.isoformat()}"
    assert review["plays"] == expected["plays"]
    assert review["minutes"] == expected["minutes"]
    assert review["top_day"] == expected["top_day"]
    assert review["longest_streak"]["days"] == expected["streak"]
    assert review["new_artists"] == expected["new_artists"]
    assert [(t["play_count"], t["total_ms"]) for t in review["top_tracks"]] == expected[
        "top_tracks"
    ]
    assert [h["count"] for h in review["hours"]] == expected["hours"]

    image = await world.client.get(
        "/api/v1/analytics/year-in-review.svg", params=query, headers=headers
    )
    assert image.status_code == 200
    assert image.headers["content-type"].startswith("image/svg+xml")
    svg = ET.fromstring(image.text)  # well-formed: every name escaped
    text = " ".join(t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    assert f"{expected['minutes']:,}" in text
    assert review["top_artists"][0]["name"] in text


async def test_a_whole_year_and_bad_requests(world: SignInWorld, store: Store) -> None:
    headers, _, _ = await seeded(world, store)
    year = datetime.now(UTC).astimezone(ZONE).year
    review = await world.client.get(
        "/api/v1/analytics/year-in-review", params={"year": year}, headers=headers
    )
    assert review.json()["title"] == str(year)
    assert review.json()["range"]["start"].startswith(f"{year - 1}-12-31T23:00")  # Berlin
    bad_params: list[dict[str, str | int]] = [
        {"year": year, "start": "2025-01-01"},
        {"start": "2025-01-01"},
        {"start": "yesterday", "end": "today"},
    ]
    for params in bad_params:
        bad = await world.client.get(
            "/api/v1/analytics/year-in-review", params=params, headers=headers
        )
        assert bad.status_code == 422, params
        assert bad.json()["detail"].endswith(".")
