"""``/api/v1/recommendations`` through HTTP, on plays stored through the real pipeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from echostats.domain.plays import Play
from echostats.settings import Settings
from echostats.simulator import Simulator, SimulatorConfig
from echostats.store import Store
from tests.domain.factories import make_play
from tests.signin import SignInWorld, signin_world

pytestmark = pytest.mark.anyio


def history(world: SignInWorld, uid: str, now: datetime) -> tuple[list[Play], dict[str, str]]:
    """A fixed history over simulator tracks; returns the plays and role → track id."""
    catalog = world.sim.catalog
    ids = sorted(catalog.tracks)
    roles = {"old": ids[0], "pal": ids[1], "h1": ids[2], "h2": ids[3], "h3": ids[4]}

    def play(role: str, ended: datetime) -> Play:
        track = catalog.tracks[roles[role]]
        artist = catalog.artists[track.artist_ids[0]]
        return make_play(
            user_id=uid,
            track_id=track.id,
            track_name=track.name,
            artist=artist.name,
            artist_ids=(artist.id,),
            ended_at=ended,
            ms_played=180_000,
        )

    plays = [play("old", now - timedelta(days=200 + d)) for d in range(8)]
    for day in range(5):
        start = now - timedelta(days=20 + day)
        roles_today = ["h1", "h2", "h3"] + (["pal"] if day < 2 else [])
        plays += [play(r, start + timedelta(minutes=3 * i)) for i, r in enumerate(roles_today)]
    plays.append(play("h1", now - timedelta(days=1)))
    return plays, roles


async def seeded(world: SignInWorld) -> dict[str, str]:
    await world.sign_in()
    status = (await world.client.get("/api/v1/auth/status")).json()
    uid = status["user"]["id"]
    plays, roles = history(world, uid, datetime.now(UTC))
    outcome = await world.app.state.pipeline.submit_plays(uid, plays)
    assert outcome.stored == len(plays)
    return roles


async def test_recommendations_are_reproducible_and_explained(
    settings: Settings, store: Store
) -> None:
    async with signin_world(settings, store) as world:
        roles = await seeded(world)
        first = await world.client.get("/api/v1/recommendations?limit=10")
        assert first.status_code == 200, first.text
        body = first.json()
        again = (await world.client.get("/api/v1/recommendations?limit=10")).json()
        assert again["items"] == body["items"]
        by_id = {i["track"]["spotify_id"]: i for i in body["items"]}
        assert by_id[roles["old"]]["reason"] == "forgotten_favourite"
        assert by_id[roles["old"]]["play_count"] == 8
        assert by_id[roles["pal"]]["reason"] in {"co_listened", "on_repeat"}
        assert all(i["detail"].endswith(".") for i in body["items"])
        assert [i["rank"] for i in body["items"]] == list(range(1, len(body["items"]) + 1))
        assert body["sources"] == ["history"]
        assert body["plays_considered"] == 8 + 17 + 1
        assert roles["h1"] not in by_id  # played yesterday
        cutoff = datetime.now(UTC) - timedelta(days=7)
        assert all(datetime.fromisoformat(i["last_played_at"]) < cutoff for i in body["items"])
        track = by_id[roles["old"]]["track"]
        assert track["uri"] == f"spotify:track:{roles['old']}"
        assert track["name"] == world.sim.catalog.tracks[roles["old"]].name
        # Each suggestion links to its track and artist pages.
        artist_id = world.sim.catalog.tracks[roles["old"]].artist_ids[0]
        assert (track["id"], track["artist_ids"]) == (roles["old"], [artist_id])
        for path in (f"/api/v1/tracks/{track['id']}", f"/api/v1/artists/{artist_id}"):
            assert (await world.client.get(path)).status_code == 200


async def test_recent_plays_only_when_asked(settings: Settings, store: Store) -> None:
    async with signin_world(settings, store) as world:
        roles = await seeded(world)
        response = await world.client.get("/api/v1/recommendations?include_recent=true&limit=50")
        items = {i["track"]["spotify_id"]: i for i in response.json()["items"]}
        assert items[roles["h1"]]["reason"] == "on_repeat"
        wide = await world.client.get("/api/v1/recommendations?recent_days=30&limit=50")
        assert [i["track"]["spotify_id"] for i in wide.json()["items"]] == [roles["old"]]


async def test_seed_types_and_limits(settings: Settings, store: Store) -> None:
    async with signin_world(settings, store) as world:
        await seeded(world)
        for seed_type, kinds in (("artists", {"artist"}), ("tracks", {"track"})):
            body = (await world.client.get(f"/api/v1/recommendations?seed_type={seed_type}")).json()
            assert body["seed_type"] == seed_type
            assert {s["type"] for s in body["seeds"]} == kinds
        genres = (await world.client.get("/api/v1/recommendations?seed_type=genres")).json()
        assert genres["items"] == []
        assert "genres" in genres["notes"][0]
        one = (await world.client.get("/api/v1/recommendations?limit=1")).json()
        assert len(one["items"]) == 1
        for query in ("seed_type=moods", "limit=0", "limit=101", "recent_days=0"):
            response = await world.client.get(f"/api/v1/recommendations?{query}")
            assert response.status_code == 422, query


async def test_withdrawn_spotify_endpoint_is_asked_once(settings: Settings, store: Store) -> None:
    async with signin_world(settings, store) as world:
        await seeded(world)
        for _ in range(3):
            response = await world.client.get("/api/v1/recommendations")
            assert response.status_code == 200
            assert response.json()["sources"] == ["history"]
        asked = world.sim.calls.count_matching(route="/v1/recommendations")
        assert asked == 1


async def test_spotify_answer_is_merged_where_it_still_answers(
    settings: Settings, store: Store
) -> None:
    sim = Simulator(SimulatorConfig(seed=7, dev_mode=False))
    async with signin_world(settings, store, sim) as world:
        roles = await seeded(world)
        body = (await world.client.get("/api/v1/recommendations?limit=30")).json()
        assert body["sources"] == ["history", "spotify"]
        from_spotify = [i for i in body["items"] if i["reason"] == "spotify"]
        assert from_spotify
        assert roles["h1"] not in {i["track"]["spotify_id"] for i in from_spotify}


async def test_no_history_is_an_empty_answer_with_a_note(settings: Settings, store: Store) -> None:
    async with signin_world(settings, store) as world:
        await world.sign_in()
        body = (await world.client.get("/api/v1/recommendations")).json()
        assert body["items"] == []
        assert body["notes"]
