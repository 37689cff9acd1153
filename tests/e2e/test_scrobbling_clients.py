"""Real clients, unchanged, against a real server: ListenBrainz's own Python library
(liblistenbrainz, which joins its paths from the host root) over uvicorn on loopback; and a
household member without Spotify, made with ``echostats add-user`` and signed in by the link
it prints."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import liblistenbrainz
import pytest
from liblistenbrainz import Listen
from liblistenbrainz.errors import InvalidAuthTokenException, ListenBrainzAPIException

from echostats.settings import Settings
from echostats.simulator import Simulator, SimulatorConfig
from echostats.store import Store
from echostats.store.embedded import EmbeddedServer
from tests import leaks
from tests.api.test_listenbrainz import new_token
from tests.e2e.test_cli_operations import assert_clean, echostats, on
from tests.ingest.stepped import SteppedTime
from tests.ingest.truth import stored_plays
from tests.ingest.world import live_app
from tests.signin import signin_world

pytestmark = pytest.mark.anyio


def _listen(minutes_ago: int) -> Listen:
    return Listen(
        track_name=f"Song {minutes_ago}",
        artist_name="Daft Punk",
        release_name="Discovery",
        listened_at=int(time.time()) - 60 * minutes_ago,
        additional_info={"duration_ms": 240_000, "submission_client": "liblistenbrainz"},
    )


async def test_listenbrainz_own_library_works_unchanged(settings: Settings, store: Store) -> None:
    sim = Simulator(SimulatorConfig(seed=3, realtime=False))
    async with live_app(settings, store, sim, SteppedTime(sim)) as world:
        user_id = await world.sign_in()
        token = (await new_token(world.client, "liblistenbrainz"))["token"]

        def use_the_library() -> tuple[list[Listen], Listen | None]:
            # The library's one setting: where the API lives (it joins "/1/..." to it).
            client = liblistenbrainz.ListenBrainz(api_base_url=world.url)
            with pytest.raises(InvalidAuthTokenException):
                client.set_auth_token("00000000-0000-4000-8000-000000000000")
            client.set_auth_token(token)  # checked with /1/validate-token
            client.submit_single_listen(_listen(30))
            client.submit_multiple_listens([_listen(20), _listen(10)])
            client.submit_multiple_listens([_listen(20)])  # sent again: stored once
            playing = _listen(0)
            playing.listened_at = None
            client.submit_playing_now(playing)
            with pytest.raises(ListenBrainzAPIException) as refused:
                client.submit_single_listen(Listen("x", "y", listened_at=1_000_000))
            assert refused.value.status_code == 400
            assert "too low" in str(refused.value.message)
            return client.get_listens(user_id), client.get_playing_now(user_id)

        listens, playing = await anyio.to_thread.run_sync(use_the_library)
    assert [listen.track_name for listen in listens] == ["Song 10", "Song 20", "Song 30"]
    assert listens[0].artist_name == "Daft Punk"
    assert playing is not None
    assert playing.track_name == "Song 0"
    assert len(await stored_plays(store, user_id)) == 3


async def test_a_household_member_without_spotify_signs_in_with_a_link_and_scrobbles(
    settings: Settings, db_server: EmbeddedServer, store: Store, tmp_path: Path
) -> None:
    env = on(db_server, store, tmp_path)
    made = await echostats("add-user", "Sam", env=env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "created Sam" in made.stdout
    link = made.stdout.strip().splitlines()[-1]
    target = urlsplit(link)
    assert target.path == "/api/v1/auth/link"
    leaks.SECRETS.add(target.query.removeprefix("token="))
    assert_clean(made)

    async with signin_world(settings, store) as world:
        signed = await world.client.get(f"{target.path}?{target.query}")
        assert signed.status_code == 303, signed.text
        me = (await world.client.get("/api/v1/me")).json()
        assert (me["display_name"], me["spotify_id"]) == ("Sam", None)
        status = (await world.client.get("/api/v1/auth/status")).json()
        assert status["spotify_reauth_required"] is None
        # The link works once.
        world.client.cookies.clear()
        again = await world.client.get(f"{target.path}?{target.query}")
        assert again.status_code == 400
        assert "used already" in again.json()["detail"]

        fresh = await echostats("sign-in-link", me["id"], env=env, cwd=tmp_path)
        assert fresh.returncode == 0, fresh.stderr
        new_link = urlsplit(fresh.stdout.strip().splitlines()[-1])
        leaks.SECRETS.add(new_link.query.removeprefix("token="))
        assert (await world.client.get(f"{new_link.path}?{new_link.query}")).status_code == 303
        token = (await new_token(world.client, "Car stereo"))["token"]
        listen = {
            "listened_at": int(time.time()) - 600,
            "track_metadata": {"artist_name": "Air", "track_name": "La femme d'argent"},
        }
        sent = await world.client.post(
            "/1/submit-listens",
            json={"listen_type": "single", "payload": [listen]},
            headers={"Authorization": f"Token {token}"},
        )
        assert sent.json() == {"status": "ok"}
    [play] = await stored_plays(store, me["id"])
    assert (play["track_name"], play["source"], play["counted"]) == (
        "La femme d'argent",
        "scrobble",
        True,
    )
    unknown = await echostats("sign-in-link", "nobody", env=env, cwd=tmp_path)
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "echostats: no user with id nobody"
