"""Every response the simulator produces, validated against Spotify's OpenAPI spec."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from echostats.simulator import Simulator, SimulatorConfig

from .conformance import Compiler, check, spec
from .conftest import BASE_URL, bearer
from .deviations import FIELD_DEVIATIONS, STATUS_DEVIATIONS

pytestmark = pytest.mark.anyio

# Spec operations (not deprecated) the simulator deliberately does not implement.
NOT_MODELLED = {
    ("PUT", "/playlists/{playlist_id}/images"): "cover uploads are not needed by EchoStats",
}


@dataclass
class Tour:
    """Sends requests and keeps (method, route, response) for validation at the end."""

    sim: Simulator
    http: httpx.AsyncClient
    seen: list[tuple[str, str, httpx.Response]] = field(default_factory=list)

    async def go(
        self, method: str, url: str, headers: dict[str, str] | None, **kwargs: Any
    ) -> httpx.Response:
        response = await self.http.request(method, url, headers=headers, **kwargs)
        self.seen.append((method, self.sim.calls[-1].route, response))
        return response


async def _dev_tour(tour: Tour) -> None:
    sim = tour.sim
    h = bearer(sim)
    sim.add_user("frank", premium=False)
    hf = bearer(sim, "frank")
    demo = sim.users["demo"]
    device = demo.devices[0].id
    album_id = demo.saved_albums[0][0]
    album = sim.catalog.albums[album_id]

    await tour.go("GET", "/v1/me", h)
    assert (await tour.go("GET", "/v1/me/player/recently-played", h)).json()["cursors"] is None
    assert (await tour.go("GET", "/v1/me/player/currently-playing", h)).status_code == 204
    assert (await tour.go("GET", "/v1/me/player", h)).status_code == 204
    await tour.go("GET", "/v1/me/player/queue", h)
    await tour.go("GET", "/v1/me/player/devices", h)
    assert (await tour.go("PUT", "/v1/me/player/pause", h)).status_code == 404
    assert (await tour.go("PUT", "/v1/me/player/play", hf, json={})).status_code == 403
    body = {"context_uri": f"spotify:album:{album_id}", "offset": {"position": 0}}
    play = await tour.go("PUT", f"/v1/me/player/play?device_id={device}", h, json=body)
    assert play.is_success
    sim.clock.advance(30)
    assert (await tour.go("GET", "/v1/me/player/currently-playing", h)).status_code == 200
    assert (await tour.go("GET", "/v1/me/player", h)).status_code == 200
    track_uri = f"spotify:track:{album.track_ids[0]}"
    await tour.go("POST", f"/v1/me/player/queue?uri={track_uri}", h)
    await tour.go("GET", "/v1/me/player/queue", h)
    await tour.go("PUT", "/v1/me/player/pause", h)
    assert (await tour.go("PUT", "/v1/me/player/pause", h)).status_code == 403
    await tour.go("PUT", "/v1/me/player/play", h)
    await tour.go("PUT", "/v1/me/player/seek?position_ms=1000", h)
    await tour.go("PUT", "/v1/me/player/volume?volume_percent=30", h)
    await tour.go("PUT", "/v1/me/player/shuffle?state=false", h)
    await tour.go("PUT", "/v1/me/player/repeat?state=context", h)
    await tour.go("POST", "/v1/me/player/next", h)
    await tour.go("POST", "/v1/me/player/previous", h)
    await tour.go("PUT", "/v1/me/player", h, json={"device_ids": [demo.devices[1].id]})
    sim.clock.advance(3600)
    h = bearer(sim)  # the first access token has expired by now
    for query in ("limit=50", "limit=5", "after=0&limit=3", f"before={sim.clock.now_ms()}"):
        await tour.go("GET", f"/v1/me/player/recently-played?{query}", h)
    assert (await tour.go("GET", "/v1/me/player/recently-played?limit=51", h)).status_code == 400
    for kind in ("artists", "tracks"):
        await tour.go("GET", f"/v1/me/top/{kind}?time_range=short_term&limit=50", h)

    await _playlist_tour(tour, h)
    await _library_tour(tour, h)
    await _catalog_tour(tour, h)
    await _spoken_tour(tour, h)

    assert (await tour.go("GET", "/v1/me", None)).status_code == 401
    assert (await tour.go("GET", "/v1/me", {"Authorization": "Bearer nope"})).status_code == 401
    assert (await tour.go("GET", "/v1/me", {"Authorization": "Basic abc"})).status_code == 400
    sim.faults.rate_limit(retry_after=3)
    assert (await tour.go("GET", "/v1/me", h)).status_code == 429
    sim.faults.quota_exceeded()
    assert (await tour.go("GET", "/v1/me/player", h)).status_code == 429
    sim.faults.clear()
    sim.faults.server_errors(status=503)
    assert (await tour.go("GET", "/v1/me/tracks", h)).status_code == 503
    sim.faults.unregister("demo")
    assert (await tour.go("GET", "/v1/me", h)).status_code == 403
    sim.faults.clear()


async def _playlist_tour(tour: Tour, h: dict[str, str]) -> None:
    sim = tour.sim
    demo = sim.users["demo"]
    playlists = [sim.catalog.playlists[p] for p in demo.playlist_ids]
    own = next(p for p in playlists if p.owner_id == "demo")
    other = next(
        p for p in playlists if p.owner_id not in ("demo", "spotify") and not p.collaborative
    )
    editorial = next(p for p in playlists if p.spotify_owned)
    await tour.go("GET", "/v1/me/playlists?limit=50", h)
    assert "items" in (await tour.go("GET", f"/v1/playlists/{own.id}", h)).json()
    assert "items" not in (await tour.go("GET", f"/v1/playlists/{other.id}", h)).json()
    assert (await tour.go("GET", f"/v1/playlists/{editorial.id}", h)).status_code == 404
    await tour.go("GET", f"/v1/playlists/{own.id}/items?limit=100&offset=10", h)
    assert (await tour.go("GET", f"/v1/playlists/{other.id}/items", h)).status_code == 403
    assert (await tour.go("GET", f"/v1/playlists/{own.id}/tracks", h)).status_code == 403
    await tour.go("GET", f"/v1/playlists/{own.id}/images", h)
    created = await tour.go("POST", "/v1/me/playlists", h, json={"name": "New", "public": False})
    assert created.status_code == 201
    new_id = created.json()["id"]
    uris = [f"spotify:track:{t}" for t in list(sim.catalog.tracks)[:3]]
    await tour.go("POST", f"/v1/playlists/{new_id}/items", h, json={"uris": uris})
    move = {"range_start": 0, "insert_before": 3}
    await tour.go("PUT", f"/v1/playlists/{new_id}/items", h, json=move)
    await tour.go("DELETE", f"/v1/playlists/{new_id}/items", h, json={"items": [{"uri": uris[0]}]})
    await tour.go("PUT", f"/v1/playlists/{new_id}", h, json={"name": "Renamed"})
    await tour.go("PUT", f"/v1/playlists/{other.id}/followers", h)
    await tour.go("DELETE", f"/v1/playlists/{other.id}/followers", h)


async def _library_tour(tour: Tour, h: dict[str, str]) -> None:
    sim = tour.sim
    await tour.go("GET", "/v1/me/tracks?limit=50", h)
    await tour.go("GET", "/v1/me/albums?limit=5&offset=2", h)
    await tour.go("GET", "/v1/me/shows", h)
    await tour.go("GET", "/v1/me/episodes", h)
    first = (await tour.go("GET", "/v1/me/following?type=artist&limit=50", h)).json()
    after = first["artists"]["cursors"]["after"]
    await tour.go("GET", f"/v1/me/following?type=artist&limit=50&after={after}", h)
    assert (await tour.go("GET", "/v1/me/following?type=user", h)).status_code == 400
    uri = f"spotify:track:{list(sim.catalog.tracks)[5]}"
    await tour.go("PUT", f"/v1/me/library?uris={uri}", h)
    await tour.go("GET", f"/v1/me/library/contains?uris={uri}", h)
    await tour.go("DELETE", f"/v1/me/library?uris={uri}", h)
    assert (await tour.go("PUT", "/v1/me/tracks?ids=abc", h)).status_code == 403


async def _catalog_tour(tour: Tour, h: dict[str, str]) -> None:
    catalog = tour.sim.catalog
    track = next(iter(catalog.tracks.values()))
    await tour.go("GET", f"/v1/tracks/{track.id}", h)
    await tour.go("GET", f"/v1/albums/{track.album_id}", h)
    await tour.go("GET", f"/v1/albums/{track.album_id}/tracks?limit=2", h)
    await tour.go("GET", f"/v1/artists/{track.artist_ids[0]}", h)
    await tour.go("GET", f"/v1/artists/{track.artist_ids[0]}/albums?limit=10", h)
    assert (await tour.go("GET", f"/v1/tracks/{'0' * 22}", h)).status_code == 404
    assert (await tour.go("GET", "/v1/tracks/not-an-id", h)).status_code == 400
    word = track.name.split()[0]
    await tour.go("GET", f"/v1/search?q={word}&type=track,artist,album,playlist&limit=10", h)
    assert (await tour.go("GET", "/v1/search?q=a&type=track&limit=11", h)).status_code == 400
    for url in (
        f"/v1/tracks?ids={track.id}",
        f"/v1/albums?ids={track.album_id}",
        f"/v1/artists?ids={track.artist_ids[0]}",
        "/v1/browse/new-releases",
        "/v1/browse/categories",
        f"/v1/audio-features/{track.id}",
        f"/v1/artists/{track.artist_ids[0]}/related-artists",
        f"/v1/artists/{track.artist_ids[0]}/top-tracks",
    ):
        assert (await tour.go("GET", url, h)).status_code == 403, url
    assert (await tour.go("GET", "/v1/recommendations?seed_genres=folk", h)).status_code == 404


async def _spoken_tour(tour: Tour, h: dict[str, str]) -> None:
    spoken = tour.sim.catalog.spoken
    show = next(iter(spoken.shows.values()))
    book = next(iter(spoken.audiobooks.values()))
    for url in (
        f"/v1/shows/{show.id}",
        f"/v1/shows/{show.id}/episodes?limit=2&offset=1",
        f"/v1/episodes/{show.episode_ids[0]}",
        f"/v1/audiobooks/{book.id}",
        f"/v1/audiobooks/{book.id}/chapters?limit=2",
        f"/v1/chapters/{book.chapter_ids[0]}",
        "/v1/me/audiobooks",
        "/v1/search?q=podcast&type=show,episode,audiobook&limit=3",
    ):
        assert (await tour.go("GET", url, h)).status_code == 200, url
    assert (await tour.go("GET", f"/v1/shows?ids={show.id}", h)).status_code == 403
    assert (await tour.go("GET", f"/v1/episodes/{'0' * 22}", h)).status_code == 404
    no_position = bearer(tour.sim, scope="")  # an episode without its resume_point
    await tour.go("GET", f"/v1/episodes/{show.episode_ids[0]}", no_position)


async def _extended_tour(tour: Tour) -> None:
    sim = tour.sim
    h = bearer(sim)
    demo = sim.users["demo"]
    sim.listen("demo", context_uri=f"spotify:playlist:{demo.playlist_ids[0]}")
    sim.clock.advance(1800)
    await tour.go("GET", "/v1/me/player/recently-played", h)
    await tour.go("GET", "/v1/me/player", h)
    await tour.go("GET", "/v1/me/top/artists", h)
    await tour.go("GET", "/v1/me/top/tracks", h)
    await tour.go("GET", "/v1/me/albums", h)
    for playlist_id in demo.playlist_ids:
        await tour.go("GET", f"/v1/playlists/{playlist_id}", h)
        await tour.go("GET", f"/v1/playlists/{playlist_id}/items", h)
    await tour.go("GET", "/v1/me/playlists", h)
    track = next(iter(sim.catalog.tracks.values()))
    artist = track.artist_ids[0]
    await tour.go("GET", f"/v1/tracks/{track.id}", h)
    await tour.go("GET", f"/v1/artists/{artist}", h)
    await tour.go("GET", f"/v1/artists/{artist}/albums?limit=50", h)
    await tour.go(
        "GET", f"/v1/search?q={track.name.split()[0]}&type=track,artist,album&limit=50", h
    )
    for url in (
        f"/v1/tracks?ids={track.id},{'0' * 22}",
        f"/v1/albums?ids={track.album_id}",
        f"/v1/artists?ids={artist}",
        "/v1/browse/new-releases?limit=3",
        "/v1/browse/categories",
        f"/v1/recommendations?seed_artists={artist}&seed_genres=folk&limit=5",
        "/v1/recommendations/available-genre-seeds",
        f"/v1/artists/{artist}/related-artists",
        f"/v1/artists/{artist}/top-tracks",
    ):
        assert (await tour.go("GET", url, h)).status_code == 200, url


async def _run(config: SimulatorConfig, script: Any) -> tuple[Simulator, Tour]:
    sim = Simulator(config)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url=BASE_URL
    ) as http:
        tour = Tour(sim, http)
        await script(tour)
    return sim, tour


def _problems(tour: Tour, *, dev_mode: bool) -> list[str]:
    compiler = Compiler(dev_mode=dev_mode)
    problems: list[str] = []
    for method, route, response in tour.seen:
        problems += check(compiler, method, route, response)
    return problems


async def test_every_dev_mode_response_conforms_to_the_spec() -> None:
    sim, tour = await _run(SimulatorConfig(seed=42), _dev_tour)
    assert _problems(tour, dev_mode=True) == []
    texts = [
        r
        for m, _, r in tour.seen
        if m != "GET" and "text/plain" in r.headers.get("content-type", "")
    ]
    assert texts, "player commands should answer 200 with a text body"
    # The 204 flavour of the player commands (Spotify before 2024).
    _, empty_tour = await _run(SimulatorConfig(seed=7, player_success=204), _dev_tour)
    assert _problems(empty_tour, dev_mode=True) == []
    # Every route the simulator serves was exercised (in this or the extended-mode tour).
    _, extended = await _run(SimulatorConfig(seed=42, dev_mode=False), _extended_tour)
    exercised = {(m, r) for m, r, _ in tour.seen + extended.seen}
    for route in sim.app.routes:
        assert isinstance(route, Route)
        if route.path.startswith("/v1") and route.endpoint.__name__ != "always_forbidden":
            for method in (route.methods or set()) - {"HEAD"}:
                assert (method, route.path) in exercised, (method, route.path)


async def test_every_extended_mode_response_conforms_to_the_spec() -> None:
    _, tour = await _run(SimulatorConfig(seed=42, dev_mode=False), _extended_tour)
    assert _problems(tour, dev_mode=False) == []


def test_the_strict_compiler_rejects_what_the_spec_forbids() -> None:
    """Guards the test itself: removed fields, unknown keys and missing keys all fail."""
    compiler = Compiler(dev_mode=True)
    request = httpx.Request("GET", f"{BASE_URL}/v1/artists/x")
    artist = {
        "external_urls": {"spotify": "https://open.spotify.com/artist/x"},
        "href": "h",
        "id": "x",
        "images": [],
        "name": "n",
        "type": "artist",
        "uri": "u",
    }
    ok = httpx.Response(200, json=artist, request=request)
    assert check(compiler, "GET", "/v1/artists/{id}", ok) == []
    for broken in (
        {**artist, "popularity": 3},  # removed in dev mode
        {**artist, "surprise": True},  # undeclared
        {k: v for k, v in artist.items() if k != "images"},  # missing
        {**artist, "type": "album"},  # wrong enum
    ):
        response = httpx.Response(200, json=broken, request=request)
        assert check(compiler, "GET", "/v1/artists/{id}", response) != [], broken
    undocumented = httpx.Response(204, request=request)
    assert check(compiler, "GET", "/v1/artists/{id}", undocumented) != []


def test_every_deviation_names_a_real_schema_field() -> None:
    schemas = spec()["components"]["schemas"]
    responses = spec()["components"]["responses"]
    for dev in FIELD_DEVIATIONS:
        assert dev.reason
        if dev.schema.startswith("response:"):
            assert dev.schema.removeprefix("response:") in responses
            continue
        node = schemas[dev.schema]
        declared = set(node.get("properties", {}))
        for part in node.get("allOf", []):
            declared |= set(part.get("properties", {}))
        if dev.kind == "extra":
            assert dev.field not in declared, dev
        elif dev.field != "*":
            assert dev.field in declared, dev
    for (method, path, _, _), reason in STATUS_DEVIATIONS.items():
        assert reason
        assert path == "*" or method.lower() in spec()["paths"][path]


def test_every_current_spec_operation_is_simulated_or_listed() -> None:
    sim = Simulator(SimulatorConfig(seed=1, n_artists=5))
    served = set()
    for route in sim.app.routes:
        assert isinstance(route, Route)
        for method in route.methods or set():
            served.add((method, route.path.removeprefix("/v1")))
    for path, operations in spec()["paths"].items():
        for method, operation in operations.items():
            if method in ("get", "put", "post", "delete") and not operation.get("deprecated"):
                key = (method.upper(), path)
                assert key in served or key in NOT_MODELLED, key
