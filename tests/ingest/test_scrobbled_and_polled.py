"""A play the Spotify poller records and a scrobbler also sends is stored once.

The real app (uvicorn, embedded store) polls the simulator in stepped time while a scrobbler on
the listener's phone (as Pano Scrobbler does) watches the same player: it sends each listen
halfway through the track, stamped with the start it saw on its own, slightly wrong, clock —
some with the Spotify track id, some by names only, one track skipped after 60 %. Later it
sends a few listens again. The store must hold exactly the simulator's plays, once each.
"""

from __future__ import annotations

from typing import Any

import pytest

from echostats.settings import Settings
from echostats.simulator import Simulator
from echostats.store import Store
from tests.api.test_listenbrainz import new_token
from tests.ingest.stepped import SteppedTime
from tests.ingest.truth import expected_plays, stored_keys, stored_plays
from tests.ingest.world import LiveApp, live_app

pytestmark = pytest.mark.anyio

SLEEPERS = 2  # the poll manager's discovery loop and the user's poller
CLOCK_SKEWS = (-2, 3, 0, 5, -4, 1)  # seconds the phone's clock is off, per track


def _scrobble(sim: Simulator, index: int) -> dict[str, Any]:
    """What the phone sends for the track now playing: its start, and an id for every other."""
    player = sim.users["demo"].player
    assert player.current is not None
    track = sim.catalog.tracks[player.current]
    started = (player.anchor_ms - player.progress_ms) // 1000 + CLOCK_SKEWS[index]
    info: dict[str, Any] = {"duration_ms": track.duration_ms, "submission_client": "phone"}
    if index % 2 == 0:
        info["spotify_id"] = f"https://open.spotify.com/track/{track.id}"
    artists = [sim.catalog.artists[a].name for a in track.artist_ids]
    return {
        "listened_at": started,
        "track_metadata": {
            "artist_name": ", ".join(artists),
            "track_name": track.name,
            "additional_info": {**info, "artist_names": artists},
        },
    }


async def _send(world: LiveApp, token: str, listens: list[dict[str, Any]]) -> None:
    response = await world.client.post(
        "/1/submit-listens",
        json={"listen_type": "single" if len(listens) == 1 else "import", "payload": listens},
        headers={"Authorization": f"Token {token}"},
    )
    assert response.json() == {"status": "ok"}, response.text


async def test_a_polled_play_and_its_scrobble_are_one_play(
    settings: Settings, store: Store, sim: Simulator, stepped: SteppedTime
) -> None:
    async with live_app(settings, store, sim, stepped) as world:
        user_id = await world.sign_in()
        token = (await new_token(world.client, "phone"))["token"]
        await stepped.settle(SLEEPERS)
        tracks = list(sim.catalog.tracks)[:6]
        sim.listen("demo", tracks=tracks)
        sent = []
        for index, _ in enumerate(tracks):
            player = sim.users["demo"].player
            duration = sim.catalog.tracks[str(player.current)].duration_ms
            # Halfway: the scrobbler sends the listen, before Spotify lists the play.
            await stepped.run_for(duration / 2000 + 1, SLEEPERS)
            listen = _scrobble(sim, index)
            await _send(world, token, [listen])
            sent.append(listen)
            if index == 3:  # skipped after 60 %: its scrobble's end is far too late
                await stepped.run_for(duration / 10000, SLEEPERS)
                player.next(sim.sync())
            else:
                ends = player.end_ms()
                assert ends is not None
                await stepped.run_for((ends - sim.sync()) / 1000, SLEEPERS)
        await stepped.run_for(600, SLEEPERS)
        await _send(world, token, sent[::2])  # the phone sends some again, later
        truth = expected_plays(sim)
        assert len(truth) == 6
        assert await stored_keys(store, user_id) == truth
        plays = await stored_plays(store, user_id)
        # The poller's record won (Spotify's ids and end stamp); the scrobble filled nothing in
        # that it had, and no scrobbled copy was left beside it.
        assert {p["source"] for p in plays} == {"poll"}
        assert all(p["counted"] for p in plays)
        history = (await world.client.get("/api/v1/history")).json()
        assert history["total"] == 6
