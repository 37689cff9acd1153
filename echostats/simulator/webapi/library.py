"""The user's library: saved tracks and albums, followed artists, and ``/me/library`` writes."""

from __future__ import annotations

from collections.abc import Container
from datetime import datetime
from urllib.parse import urlencode

from starlette.responses import Response
from starlette.routing import Route

from echostats.simulator.clock import iso_s
from echostats.simulator.webapi.common import (
    ApiError,
    Ctx,
    endpoint,
    json_response,
    require_scopes,
)

READ = "user-library-read"
MAX_URIS = 40


@endpoint(READ)
async def saved_tracks(ctx: Ctx) -> Response:
    limit = ctx.int_query("limit", 20, 1, 50)
    offset = ctx.int_query("offset", 0, 0, 100_000)
    rows = ctx.user.saved_tracks
    tracks = ctx.sim.catalog.tracks
    items = [
        {"added_at": iso_s(added), "track": ctx.shapes.track(tracks[t])}
        for t, added in rows[offset : offset + limit]
    ]
    base = f"{ctx.shapes.api_base}/me/tracks"
    return json_response(ctx.shapes.paging(items, base, limit, offset, len(rows)))


@endpoint(READ)
async def saved_albums(ctx: Ctx) -> Response:
    limit = ctx.int_query("limit", 20, 1, 50)
    offset = ctx.int_query("offset", 0, 0, 100_000)
    rows = ctx.user.saved_albums
    albums = ctx.sim.catalog.albums
    items = [
        {"added_at": iso_s(added), "album": ctx.shapes.album(albums[a])}
        for a, added in rows[offset : offset + limit]
    ]
    base = f"{ctx.shapes.api_base}/me/albums"
    return json_response(ctx.shapes.paging(items, base, limit, offset, len(rows)))


@endpoint("user-follow-read")
async def following(ctx: Ctx) -> Response:
    kind = ctx.query("type")
    if kind != "artist":
        raise ApiError(400, f"Invalid type: {kind}" if kind else "Missing required parameter: type")
    limit = ctx.int_query("limit", 20, 1, 50)
    after = ctx.query("after")
    followed = ctx.user.followed_artists  # kept sorted by id, so ``after`` is a position
    rest = [a for a in followed if after is None or a > after]
    page = rest[:limit]
    base = f"{ctx.shapes.api_base}/me/following"
    more = len(rest) > limit
    artists = ctx.sim.catalog.artists
    body = {
        "artists": {
            "href": ctx.href(),
            "items": [ctx.shapes.artist(artists[a]) for a in page],
            "limit": limit,
            "next": f"{base}?{urlencode({'type': 'artist', 'after': page[-1], 'limit': limit})}"
            if more
            else None,
            "cursors": {"after": page[-1] if more else None},
            "total": len(followed),
        }
    }
    return json_response(body)


# ``/me/library`` takes every kind of URI; each kind needs its own scope (SPOTIFY.md 2.8).
WRITE_SCOPES = {
    "artist": "user-follow-modify",
    "user": "user-follow-modify",
    "playlist": "playlist-modify-public",
}
READ_SCOPES = {
    "artist": "user-follow-read",
    "user": "user-follow-read",
    "playlist": "playlist-read-private",
}
LIBRARY_KINDS = ("track", "album", "episode", "show", "audiobook", "artist", "user", "playlist")


def _uris(ctx: Ctx, scopes: dict[str, str], default_scope: str) -> list[tuple[str, str]]:
    raw = ctx.query("uris")
    if not raw:
        raise ApiError(400, "Missing required field: uris")
    uris = [u for u in raw.split(",") if u]
    if len(uris) > MAX_URIS:
        raise ApiError(400, "Too many uris requested")
    parsed = []
    for uri in uris:
        parts = uri.split(":")
        if (
            len(parts) != 3
            or parts[0] != "spotify"
            or parts[1] not in LIBRARY_KINDS
            or not parts[2]
        ):
            raise ApiError(400, "Invalid Spotify URI")
        parsed.append((parts[1], parts[2]))
    require_scopes(tuple(scopes.get(kind, default_scope) for kind, _ in parsed), ctx.scopes)
    return parsed


def _shelf(ctx: Ctx, kind: str) -> tuple[list[tuple[str, datetime]], Container[str]] | None:
    """The user's saved items of ``kind`` (newest first) and the catalog ids that can be saved."""
    user, catalog = ctx.user, ctx.sim.catalog
    shelves: dict[str, tuple[list[tuple[str, datetime]], Container[str]]] = {
        "track": (user.saved_tracks, catalog.tracks),
        "album": (user.saved_albums, catalog.albums),
        "show": (user.saved_shows, catalog.spoken.shows),
        "episode": (user.saved_episodes, catalog.spoken.episodes),
        "audiobook": (user.saved_audiobooks, catalog.spoken.audiobooks),
    }
    return shelves.get(kind)


async def _change_library(ctx: Ctx, *, save: bool) -> Response:
    user = ctx.user
    catalog = ctx.sim.catalog
    now = ctx.sim.clock.now()
    for kind, ident in _uris(ctx, WRITE_SCOPES, "user-library-modify"):
        # Unknown ids are accepted silently, as on the real endpoint.
        shelf = _shelf(ctx, kind)
        if shelf is not None:
            rows, known = shelf
            if ident in known:
                rows[:] = [r for r in rows if r[0] != ident]
                if save:
                    rows.insert(0, (ident, now))
        elif kind == "artist" and ident in catalog.artists:
            followed = set(user.followed_artists)
            if save:
                followed.add(ident)
            else:
                followed.discard(ident)
            user.followed_artists = sorted(followed)
        elif kind == "playlist" and ident in catalog.playlists:
            # Saving a playlist follows it: it shows in /me/playlists, newest first.
            if ident in user.playlist_ids:
                user.playlist_ids.remove(ident)
            if save:
                user.playlist_ids.insert(0, ident)
    return Response(status_code=200)


@endpoint()
async def save_to_library(ctx: Ctx) -> Response:
    return await _change_library(ctx, save=True)


@endpoint()
async def remove_from_library(ctx: Ctx) -> Response:
    return await _change_library(ctx, save=False)


@endpoint()
async def library_contains(ctx: Ctx) -> Response:
    user = ctx.user
    uris = _uris(ctx, READ_SCOPES, READ)
    followed = {"artist": set(user.followed_artists), "playlist": set(user.playlist_ids)}

    def saved(kind: str, ident: str) -> bool:
        shelf = _shelf(ctx, kind)
        if shelf is not None:
            return any(row[0] == ident for row in shelf[0])
        return ident in followed.get(kind, set())

    return json_response([saved(kind, ident) for kind, ident in uris])


ROUTES = [
    Route("/v1/me/tracks", saved_tracks, methods=["GET"]),
    Route("/v1/me/albums", saved_albums, methods=["GET"]),
    Route("/v1/me/following", following, methods=["GET"]),
    Route("/v1/me/library", save_to_library, methods=["PUT"]),
    Route("/v1/me/library", remove_from_library, methods=["DELETE"]),
    Route("/v1/me/library/contains", library_contains, methods=["GET"]),
]
