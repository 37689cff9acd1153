"""``SpotifyClient``: one typed method per Spotify call the app makes.

Every method takes our internal ``user_id`` first; tokens come from the ``TokenStore`` through the
``TokenKeeper`` and every request runs through ``SpotifyTransport`` (retries, rate limits,
breaker, records). Methods return pydantic models, or None for Spotify's 204 "nothing playing".
"""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

import anyio
import httpx
from pydantic import BaseModel

from echostats.errors import SpotifyReauthRequired
from echostats.spotify.auth import TokenKeeper
from echostats.spotify.config import SpotifyConfig
from echostats.spotify.models import (
    Album,
    Artist,
    Categories,
    Category,
    CursorPaging,
    FeaturedPlaylists,
    FollowedArtists,
    NewReleases,
    Paging,
    Playlist,
    PlaylistItem,
    Recommendations,
    SavedAlbum,
    SavedTrack,
    SearchResults,
    SimplifiedAlbum,
    SimplifiedPlaylist,
    Track,
    User,
)
from echostats.spotify.oauth import AuthorizationRequest, SpotifyOAuth
from echostats.spotify.player_models import (
    CurrentlyPlaying,
    Device,
    Devices,
    PlaybackState,
    Queue,
    RecentlyPlayed,
)
from echostats.spotify.records import RecordSink, discard_record
from echostats.spotify.tokens import TokenSet, TokenStore
from echostats.spotify.transport import ApiCall, SpotifyTransport

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")
TimeRange = Literal["short_term", "medium_term", "long_term"]
RepeatState = Literal["track", "context", "off"]
SearchType = Literal["album", "artist", "playlist", "track", "show", "episode", "audiobook"]

SEARCH_MAX_LIMIT = 10  # development-mode apps: 11 → 400


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _parser(model: type[M]) -> Callable[[Any], M]:
    def parse(payload: Any) -> M:
        if payload is None:
            raise ValueError("empty answer where an object was expected")
        return model.model_validate(payload)

    return parse


def _optional_parser(model: type[M]) -> Callable[[Any], M | None]:
    def parse(payload: Any) -> M | None:
        return None if payload is None else model.model_validate(payload)

    return parse


def _ignore(payload: Any) -> None:
    return None


def _ms(value: datetime | int) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("cursor datetimes must be timezone-aware")
        return int(value.timestamp() * 1000)
    return value


def _check_limit(limit: int, high: int) -> None:
    if not 1 <= limit <= high:
        raise ValueError(f"limit must be between 1 and {high}")


class _GivenTokens:
    """Token source for the sign-in moment: tokens not stored yet, nothing to refresh with."""

    def __init__(self, tokens: TokenSet) -> None:
        self._tokens = tokens

    async def access_token(self, user_id: str) -> str:
        return self._tokens.access_token

    async def refresh_after_rejection(self, user_id: str, rejected: str) -> str:
        raise SpotifyReauthRequired("Spotify rejected the token it just issued; sign in again.")


