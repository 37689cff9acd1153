"""Library and browse pass-through routes through HTTP, against the simulator."""

from __future__ import annotations

import pytest

from echostats.settings import Settings
from echostats.simulator import Simulator, SimulatorConfig
from echostats.store import Store
from tests.signin import signin_world

pytestmark = pytest.mark.anyio

BROWSE = ("new-releases", "featured-playlists", "categories")


async def test_followed_artists_cursor_walks_every_artist(settings: Settings, store: Store) -> None:
    async with signin_world(settings, store) as world:
        await world.sign_in()
        followed = world.sim.users["demo"].followed_artists
        assert len(followed) > 50  # more than one Spotify page
        seen: list[str] = []
        after: str | None = None
        pages = 0
        while True:
            params: dict[str, str | int] = {"limit": 25}
            if after is not None:
                params["after"] = after
            response = await world.client.get("/api/v1/library/followed-artists", params=params)
            assert response.status_code == 200, response.text
            body = response.json()
            assert len(body["items"]) <= 25
            assert body["total"] == len(followed)
            seen += [a["spotify_id"] for a in body["items"]]
            pages += 1
            after = body["next_after"]
            if after is None:
                break
            assert len(body["items"]) == 25  # every page but the last is full
        assert seen == followed
        assert pages == 3
        first = world.sim.catalog.artists[followed[0]]
        one = (await world.client.get("/api/v1/library/followed-artists?limit=1")).json()
        assert one["items"][0]["name"] == first.name
        assert one["items"][0]["uri"] == f"spotify:artist:{first.id}"
        assert one["next_after"] == first.id


async def test_followed_artists_validates_its_parameters(settings: Settings, store: Store) -> None:
    async with signin_world(settings, store) as world:
        await world.sign_in()
        for query in ("limit=0", "limit=51", "after=not%20an%20id"):
            response = await world.client.get(f"/api/v1/library/followed-artists?{query}")
            assert response.status_code == 422, (query, response.text)


async def test_saved_albums_offsets_and_exact_limits(settings: Settings, store: Store) -> None:
    async with signin_world(settings, store) as world:
        await world.sign_in()
        saved = [album for album, _ in world.sim.users["demo"].saved_albums]
        everything = (await world.client.get("/api/v1/library/saved-albums?limit=100")).json()
        assert [i["album"]["spotify_id"] for i in everything["items"]] == saved
        assert everything["next_offset"] is None
        assert everything["total"] == len(saved)
        page = (await world.client.get("/api/v1/library/saved-albums?limit=5&offset=3")).json()
        assert [i["album"]["spotify_id"] for i in page["items"]] == saved[3:8]
        assert (page["limit"], page["offset"], page["next_offset"]) == (5, 3, 8)
        assert page["items"][0]["added_at"].endswith(("Z", "+00:00"))
        assert page["items"][0]["album"]["artists"][0]["name"]
        past = (await world.client.get("/api/v1/library/saved-albums?offset=500")).json()
        assert (past["items"], past["next_offset"]) == ([], None)
        bad = await world.client.get("/api/v1/library/saved-albums?limit=101")
        assert bad.status_code == 422


async def test_saved_albums_limit_above_one_spotify_page(settings: Settings, store: Store) -> None:
    sim = Simulator(SimulatorConfig(seed=7))
    user = sim.users["demo"]
    extra = sorted(sim.catalog.albums)[:70]
    user.saved_albums = [(a, sim.clock.now()) for a in extra]
    async with signin_world(settings, store, sim) as world:
        await world.sign_in()
        body = (await world.client.get("/api/v1/library/saved-albums?limit=60&offset=5")).json()
        assert [i["album"]["spotify_id"] for i in body["items"]] == extra[5:65]
        assert (body["total"], body["next_offset"]) == (70, 65)


async def test_browse_in_development_mode_is_501_with_a_sentence(
    settings: Settings, store: Store
) -> None:
    async with signin_world(settings, store) as world:
        await world.sign_in()
        for name in BROWSE:
            response = await world.client.get(f"/api/v1/browse/{name}")
            assert response.status_code == 501, (name, response.text)
            detail = response.json()["detail"]
            assert detail.startswith("Spotify no longer offers")
            assert detail.endswith(".")
            assert response.headers["x-request-id"]


async def test_browse_with_extended_quota_is_proxied(settings: Settings, store: Store) -> None:
    sim = Simulator(SimulatorConfig(seed=7, dev_mode=False))
    async with signin_world(settings, store, sim) as world:
        await world.sign_in()
        releases = await world.client.get("/api/v1/browse/new-releases?limit=7&offset=2")
        assert releases.status_code == 200, releases.text
        body = releases.json()
        assert (len(body["items"]), body["limit"], body["offset"]) == (7, 7, 2)
        newest = sorted(
            sim.catalog.albums.values(), key=lambda a: (a.release_date, a.id), reverse=True
        )
        assert [a["spotify_id"] for a in body["items"]] == [a.id for a in newest[2:9]]
        categories = await world.client.get("/api/v1/browse/categories?limit=3")
        assert categories.status_code == 200, categories.text
        rows = categories.json()["items"]
        assert len(rows) == 3
        assert all(r["id"] and r["name"] and r["icon_url"] for r in rows)
        # Featured playlists stay withdrawn even for extended-quota apps (since 2024).
        featured = await world.client.get("/api/v1/browse/featured-playlists")
        assert featured.status_code == 501


async def test_browse_validates_parameters(settings: Settings, store: Store) -> None:
    async with signin_world(settings, store) as world:
        await world.sign_in()
        for query in ("new-releases?limit=51", "categories?locale=english", "categories?offset=-1"):
            response = await world.client.get(f"/api/v1/browse/{query}")
            assert response.status_code == 422, (query, response.text)
        assert (await world.client.post("/api/v1/auth/logout")).status_code == 200
        assert (await world.client.get("/api/v1/browse/categories")).status_code == 401
