"""A person's merges: every figure follows at once, and undoing one restores every figure."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from echostats.domain.plays import Play, TimePrecision, name_key
from echostats.settings import Settings
from echostats.store import Store
from tests.api.test_analytics_property import get, new_user
from tests.signin import SignInWorld, signin_world

pytestmark = pytest.mark.anyio


@pytest.fixture
async def world(settings: Settings, store: Store) -> AsyncIterator[SignInWorld]:
    async with signin_world(settings, store) as world:
        yield world


def named(user_id: str, n: int, artist: str, track: str) -> Play:
    ended = datetime.now(UTC) - timedelta(hours=3 * n + 1)
    return Play(
        user_id=user_id,
        track_key=name_key(artist, track),
        track_id=None,
        track_name=track,
        artist_names=(artist,),
        artist_ids=(),
        album_name=None,
        album_id=None,
        ended_at=ended,
        started_at=ended - timedelta(minutes=3),
        ms_played=180_000,
        ms_played_estimated=False,
        duration_ms=None,
        source="import",
        precision=TimePrecision.MINUTE,
    )


ROUTES = (
    ("/api/v1/analytics/overview", {"period": "all_time"}),
    ("/api/v1/artists/top", {"period": "all_time", "limit": "100"}),
    ("/api/v1/tracks/top", {"period": "all_time", "limit": "100"}),
    ("/api/v1/analytics/discovery", {"period": "all_time"}),
)


async def figures(world: SignInWorld, headers: dict[str, str]) -> list[Any]:
    out = []
    for path, params in ROUTES:
        body = await get(world, headers, path, **params)
        body.pop("computed_at", None)
        out.append(body)
    return out


async def test_merge_then_undo(world: SignInWorld, store: Store) -> None:
    headers = await new_user(world, store, "UTC")
    user_id = headers.pop("X-User")
    plays = [named(user_id, n, "Kaia", f"Song {n % 3}") for n in range(9)]
    plays += [named(user_id, 20 + n, "Kaia feat. Pavel", "Duet") for n in range(4)]
    await world.app.state.pipeline.submit_plays(user_id, plays)
    before = await figures(world, headers)
    artists = {a["name"]: a for a in (await get(world, headers, "/api/v1/artists/top"))["items"]}
    assert set(artists) == {"Kaia", "Kaia feat. Pavel"}

    made = await world.client.post(
        "/api/v1/catalog/merges",
        json={"kind": "artist", "source": "name:kaia feat. pavel", "target": "name:kaia"},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    merge = made.json()
    assert (merge["source_name"], merge["target_name"]) == ("Kaia feat. Pavel", "Kaia")

    top = (await get(world, headers, "/api/v1/artists/top", period="all_time"))["items"]
    assert [(a["name"], a["play_count"]) for a in top] == [("Kaia", 13)]
    page = await get(world, headers, "/api/v1/artists/name:kaia")
    assert page["stats"]["plays"] == 13
    assert [(m["id"], m["source_name"]) for m in page["merges"]] == [
        (merge["id"], "Kaia feat. Pavel")
    ]
    # The merged-away id still leads to the artist it is now.
    assert (await get(world, headers, "/api/v1/artists/name:kaia feat. pavel"))["name"] == "Kaia"
    overview = await get(world, headers, "/api/v1/analytics/overview", period="all_time")
    assert overview["unique_artists"] == 1
    listed = await get(world, headers, "/api/v1/catalog/merges")
    # Names as they read when merged (the source's own name now resolves to the target's).
    assert [(m["id"], m["source_name"], m["target_name"]) for m in listed["items"]] == [
        (merge["id"], "Kaia feat. Pavel", "Kaia")
    ]

    undone = await world.client.delete(f"/api/v1/catalog/merges/{merge['id']}", headers=headers)
    assert undone.status_code == 204
    assert await figures(world, headers) == before
    again = await world.client.delete(f"/api/v1/catalog/merges/{merge['id']}", headers=headers)
    assert again.status_code == 404


async def test_merges_refuse_what_cannot_be_merged(world: SignInWorld, store: Store) -> None:
    headers = await new_user(world, store, "UTC")
    user_id = headers.pop("X-User")
    await world.app.state.pipeline.submit_plays(user_id, [named(user_id, 1, "Kaia", "A")])

    async def post(body: dict[str, str]) -> Any:
        return await world.client.post("/api/v1/catalog/merges", json=body, headers=headers)

    unknown = await post({"kind": "artist", "source": "name:nobody", "target": "name:kaia"})
    assert unknown.status_code == 422
    assert "name:nobody" in unknown.json()["detail"]
    same = await post({"kind": "artist", "source": "name:kaia", "target": "name:kaia"})
    assert same.status_code == 422
    assert "already one artist" in same.json()["detail"]
    bad = await post({"kind": "genre", "source": "a", "target": "b"})
    assert bad.status_code == 422
    assert (await world.client.get("/api/v1/catalog/merges")).status_code == 401


async def test_search_finds_what_to_merge_by_any_spelling(world: SignInWorld, store: Store) -> None:
    headers = await new_user(world, store, "UTC")
    user_id = headers.pop("X-User")
    plays = [named(user_id, n, "Kaia", f"Song {n % 3}") for n in range(9)]
    plays += [named(user_id, 20 + n, "KAÏA & the Ghosts", "Dürer") for n in range(4)]
    plays += [named(user_id, 40, "Pavel", "Kaiak")]
    await world.app.state.pipeline.submit_plays(user_id, plays)

    async def found(kind: str, q: str, **params: str) -> list[tuple[str, int]]:
        body = await get(world, headers, "/api/v1/catalog/search", kind=kind, q=q, **params)
        return [(i["name"], i["play_count"]) for i in body["items"]]

    # Any case, any accents, most played first; a track's artist name is not its name.
    assert await found("artist", "kaia") == [("Kaia", 9), ("KAÏA & the Ghosts", 4)]
    assert await found("artist", "kaia", limit="1") == [("Kaia", 9)]
    assert await found("track", "KAIA") == [("Kaiak", 1)]
    assert await found("track", "durer") == [("Dürer", 4)]
    assert await found("album", "kaia") == []
    assert await found("artist", "nobody") == []
    empty = await world.client.get(
        "/api/v1/catalog/search", params={"kind": "artist", "q": ""}, headers=headers
    )
    assert empty.status_code == 422
