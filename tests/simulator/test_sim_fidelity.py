"""Where the simulator used to be more forgiving than Spotify (issue 20), one test per gap.

Every 2xx answer here is also validated against Spotify's OpenAPI spec (``conformance.py``,
minus the development-mode deviations in ``deviations.py``).
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import pytest

from echostats.simulator import Simulator, SimulatorConfig, export

from .conformance import Compiler, check
from .conftest import BASE_URL, bearer

pytestmark = pytest.mark.anyio

BASIC = "Basic " + base64.b64encode(b"sim-client-id:sim-client-secret").decode()


def conforms(sim: Simulator, response: httpx.Response, *, partial: bool = False) -> None:
    """The answer just received matches the spec (``partial``: a ``fields=`` selection)."""
    call = sim.calls[-1]
    assert check(Compiler(dev_mode=True, partial=partial), call.method, call.route, response) == []


# --- 9: a trailing slash is served, not redirected -------------------------------------------


async def test_a_trailing_slash_is_served_like_spotify(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    h = bearer(sim)
    response = await client.get("/v1/me/", headers=h)
    assert response.status_code == 200
    assert response.json()["id"] == "demo"
    assert len(sim.calls) == 1  # no redirect, no second request
    conforms(sim, response)
    playlists = await client.get("/v1/me/playlists/?limit=2", headers=h)
    assert playlists.status_code == 200
    assert len(playlists.json()["items"]) == 2


# --- 10: a bare JSON array of URIs is the list of URIs ----------------------------------------


async def test_a_bare_json_array_adds_those_items(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    h = bearer(sim)
    created = await client.post("/v1/me/playlists", headers=h, json={"name": "Bare"})
    playlist_id = created.json()["id"]
    uris = [f"spotify:track:{t}" for t in sorted(sim.catalog.tracks)[:2]]
    added = await client.post(f"/v1/playlists/{playlist_id}/items", headers=h, json=uris)
    assert added.status_code == 201, added.text
    conforms(sim, added)
    items = (await client.get(f"/v1/playlists/{playlist_id}/items", headers=h)).json()["items"]
    assert [row["item"]["uri"] for row in items] == uris
    garbled = await client.post(
        f"/v1/playlists/{playlist_id}/items", headers=h, content=b"[spotify:track"
    )
    assert garbled.status_code == 400


# --- 11: the token endpoint and the edge refuse like Spotify's --------------------------------


async def test_wrong_client_credentials_are_400_invalid_client(
    client: httpx.AsyncClient,
) -> None:
    wrong = "Basic " + base64.b64encode(b"sim-client-id:wrong").decode()
    form = {"grant_type": "refresh_token", "refresh_token": "x"}
    response = await client.post("/api/token", data=form, headers={"Authorization": wrong})
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "Invalid client secret",
    }


async def test_client_credentials_give_an_app_token_for_the_catalog_only(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    response = await client.post(
        "/api/token", data={"grant_type": "client_credentials"}, headers={"Authorization": BASIC}
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}  # no refresh token
    h = {"Authorization": f"Bearer {body['access_token']}"}
    track = await client.get(f"/v1/tracks/{sorted(sim.catalog.tracks)[0]}", headers=h)
    assert track.status_code == 200
    conforms(sim, track)
    mine = await client.get("/v1/me", headers=h)
    assert mine.status_code == 401
    assert mine.json()["error"]["message"] == "Valid user authentication required"
    assert (await client.get("/v1/me/player/recently-played", headers=h)).status_code == 401
    # Without a client secret there is nobody to give an app token to.
    public = await client.post(
        "/api/token", data={"grant_type": "client_credentials", "client_id": "sim-client-id"}
    )
    assert public.status_code == 400
    assert public.json()["error"] == "invalid_client"


async def test_a_put_without_content_length_is_411(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    h = bearer(sim)
    request = client.build_request("PUT", "/v1/me/player/pause", headers=h)
    del request.headers["content-length"]
    response = await client.send(request)
    assert response.status_code == 411
    assert "Content-length" in response.text
    # With a length (httpx sends ``Content-Length: 0``) the command reaches the player.
    answered = await client.put("/v1/me/player/pause", headers=h)
    assert answered.status_code == 404  # nothing is playing: no active device


async def test_401_answers_carry_a_bearer_challenge(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    missing = await client.get("/v1/me")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == 'Bearer realm="spotify"'
    invalid = await client.get("/v1/me", headers={"Authorization": "Bearer nope"})
    assert invalid.status_code == 401
    assert invalid.headers["www-authenticate"] == (
        'Bearer realm="spotify", error="invalid_token", error_description="Invalid access token"'
    )
    h = bearer(sim)
    sim.clock.advance(3600)
    expired = await client.get("/v1/me", headers=h)
    assert 'error_description="The access token expired"' in expired.headers["www-authenticate"]


# --- 2: scopes gate data, not only endpoints -----------------------------------------------


async def test_me_shows_private_details_only_with_their_scopes(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    private = {"country", "product", "explicit_content"}
    bare = await client.get("/v1/me", headers=bearer(sim, scope=""))
    assert bare.status_code == 200
    assert not (private | {"email"}) & set(bare.json())
    conforms(sim, bare)
    with_private = (
        await client.get("/v1/me", headers=bearer(sim, scope="user-read-private"))
    ).json()
    assert private <= set(with_private)
    assert "email" not in with_private
    with_email = (await client.get("/v1/me", headers=bearer(sim, scope="user-read-email"))).json()
    assert with_email["email"] == "demo@example.com"
    assert not private & set(with_email)


@pytest.mark.parametrize(
    ("kind", "write_scope", "read_scope"),
    [
        ("track", "user-library-modify", "user-library-read"),
        ("artist", "user-follow-modify", "user-follow-read"),
        ("playlist", "playlist-modify-public", "playlist-read-private"),
    ],
)
async def test_library_writes_and_checks_need_the_scope_of_each_kind(
    sim: Simulator, client: httpx.AsyncClient, kind: str, write_scope: str, read_scope: str
) -> None:
    other = {
        "track": sorted(sim.catalog.tracks)[0],
        "artist": sorted(sim.catalog.artists)[0],
        "playlist": sim.create_playlist("moa", "Elsewhere").id,
    }
    uri = f"spotify:{kind}:{other[kind]}"
    sim.users["demo"].followed_artists = []
    every_other = " ".join(
        s
        for s in ("user-library-modify", "user-follow-modify", "playlist-modify-public")
        if s != write_scope
    )
    refused = await client.put(f"/v1/me/library?uris={uri}", headers=bearer(sim, scope=every_other))
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "Insufficient client scope"
    saved = await client.put(f"/v1/me/library?uris={uri}", headers=bearer(sim, scope=write_scope))
    assert saved.status_code == 200
    wrong_read = " ".join(
        s
        for s in ("user-library-read", "user-follow-read", "playlist-read-private")
        if s != read_scope
    )
    contains = f"/v1/me/library/contains?uris={uri}"
    assert (await client.get(contains, headers=bearer(sim, scope=wrong_read))).status_code == 403
    answer = await client.get(contains, headers=bearer(sim, scope=read_scope))
    assert answer.json() == [True]
    conforms(sim, answer)


# --- 6: saving a playlist to the library follows it ------------------------------------------


async def test_saving_a_playlist_follows_it_and_removing_unfollows(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    h = bearer(sim)
    playlist = sim.create_playlist("moa", "Found Elsewhere", sorted(sim.catalog.tracks)[:3])
    uri = f"spotify:playlist:{playlist.id}"
    contains = f"/v1/me/library/contains?uris={uri}"
    assert (await client.get(contains, headers=h)).json() == [False]
    assert (await client.put(f"/v1/me/library?uris={uri}", headers=h)).status_code == 200
    assert (await client.get(contains, headers=h)).json() == [True]
    mine = await client.get("/v1/me/playlists?limit=1", headers=h)
    assert mine.json()["items"][0]["id"] == playlist.id  # newest first
    conforms(sim, mine)
    assert (await client.delete(f"/v1/me/library?uris={uri}", headers=h)).status_code == 200
    assert (await client.get(contains, headers=h)).json() == [False]
    listed = (await client.get("/v1/me/playlists?limit=50", headers=h)).json()["items"]
    assert playlist.id not in {p["id"] for p in listed}


# --- 1: fields= selects, and a stale expression selects nothing --------------------------------


async def test_fields_selects_what_was_asked_for(sim: Simulator, client: httpx.AsyncClient) -> None:
    h = bearer(sim)
    own = sim.users["demo"].playlist_ids[0]
    meta = await client.get(f"/v1/playlists/{own}?fields=name,uri,items.total", headers=h)
    assert set(meta.json()) == {"name", "uri", "items"}
    assert set(meta.json()["items"]) == {"total"}
    conforms(sim, meta, partial=True)
    rows = await client.get(
        f"/v1/playlists/{own}/items?limit=3&fields=items(added_at,item(name,album(!images)))",
        headers=h,
    )
    assert [set(r) for r in rows.json()["items"]] == [{"added_at", "item"}] * 3
    album = rows.json()["items"][0]["item"]["album"]
    assert "images" not in album
    assert "name" in album
    assert set(rows.json()["items"][0]["item"]) == {"name", "album"}
    conforms(sim, rows, partial=True)
    # ``track`` became ``item`` in February 2026: the old expression selects empty rows.
    stale = await client.get(
        f"/v1/playlists/{own}/items?limit=2&fields=items(track(name))", headers=h
    )
    assert stale.json() == {"items": [{}, {}]}
    broken = await client.get(f"/v1/playlists/{own}?fields=items(name", headers=h)
    assert broken.status_code == 400


# --- 8: the undocumented keys real playlist answers carry ----------------------------------------


async def test_playlists_carry_primary_color_and_rows_their_item_flags(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    h = bearer(sim)
    listing = await client.get("/v1/me/playlists", headers=h)
    assert all("primary_color" in p for p in listing.json()["items"])
    conforms(sim, listing)
    own = sim.users["demo"].playlist_ids[0]
    playlist = await client.get(f"/v1/playlists/{own}", headers=h)
    assert "primary_color" in playlist.json()
    row = playlist.json()["items"]["items"][0]
    assert (row["item"]["track"], row["item"]["episode"]) == (True, False)
    conforms(sim, playlist)
    rows = await client.get(f"/v1/playlists/{own}/items", headers=h)
    assert all(r["item"]["track"] is True for r in rows.json()["items"])
    conforms(sim, rows)


# --- 7: shows, episodes, audiobooks and chapters by id -----------------------------------------


async def test_spoken_word_is_served_by_id_and_saved_in_the_library(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    h = bearer(sim)
    spoken = sim.catalog.spoken
    show = sorted(spoken.shows.values(), key=lambda s: s.id)[0]
    book = sorted(spoken.audiobooks.values(), key=lambda b: b.id)[0]
    answers = {
        "show": await client.get(f"/v1/shows/{show.id}", headers=h),
        "episodes": await client.get(f"/v1/shows/{show.id}/episodes?limit=1", headers=h),
        "episode": await client.get(f"/v1/episodes/{show.episode_ids[0]}", headers=h),
        "audiobook": await client.get(f"/v1/audiobooks/{book.id}", headers=h),
        "chapters": await client.get(f"/v1/audiobooks/{book.id}/chapters", headers=h),
        "chapter": await client.get(f"/v1/chapters/{book.chapter_ids[0]}", headers=h),
    }
    assert {k: r.status_code for k, r in answers.items()} == dict.fromkeys(answers, 200)
    assert answers["show"].json()["name"] == show.name
    assert "publisher" not in answers["show"].json()  # removed for dev-mode apps
    assert answers["episodes"].json()["total"] == len(show.episode_ids)
    assert answers["episode"].json()["show"]["id"] == show.id
    assert answers["chapter"].json()["audiobook"]["id"] == book.id
    for url in ("/v1/shows/{}", "/v1/episodes/{}", "/v1/audiobooks/{}", "/v1/chapters/{}"):
        assert (await client.get(url.format("0" * 22), headers=h)).status_code == 404
    uris = f"spotify:show:{show.id},spotify:audiobook:{book.id}"
    sim.users["demo"].saved_shows.clear()
    sim.users["demo"].saved_audiobooks.clear()
    assert (await client.put(f"/v1/me/library?uris={uris}", headers=h)).status_code == 200
    shows = await client.get("/v1/me/shows", headers=h)
    assert [r["show"]["id"] for r in shows.json()["items"]] == [show.id]
    conforms(sim, shows)
    books = await client.get("/v1/me/audiobooks", headers=h)
    assert books.status_code == 200  # was 405
    assert [r["audiobook"]["id"] for r in books.json()["items"]] == [book.id]
    conforms(sim, books)
    contains = await client.get(f"/v1/me/library/contains?uris={uris}", headers=h)
    assert contains.json() == [True, True]


# --- 5: the edge data real accounts produce ----------------------------------------------------


@pytest.fixture
async def odd() -> AsyncIterator[tuple[Simulator, httpx.AsyncClient]]:
    """A simulator with the real world's oddities on (as demo mode runs it)."""
    sim = Simulator(SimulatorConfig(seed=42, oddities=True))
    transport = httpx.ASGITransport(app=sim.app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield sim, http


async def test_playlists_hold_a_local_file_an_unavailable_and_a_very_old_row(
    odd: tuple[Simulator, httpx.AsyncClient],
) -> None:
    sim, client = odd
    h = bearer(sim)
    demo = sim.users["demo"]
    biggest = max(
        (sim.catalog.playlists[p] for p in demo.playlist_ids if p in sim.catalog.playlists),
        key=lambda p: len(p.entries) if p.owner_id == "demo" else 0,
    )
    rows = await client.get(f"/v1/playlists/{biggest.id}/items?limit=10", headers=h)
    conforms(sim, rows)
    items = rows.json()["items"]
    assert (items[0]["added_at"], items[0]["added_by"]) == (None, None)
    local = items[2]
    assert local["is_local"] is True
    assert local["item"]["id"] is None
    assert local["item"]["uri"].startswith("spotify:local:")
    assert items[5]["item"] is None
    assert sum(1 for r in items if r["item"] is not None and r["item"]["id"]) == 8
    # The player skips what cannot be played.
    context = sim.catalog.tracks_of_context(f"spotify:playlist:{biggest.id}")
    assert context is not None
    assert len(context) == len(biggest.entries) - 2


async def test_playlist_search_results_carry_null_rows(
    odd: tuple[Simulator, httpx.AsyncClient],
) -> None:
    sim, client = odd
    response = await client.get("/v1/search?q=a&type=playlist,track&limit=5", headers=bearer(sim))
    assert response.status_code == 200
    conforms(sim, response)
    playlists = response.json()["playlists"]["items"]
    assert None in playlists
    assert None not in response.json()["tracks"]["items"]


async def test_an_episode_plays_queues_and_stays_out_of_recently_played(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    h = bearer(sim)
    show = sorted(sim.catalog.spoken.shows.values(), key=lambda s: s.id)[0]
    first, second = show.episode_ids[:2]
    device = sim.users["demo"].devices[0].id
    body = {"uris": [f"spotify:episode:{first}"]}
    assert (
        await client.put(f"/v1/me/player/play?device_id={device}", json=body, headers=h)
    ).status_code == 200
    queued = await client.post(f"/v1/me/player/queue?uri=spotify:episode:{second}", headers=h)
    assert queued.status_code == 200  # was 400 "Invalid track uri"
    with_episodes = await client.get(
        "/v1/me/player/currently-playing?additional_types=track,episode", headers=h
    )
    conforms(sim, with_episodes)
    assert with_episodes.json()["currently_playing_type"] == "episode"
    assert with_episodes.json()["item"]["show"]["id"] == show.id
    tracks_only = await client.get("/v1/me/player/currently-playing", headers=h)
    conforms(sim, tracks_only)
    assert (tracks_only.json()["currently_playing_type"], tracks_only.json()["item"]) == (
        "episode",
        None,
    )
    queue = await client.get("/v1/me/player/queue", headers=h)
    conforms(sim, queue)
    assert queue.json()["queue"][0]["id"] == second
    sim.clock.advance(sim.catalog.spoken.episodes[first].duration_ms / 1000 + 1)
    played = sim.users["demo"].played[-1]
    assert played.track_id == first
    # The privacy export has it as a podcast row.
    (row,) = export.rows([played], sim.catalog, export.Listening("SE", {}, 2026))
    assert (row["spotify_episode_uri"], row["spotify_track_uri"]) == (
        f"spotify:episode:{first}",
        None,
    )
    recent = (await client.get("/v1/me/player/recently-played", headers=h)).json()
    assert recent["items"] == []  # recently-played lists no episodes


async def test_free_accounts_hear_adverts_between_tracks(
    odd: tuple[Simulator, httpx.AsyncClient],
) -> None:
    sim, client = odd
    sim.add_user("frank", premium=False)
    sim.listen("frank", sorted(sim.catalog.tracks)[:40])
    seen: set[str] = set()
    for _ in range(40):
        state = await client.get("/v1/me/player", headers=bearer(sim, "frank"))
        if state.status_code == 204:
            break
        conforms(sim, state)
        body = state.json()
        seen.add(body["currently_playing_type"])
        if body["currently_playing_type"] == "ad":
            assert body["item"] is None
        end = sim.users["frank"].player.end_ms()
        assert end is not None
        sim.clock.advance((end - sim.clock.now_ms()) / 1000 + 1)  # just into what comes next
    assert {"ad", "track"} <= seen
    assert sim.users["frank"].player.adverts > 0
    assert all(p.track_id in sim.catalog.tracks for p in sim.users["frank"].played)
