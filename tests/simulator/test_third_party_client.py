"""A third-party Spotify client (spotipy, code neither side of the contract wrote) against the
simulator served over real HTTP: sign-in and token refresh, paging, player commands, errors and
a rate limit. What spotipy gets must be what the simulator holds."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import pytest
import spotipy
from spotipy.cache_handler import MemoryCacheHandler

from echostats.simulator import Simulator, SimulatorConfig
from echostats.simulator.server import serve

pytestmark = pytest.mark.anyio

T = TypeVar("T")
SCOPES = (
    "user-read-private user-library-read playlist-read-private user-read-playback-state "
    "user-modify-playback-state user-read-recently-played"
)


@pytest.fixture(autouse=True)
def _quiet_debug_logs() -> Iterator[None]:
    """spotipy logs request headers (the bearer token) at DEBUG; the suite fails on a leak."""
    loggers = [logging.getLogger(name) for name in ("spotipy", "urllib3")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.INFO)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


@pytest.fixture
async def served() -> AsyncIterator[tuple[Simulator, str]]:
    sim = Simulator(SimulatorConfig.realistic(seed=5))
    async with anyio.create_task_group() as tg:
        port = await tg.start(serve, sim, "127.0.0.1", 0)
        yield sim, f"http://127.0.0.1:{port}"
        tg.cancel_scope.cancel()


async def blocking(call: Callable[[], T]) -> T:
    """spotipy is synchronous: run it off the loop that serves the simulator."""
    return await anyio.to_thread.run_sync(call)


async def signed_in(sim: Simulator, base: str) -> tuple[spotipy.Spotify, spotipy.SpotifyOAuth]:
    """spotipy's own authorization-code flow; the browser step is one GET of its URL."""
    auth = spotipy.SpotifyOAuth(
        client_id=sim.config.client_id,
        client_secret=sim.config.client_secret,
        redirect_uri="http://127.0.0.1:8765/callback",
        scope=SCOPES,
        cache_handler=MemoryCacheHandler(),
        open_browser=False,
    )
    auth.OAUTH_AUTHORIZE_URL = f"{base}/authorize"
    auth.OAUTH_TOKEN_URL = f"{base}/api/token"
    async with httpx.AsyncClient() as browser:
        consent = await browser.get(auth.get_authorize_url())
    assert consent.status_code == 302
    code = parse_qs(urlsplit(consent.headers["location"]).query)["code"][0]
    await blocking(lambda: auth.get_access_token(code, as_dict=False, check_cache=False))
    client = spotipy.Spotify(auth_manager=auth, retries=2, status_retries=2, backoff_factor=0)
    client.prefix = f"{base}/v1/"
    return client, auth


async def test_spotipy_signs_in_refreshes_and_reads_the_profile(
    served: tuple[Simulator, str],
) -> None:
    sim, base = served
    client, auth = await signed_in(sim, base)
    me: dict[str, Any] = await blocking(client.me)  # spotipy asks for ``me/``: a trailing slash
    assert (me["id"], me["display_name"]) == ("demo", "Demo Listener")
    assert [c.status for c in sim.calls if c.path.startswith("/v1/me")] == [200]  # no redirect
    assert me["country"] == "SE"  # user-read-private was granted ...
    assert "email" not in me  # ... user-read-email was not
    # The access token runs out: spotipy refreshes it with the refresh grant and goes on.
    cached = auth.cache_handler.get_cached_token()
    auth.cache_handler.save_token_to_cache({**cached, "expires_at": 0})
    sim.clock.advance(3600)
    again: dict[str, Any] = await blocking(client.current_user)
    assert again["id"] == "demo"
    grants = [c for c in sim.calls if c.path == "/api/token"]
    assert [c.status for c in grants] == [200, 200]
    assert auth.cache_handler.get_cached_token()["access_token"] != cached["access_token"]


async def test_spotipy_pages_through_the_library_and_playlists(
    served: tuple[Simulator, str],
) -> None:
    sim, base = served
    client, _ = await signed_in(sim, base)
    demo = sim.users["demo"]
    page: dict[str, Any] | None = await blocking(lambda: client.current_user_saved_tracks(limit=7))
    saved = []
    while page is not None:
        saved += [row["track"]["id"] for row in page["items"]]
        page = await blocking(functools.partial(client.next, page))
    assert saved == [t for t, _ in demo.saved_tracks]
    playlists: dict[str, Any] = await blocking(lambda: client.current_user_playlists(limit=50))
    assert [p["id"] for p in playlists["items"]] == demo.playlist_ids
    own = next(p for p in playlists["items"] if p["owner"]["id"] == "demo")
    rows: dict[str, Any] = await blocking(lambda: client.playlist_items(own["id"], limit=100))
    ids = [r["item"]["id"] if r["item"] else None for r in rows["items"]]
    entries = sim.catalog.playlists[own["id"]].entries[:100]
    assert ids == [None if e.unavailable else e.track_id or None for e in entries]


async def test_spotipy_drives_the_player_through_200_text_answers(
    served: tuple[Simulator, str],
) -> None:
    sim, base = served
    client, _ = await signed_in(sim, base)
    demo = sim.users["demo"]
    tracks = sorted(sim.catalog.tracks)[:3]
    device = demo.devices[1].id
    uris = [f"spotify:track:{t}" for t in tracks]
    # Every command answers 200 with an opaque text body; spotipy must take it as success.
    await blocking(lambda: client.start_playback(device_id=device, uris=uris))
    state: dict[str, Any] = await blocking(client.current_playback)
    assert (state["item"]["id"], state["device"]["id"]) == (tracks[0], device)
    await blocking(lambda: client.add_to_queue(uris[2]))
    await blocking(client.next_track)
    await blocking(client.pause_playback)
    assert (demo.player.current, demo.player.is_playing) == (tracks[2], False)
    commands = [c for c in sim.calls if c.method in ("PUT", "POST") and c.path.startswith("/v1/")]
    assert [c.status for c in commands] == [200] * 4


async def test_spotipy_sees_spotifys_errors_and_waits_out_a_rate_limit(
    served: tuple[Simulator, str],
) -> None:
    sim, base = served
    client, _ = await signed_in(sim, base)
    with pytest.raises(spotipy.SpotifyException) as missing:
        await blocking(lambda: client.track("0" * 22))
    assert missing.value.http_status == 404
    with pytest.raises(spotipy.SpotifyException) as idle:
        await blocking(client.pause_playback)
    assert (idle.value.http_status, idle.value.reason) == (404, "NO_ACTIVE_DEVICE")
    with pytest.raises(spotipy.SpotifyException) as too_many:
        await blocking(lambda: client.current_user_recently_played(limit=51))
    assert too_many.value.http_status == 400
    # One 429 with Retry-After: 1 - spotipy's retry waits it out and gets the answer.
    sim.faults.rate_limit(retry_after=1, count=1)
    track: dict[str, Any] = await blocking(lambda: client.track(sorted(sim.catalog.tracks)[0]))
    assert track["id"] == sorted(sim.catalog.tracks)[0]
    statuses = [c.status for c in sim.calls if c.path.startswith("/v1/tracks/")]
    assert statuses[-2:] == [429, 200]
