"""``/api/v1/playlists`` through HTTP, on what a real sync stored from the simulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
import pytest

from actors import topics
from echostats.settings import Settings
from echostats.simulator import Simulator, SimulatorConfig
from echostats.store import Store
from tests.domain.factories import make_play
from tests.signin import SignInWorld, signin_world

pytestmark = pytest.mark.anyio


async def signed_in(world: SignInWorld, user: str = "demo") -> str:
    await world.sign_in(user)
    status = (await world.client.get("/api/v1/auth/status")).json()
    return str(status["user"]["id"])


async def sync(world: SignInWorld, uid: str) -> None:
    """Run a sync to its end (joining the sign-in's initial sync if it still runs)."""
    pipeline = world.app.state.pipeline
    async with pipeline.subscribe([topics.sync_jobs(uid)], 0) as events:
        ticket = await pipeline.request_sync(uid, "manual")
        with anyio.fail_after(30):
            async for event in events:
                if event.name == "finished" and event.data["job_id"] == ticket.job_id:
                    assert event.data["status"] == "completed", event.data
                    return


def owned_ids(world: SignInWorld, user: str = "demo") -> list[str]:
    playlists = world.sim.catalog.playlists
    return [p for p in world.sim.users[user].playlist_ids if playlists[p].owner_id == user]


async def test_synced_playlists_page_and_follow_deletions(settings: Settings, store: Store) -> None:
    async with signin_world(settings, store) as world:
        uid = await signed_in(world)
        await sync(world, uid)
        followed = world.sim.users["demo"].playlist_ids
        body = (await world.client.get("/api/v1/playlists?limit=3&page=2")).json()
        assert (body["total"], body["page"], body["limit"]) == (len(followed), 2, 3)
        assert body["pages"] == -(-len(followed) // 3)
        assert len(body["items"]) == 3
        everything = (await world.client.get("/api/v1/playlists?limit=100")).json()["items"]
        assert {p["id"] for p in everything} == set(followed)
        names = [p["name"].casefold() for p in everything]
        assert names == sorted(names)
        owned = {p["id"]: p for p in everything if p["owned"]}
        assert set(owned) == set(owned_ids(world))
        assert all(p["with_items"] for p in owned.values())
        gone = owned_ids(world)[1]
        world.sim.delete_playlist(gone)
        await sync(world, uid)
        after = (await world.client.get("/api/v1/playlists?limit=100")).json()
        assert gone not in {p["id"] for p in after["items"]}
        assert after["total"] == len(followed)  # the simulator dropped it from the follows
        assert (await world.client.get(f"/api/v1/playlists/{gone}")).status_code == 404


async def test_one_playlist_with_play_counts(settings: Settings, store: Store) -> None:
    async with signin_world(settings, store) as world:
        uid = await signed_in(world)
        playlist = world.sim.catalog.playlists[owned_ids(world)[1]]
        entries = [e.track_id for e in playlist.entries]
        catalog = world.sim.catalog
        now = datetime.now(UTC)
        plays = []
        for index, track_id in enumerate(entries[:3]):
            track = catalog.tracks[track_id]
            artist = catalog.artists[track.artist_ids[0]]
            plays += [
                make_play(
                    user_id=uid,
                    track_id=track_id,
                    track_name=track.name,
                    artist=artist.name,
                    ended_at=now - timedelta(hours=index * 10 + n),
                )
                for n in range(index + 1)
            ]
        assert (await world.app.state.pipeline.submit_plays(uid, plays)).stored == 6
        await sync(world, uid)
        response = await world.client.get(f"/api/v1/playlists/{playlist.id}")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["id"] == playlist.id
        assert body["name"] == playlist.name
        assert [i["spotify_id"] for i in body["items"]] == entries
        assert [i["play_count"] for i in body["items"][:4]] == [1, 2, 3, 0]
        assert body["items"][2]["last_played_at"] is not None
        assert body["items"][3]["last_played_at"] is None
        assert body["items"][0]["artists"][0]["name"]
        assert body["items_error"] is None


async def test_unknown_and_other_peoples_playlists_are_404(
    settings: Settings, store: Store
) -> None:
    sim = Simulator(SimulatorConfig(seed=7))
    sim.add_user("other", display_name="Someone Else")
    async with signin_world(settings, store, sim) as world:
        uid = await signed_in(world)
        await sync(world, uid)
        mine = owned_ids(world)[0]
        assert (await world.client.get(f"/api/v1/playlists/{mine}")).status_code == 200
        missing = await world.client.get("/api/v1/playlists/" + "z" * 22)
        assert missing.status_code == 404
        assert "playlist" in missing.json()["detail"]
        await signed_in(world, "other")
        assert (await world.client.get(f"/api/v1/playlists/{mine}")).status_code == 404
        assert (await world.client.get("/api/v1/playlists?limit=0")).status_code == 422