class SpotifyClient:
    """The app's only way to Spotify. Use ``async with`` (or ``aclose``) when it owns its HTTP
    client; pass ``http`` to share one (or to point it at the simulator through ASGITransport)."""

    def __init__(
        self,
        config: SpotifyConfig,
        tokens: TokenStore,
        *,
        http: httpx.AsyncClient | None = None,
        sink: RecordSink = discard_record,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = _utc_now,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(config.timeout, connect=min(5.0, config.timeout)),
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
        )
        self.transport = SpotifyTransport(
            config, self._http, sink, sleep=sleep, clock=clock, now=now, random=jitter
        )
        self.oauth = SpotifyOAuth(self.transport, now)
        self.tokens = TokenKeeper(tokens, self.oauth, now, config.refresh_margin)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    # --- OAuth -------------------------------------------------------------------------------

    def begin_authorization(self, *, show_dialog: bool = False) -> AuthorizationRequest:
        return self.oauth.begin(show_dialog=show_dialog)

    async def exchange_code(self, code: str, code_verifier: str) -> TokenSet:
        """Trade the callback's code for tokens (not stored: the caller knows the user)."""
        return await self.oauth.exchange_code(code, code_verifier)

    async def profile_for_tokens(self, tokens: TokenSet) -> User:
        """``GET /me`` with tokens fresh from ``exchange_code``, before any user exists."""
        call = ApiCall("GET", "/me")
        return await self.transport.call_api(None, call, _GivenTokens(tokens), _parser(User))

    async def refresh(self, user_id: str) -> TokenSet:
        """Refresh now (stored afterwards); ``SpotifyReauthRequired`` when Spotify says no."""
        return await self.tokens.refresh_now(user_id)

    # --- plumbing ----------------------------------------------------------------------------

    async def _get(
        self,
        user_id: str,
        endpoint: str,
        parse: Callable[[Any], R],
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, str | int | None] | None = None,
    ) -> R:
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        call = ApiCall("GET", endpoint, path=path or {}, params=clean or None)
        return await self.transport.call_api(user_id, call, self.tokens, parse)

    async def _command(
        self,
        user_id: str,
        method: str,
        endpoint: str,
        *,
        params: Mapping[str, str | int | None] | None = None,
        body: Any = None,
    ) -> None:
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        call = ApiCall(method, endpoint, params=clean or None, body=body, command=True)
        await self.transport.call_api(user_id, call, self.tokens, _ignore)

    # --- profile, history, now playing -------------------------------------------------------

    async def me(self, user_id: str) -> User:
        return await self._get(user_id, "/me", _parser(User))

    async def recently_played(
        self,
        user_id: str,
        *,
        limit: int = 50,
        after: datetime | int | None = None,
        before: datetime | int | None = None,
    ) -> RecentlyPlayed:
        """Plays newest first; ``after``/``before`` are exclusive (datetime or Unix ms)."""
        _check_limit(limit, 50)
        if after is not None and before is not None:
            raise ValueError("give either after or before, not both")
        params = {
            "limit": limit,
            "after": None if after is None else _ms(after),
            "before": None if before is None else _ms(before),
        }
        return await self._get(
            user_id, "/me/player/recently-played", _parser(RecentlyPlayed), params=params
        )

    async def currently_playing(self, user_id: str) -> CurrentlyPlaying | None:
        """None when nothing plays (Spotify's 204)."""
        return await self._get(
            user_id,
            "/me/player/currently-playing",
            _optional_parser(CurrentlyPlaying),
            params={"additional_types": "track,episode"},
        )

    async def playback_state(self, user_id: str) -> PlaybackState | None:
        """None when no device is active (Spotify's 204)."""
        return await self._get(
            user_id,
            "/me/player",
            _optional_parser(PlaybackState),
            params={"additional_types": "track,episode"},
        )

    async def devices(self, user_id: str) -> list[Device]:
        answer: Devices = await self._get(user_id, "/me/player/devices", _parser(Devices))
        return answer.devices

    async def queue(self, user_id: str) -> Queue:
        return await self._get(user_id, "/me/player/queue", _parser(Queue))

    # --- player commands (Premium; any 2xx is success) ---------------------------------------

    async def play(
        self,
        user_id: str,
        *,
        context_uri: str | None = None,
        uris: Sequence[str] | None = None,
        offset: int | str | None = None,
        position_ms: int | None = None,
        device_id: str | None = None,
    ) -> None:
        """Resume (no arguments), or play a context / list of URIs. ``offset`` is a position
        or a track URI inside the context."""
        if context_uri is not None and uris is not None:
            raise ValueError("give either context_uri or uris, not both")
        body: dict[str, Any] = {}
        if context_uri is not None:
            body["context_uri"] = context_uri
        if uris is not None:
            body["uris"] = list(uris)
        if offset is not None:
            body["offset"] = {"uri": offset} if isinstance(offset, str) else {"position": offset}
        if position_ms is not None:
            body["position_ms"] = position_ms
        await self._command(
            user_id,
            "PUT",
            "/me/player/play",
            params={"device_id": device_id},
            body=body or None,
        )

    async def pause(self, user_id: str, *, device_id: str | None = None) -> None:
        await self._command(user_id, "PUT", "/me/player/pause", params={"device_id": device_id})

    async def next_track(self, user_id: str, *, device_id: str | None = None) -> None:
        await self._command(user_id, "POST", "/me/player/next", params={"device_id": device_id})

    async def previous_track(self, user_id: str, *, device_id: str | None = None) -> None:
        await self._command(user_id, "POST", "/me/player/previous", params={"device_id": device_id})

    async def seek(self, user_id: str, position_ms: int, *, device_id: str | None = None) -> None:
        if position_ms < 0:
            raise ValueError("position_ms must not be negative")
        params = {"position_ms": position_ms, "device_id": device_id}
        await self._command(user_id, "PUT", "/me/player/seek", params=params)

    async def set_volume(
        self, user_id: str, volume_percent: int, *, device_id: str | None = None
    ) -> None:
        if not 0 <= volume_percent <= 100:
            raise ValueError("volume_percent must be between 0 and 100")
        params = {"volume_percent": volume_percent, "device_id": device_id}
        await self._command(user_id, "PUT", "/me/player/volume", params=params)

    async def set_shuffle(self, user_id: str, state: bool, *, device_id: str | None = None) -> None:
        params = {"state": "true" if state else "false", "device_id": device_id}
        await self._command(user_id, "PUT", "/me/player/shuffle", params=params)

    async def set_repeat(
        self, user_id: str, state: RepeatState, *, device_id: str | None = None
    ) -> None:
        params = {"state": state, "device_id": device_id}
        await self._command(user_id, "PUT", "/me/player/repeat", params=params)

    async def transfer(self, user_id: str, device_id: str, *, play: bool = False) -> None:
        body = {"device_ids": [device_id], "play": play}
        await self._command(user_id, "PUT", "/me/player", body=body)

    async def add_to_queue(self, user_id: str, uri: str, *, device_id: str | None = None) -> None:
        params = {"uri": uri, "device_id": device_id}
        await self._command(user_id, "POST", "/me/player/queue", params=params)

    # --- personalisation, playlists, library -------------------------------------------------

    async def top_artists(
        self,
        user_id: str,
        *,
        time_range: TimeRange = "medium_term",
        limit: int = 20,
        offset: int = 0,
    ) -> Paging[Artist]:
        _check_limit(limit, 50)
        params = {"time_range": time_range, "limit": limit, "offset": offset}
        return await self._get(user_id, "/me/top/artists", _parser(Paging[Artist]), params=params)

    async def top_tracks(
        self,
        user_id: str,
        *,
        time_range: TimeRange = "medium_term",
        limit: int = 20,
        offset: int = 0,
    ) -> Paging[Track]:
        _check_limit(limit, 50)
        params = {"time_range": time_range, "limit": limit, "offset": offset}
        return await self._get(user_id, "/me/top/tracks", _parser(Paging[Track]), params=params)

    async def my_playlists(
        self, user_id: str, *, limit: int = 50, offset: int = 0
    ) -> Paging[SimplifiedPlaylist]:
        _check_limit(limit, 50)
        return await self._get(
            user_id,
            "/me/playlists",
            _parser(Paging[SimplifiedPlaylist]),
            params={"limit": limit, "offset": offset},
        )

    def iter_my_playlists(
        self, user_id: str, *, page_size: int = 50
    ) -> AsyncIterator[SimplifiedPlaylist]:
        return _all_offset_pages(
            lambda offset: self.my_playlists(user_id, limit=page_size, offset=offset)
        )

    async def playlist(self, user_id: str, playlist_id: str) -> Playlist:
        return await self._get(
            user_id,
            "/playlists/{id}",
            _parser(Playlist),
            path={"id": playlist_id},
            params={"additional_types": "track,episode"},
        )

    async def playlist_items(
        self, user_id: str, playlist_id: str, *, limit: int = 100, offset: int = 0
    ) -> Paging[PlaylistItem]:
        """Rows of an owned or collaborative playlist (others: ``SpotifyForbidden``)."""
        _check_limit(limit, 100)
        return await self._get(
            user_id,
            "/playlists/{id}/items",
            _parser(Paging[PlaylistItem]),
            path={"id": playlist_id},
            params={"limit": limit, "offset": offset, "additional_types": "track,episode"},
        )

    def iter_playlist_items(
        self, user_id: str, playlist_id: str, *, page_size: int = 100
    ) -> AsyncIterator[PlaylistItem]:
        return _all_offset_pages(
            lambda offset: self.playlist_items(user_id, playlist_id, limit=page_size, offset=offset)
        )

    async def saved_tracks(
        self, user_id: str, *, limit: int = 20, offset: int = 0
    ) -> Paging[SavedTrack]:
        _check_limit(limit, 50)
        return await self._get(
            user_id,
            "/me/tracks",
            _parser(Paging[SavedTrack]),
            params={"limit": limit, "offset": offset},
        )

    async def saved_albums(
        self, user_id: str, *, limit: int = 20, offset: int = 0
    ) -> Paging[SavedAlbum]:
        _check_limit(limit, 50)
        return await self._get(
            user_id,
            "/me/albums",
            _parser(Paging[SavedAlbum]),
            params={"limit": limit, "offset": offset},
        )

    async def followed_artists(
        self, user_id: str, *, after: str | None = None, limit: int = 50
    ) -> CursorPaging[Artist]:
        """One page; ``after`` is the last artist id of the previous page."""
        _check_limit(limit, 50)
        answer: FollowedArtists = await self._get(
            user_id,
            "/me/following",
            _parser(FollowedArtists),
            params={"type": "artist", "after": after, "limit": limit},
        )
        return answer.artists

    async def iter_followed_artists(
        self, user_id: str, *, page_size: int = 50
    ) -> AsyncIterator[Artist]:
        after: str | None = None
        while True:
            page = await self.followed_artists(user_id, after=after, limit=page_size)
            for artist in page.items:
                yield artist
            cursor = page.cursors.after if page.cursors else None
            if not page.items or not page.next or not cursor or cursor == after:
                return
            after = cursor

    # --- catalog -----------------------------------------------------------------------------

    async def track(self, user_id: str, track_id: str) -> Track:
        return await self._get(user_id, "/tracks/{id}", _parser(Track), path={"id": track_id})

    async def album(self, user_id: str, album_id: str) -> Album:
        return await self._get(user_id, "/albums/{id}", _parser(Album), path={"id": album_id})

    async def artist(self, user_id: str, artist_id: str) -> Artist:
        return await self._get(user_id, "/artists/{id}", _parser(Artist), path={"id": artist_id})

    async def artist_albums(
        self,
        user_id: str,
        artist_id: str,
        *,
        include_groups: Sequence[str] | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> Paging[SimplifiedAlbum]:
        _check_limit(limit, 10)
        groups = ",".join(include_groups) if include_groups else None
        return await self._get(
            user_id,
            "/artists/{id}/albums",
            _parser(Paging[SimplifiedAlbum]),
            path={"id": artist_id},
            params={"include_groups": groups, "limit": limit, "offset": offset},
        )

    async def search(
        self,
        user_id: str,
        query: str,
        *,
        types: Sequence[SearchType] = ("track",),
        limit: int = 5,
        offset: int = 0,
        market: str | None = None,
    ) -> SearchResults:
        """Search; development-mode apps get at most 10 results per page and type."""
        _check_limit(limit, SEARCH_MAX_LIMIT)
        if not query.strip() or not types:
            raise ValueError("search needs a query and at least one type")
        if limit + offset > 1000:
            raise ValueError("limit + offset may not exceed 1000")
        params: dict[str, str | int | None] = {
            "q": query,
            "type": ",".join(types),
            "limit": limit,
            "offset": offset,
            "market": market,
        }
        return await self._get(user_id, "/search", _parser(SearchResults), params=params)

    # --- browse and discovery (withdrawn for development-mode apps → SpotifyWithdrawn) --------

    async def new_releases(
        self, user_id: str, *, limit: int = 20, offset: int = 0
    ) -> Paging[SimplifiedAlbum]:
        _check_limit(limit, 50)
        answer: NewReleases = await self._get(
            user_id,
            "/browse/new-releases",
            _parser(NewReleases),
            params={"limit": limit, "offset": offset},
        )
        return answer.albums

    async def featured_playlists(
        self, user_id: str, *, limit: int = 20, offset: int = 0
    ) -> Paging[SimplifiedPlaylist]:
        _check_limit(limit, 50)
        answer: FeaturedPlaylists = await self._get(
            user_id,
            "/browse/featured-playlists",
            _parser(FeaturedPlaylists),
            params={"limit": limit, "offset": offset},
        )
        return answer.playlists

    async def categories(
        self, user_id: str, *, limit: int = 20, offset: int = 0, locale: str | None = None
    ) -> Paging[Category]:
        _check_limit(limit, 50)
        answer: Categories = await self._get(
            user_id,
            "/browse/categories",
            _parser(Categories),
            params={"limit": limit, "offset": offset, "locale": locale},
        )
        return answer.categories

    async def recommendations(
        self,
        user_id: str,
        *,
        seed_artists: Sequence[str] = (),
        seed_tracks: Sequence[str] = (),
        seed_genres: Sequence[str] = (),
        limit: int = 20,
    ) -> list[Track]:
        _check_limit(limit, 100)
        if not 1 <= len(seed_artists) + len(seed_tracks) + len(seed_genres) <= 5:
            raise ValueError("recommendations need one to five seeds")
        params: dict[str, str | int | None] = {
            "seed_artists": ",".join(seed_artists) or None,
            "seed_tracks": ",".join(seed_tracks) or None,
            "seed_genres": ",".join(seed_genres) or None,
            "limit": limit,
        }
        answer: Recommendations = await self._get(
            user_id, "/recommendations", _parser(Recommendations), params=params
        )
        return answer.tracks


async def _all_offset_pages(
    fetch: Callable[[int], Awaitable[Paging[R]]],
) -> AsyncIterator[R]:
    offset = 0
    while True:
        page = await fetch(offset)
        for item in page.items:
            yield item
        offset += page.limit or len(page.items)
        if not page.next or not page.items:
            return
