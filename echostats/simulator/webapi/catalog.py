"""Catalog lookups one item at a time, artist discographies and search.

Batch ``?ids=`` lookups and discovery endpoints live in ``extended.py``: a development-mode app
gets 403/404 there, so the single-item routes here are what a 2026 client must use.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from starlette.responses import Response
from starlette.routing import Route

from echostats.simulator.shapes import Json
from echostats.simulator.webapi.common import ApiError, Ctx, endpoint, json_response

BASE62_ID = re.compile(r"^[0-9A-Za-z]{22}$")
SEARCH_TYPES = ("album", "artist", "playlist", "track", "show", "episode", "audiobook")


def valid_id(ident: str) -> str:
    if not BASE62_ID.match(ident):
        raise ApiError(400, "Invalid base62 id")
    return ident


def _missing() -> ApiError:
    return ApiError(404, "Resource not found")


@endpoint(app_token=True)
async def track(ctx: Ctx) -> Response:
    ident = valid_id(ctx.path_param("id"))
    found = ctx.sim.catalog.tracks.get(ident)
    if found is None:
        raise _missing()
    return json_response(ctx.shapes.track(found))


@endpoint(app_token=True)
async def album(ctx: Ctx) -> Response:
    ident = valid_id(ctx.path_param("id"))
    found = ctx.sim.catalog.albums.get(ident)
    if found is None:
        raise _missing()
    return json_response(ctx.shapes.album(found))


@endpoint(app_token=True)
async def album_tracks(ctx: Ctx) -> Response:
    ident = valid_id(ctx.path_param("id"))
    found = ctx.sim.catalog.albums.get(ident)
    if found is None:
        raise _missing()
    limit = ctx.int_query("limit", 20, 1, 50)
    offset = ctx.int_query("offset", 0, 0, 100_000)
    tracks = ctx.sim.catalog.tracks
    items = [
        ctx.shapes.simplified_track(tracks[t]) for t in found.track_ids[offset : offset + limit]
    ]
    base = f"{ctx.shapes.api_base}/albums/{ident}/tracks"
    return json_response(ctx.shapes.paging(items, base, limit, offset, len(found.track_ids)))


@endpoint(app_token=True)
async def artist(ctx: Ctx) -> Response:
    ident = valid_id(ctx.path_param("id"))
    found = ctx.sim.catalog.artists.get(ident)
    if found is None:
        raise _missing()
    return json_response(ctx.shapes.artist(found))


@endpoint(app_token=True)
async def artist_albums(ctx: Ctx) -> Response:
    ident = valid_id(ctx.path_param("id"))
    found = ctx.sim.catalog.artists.get(ident)
    if found is None:
        raise _missing()
    # February 2026: default 5, maximum 10 for development-mode apps.
    dev = ctx.sim.config.dev_mode
    limit = ctx.int_query("limit", 5 if dev else 20, 1, 10 if dev else 50)
    offset = ctx.int_query("offset", 0, 0, 100_000)
    groups = (ctx.query("include_groups") or "album,single,appears_on,compilation").split(",")
    albums = [ctx.sim.catalog.albums[a] for a in found.album_ids]
    albums = [a for a in albums if a.album_type in groups]
    items = [
        ctx.shapes.simplified_album(a, group=a.album_type) for a in albums[offset : offset + limit]
    ]
    base = f"{ctx.shapes.api_base}/artists/{ident}/albums"
    return json_response(ctx.shapes.paging(items, base, limit, offset, len(albums)))


@endpoint(app_token=True)
async def search(ctx: Ctx) -> Response:
    query = ctx.query("q")
    if not query:
        raise ApiError(400, "No search query")
    kinds = (ctx.query("type") or "").split(",")
    if not kinds or any(k not in SEARCH_TYPES for k in kinds):
        raise ApiError(400, "Bad search type field")
    dev = ctx.sim.config.dev_mode
    limit = ctx.int_query("limit", 5 if dev else 20, 1, 10 if dev else 50)
    offset = ctx.int_query("offset", 0, 0, 1000)
    if limit + offset > 1000:
        raise ApiError(400, "Limit + Offset exceeds maximum of 1000")
    catalog, shapes = ctx.sim.catalog, ctx.shapes
    body = {}
    for kind in kinds:
        items: list[Json | None]
        ids = catalog.search(kind, query)
        window = ids[offset : offset + limit]
        if kind == "track":
            items = [shapes.track(catalog.tracks[i]) for i in window]
        elif kind == "artist":
            items = [shapes.artist(catalog.artists[i]) for i in window]
        elif kind == "album":
            items = [shapes.simplified_album(catalog.albums[i]) for i in window]
        elif kind == "playlist":
            items = [shapes.simplified_playlist(catalog.playlists[i]) for i in window]
            if ctx.sim.config.oddities and len(items) > 1:
                items[1] = None  # real playlist results carry null rows (SPOTIFY.md 1.6)
        elif kind == "show":
            items = [shapes.simplified_show(catalog.spoken.shows[i]) for i in window]
        elif kind == "episode":
            items = [shapes.episode(catalog.spoken.episodes[i], full=False) for i in window]
        else:
            books = catalog.spoken.audiobooks
            items = [shapes.audiobook(books[i], full=False) for i in window]
        base = f"{shapes.api_base}/search?{urlencode({'q': query, 'type': kind})}"
        body[f"{kind}s"] = shapes.paging(items, base, limit, offset, len(ids))
    return json_response(body)


ROUTES = [
    Route("/v1/tracks/{id}", track, methods=["GET"]),
    Route("/v1/albums/{id}", album, methods=["GET"]),
    Route("/v1/albums/{id}/tracks", album_tracks, methods=["GET"]),
    Route("/v1/artists/{id}", artist, methods=["GET"]),
    Route("/v1/artists/{id}/albums", artist_albums, methods=["GET"]),
    Route("/v1/search", search, methods=["GET"]),
]
