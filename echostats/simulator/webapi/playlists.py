"""Playlists: the user's list, single playlists (contents only for own/collaborative ones),
``/items`` reads and writes, and the Spotify-owned ``37i9…`` ids a dev-mode app cannot read.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from echostats.simulator import fields
from echostats.simulator.catalog import Playlist, PlaylistEntry
from echostats.simulator.webapi.common import ApiError, Ctx, endpoint, json_response

READ_PRIVATE = "playlist-read-private"
MAX_WRITE = 100


def _find(ctx: Ctx) -> Playlist:
    ident = ctx.path_param("playlist_id")
    playlist = ctx.sim.catalog.playlists.get(ident)
    if playlist is None:
        raise ApiError(404, "Resource not found")
    if playlist.spotify_owned and ctx.sim.config.dev_mode:
        # Editorial and algorithmic playlists were withdrawn from dev-mode apps (Nov 2024).
        raise ApiError(404, "Resource not found")
    return playlist


def _selected(ctx: Ctx, body: dict[str, Any]) -> Response:
    """The answer, cut down to the ``fields=`` selection when one was asked for."""
    expression = ctx.query("fields")
    if not expression:
        return json_response(body)
    try:
        selection = fields.parse(expression)
    except fields.FieldsError:
        raise ApiError(400, "Invalid fields parameter") from None
    return json_response(selection.apply(body))


def _member(ctx: Ctx, playlist: Playlist) -> bool:
    user = ctx.account  # an app token is nobody's
    return user is not None and (playlist.owner_id == user.id or user.id in playlist.collaborators)


def _writable(ctx: Ctx, playlist: Playlist) -> None:
    granted = ctx.scopes
    needed = "playlist-modify-public" if playlist.public else "playlist-modify-private"
    if needed not in granted:
        raise ApiError(403, "Insufficient client scope")
    if not _member(ctx, playlist):
        raise ApiError(403, "Forbidden")


@endpoint(READ_PRIVATE)
async def my_playlists(ctx: Ctx) -> Response:
    limit = ctx.int_query("limit", 20, 1, 50)
    offset = ctx.int_query("offset", 0, 0, 100_000)
    playlists = ctx.sim.catalog.playlists
    ids = [p for p in ctx.user.playlist_ids if p in playlists]
    items = [ctx.shapes.simplified_playlist(playlists[p]) for p in ids[offset : offset + limit]]
    base = f"{ctx.shapes.api_base}/me/playlists"
    return json_response(ctx.shapes.paging(items, base, limit, offset, len(ids)))


@endpoint(app_token=True)
async def get_playlist(ctx: Ctx) -> Response:
    playlist = _find(ctx)
    # Other users' playlists: metadata only, the ``items`` key is absent (February 2026).
    visible = _member(ctx, playlist) or not ctx.sim.config.dev_mode
    return _selected(ctx, ctx.shapes.playlist(playlist, with_items=visible))


@endpoint(READ_PRIVATE)
async def playlist_items(ctx: Ctx) -> Response:
    playlist = _find(ctx)
    if ctx.sim.config.dev_mode and not _member(ctx, playlist):
        raise ApiError(403, "Forbidden")
    limit = ctx.int_query("limit", 20, 1, 100)
    offset = ctx.int_query("offset", 0, 0, 100_000)
    rows = [ctx.shapes.playlist_item(e) for e in playlist.entries[offset : offset + limit]]
    base = f"{ctx.shapes.api_base}/playlists/{playlist.id}/items"
    return _selected(ctx, ctx.shapes.paging(rows, base, limit, offset, len(playlist.entries)))


@endpoint(app_token=True)
async def playlist_images(ctx: Ctx) -> Response:
    playlist = ctx.sim.catalog.playlists.get(ctx.path_param("playlist_id"))
    if playlist is None:
        raise ApiError(404, "Resource not found")
    return json_response(ctx.shapes.playlist_images(playlist.image_key))


@endpoint()
async def create_playlist(ctx: Ctx) -> Response:
    body = await ctx.json_body()
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise ApiError(400, "Missing required field: name")
    public = body.get("public", True) is not False
    granted = ctx.scopes
    if ("playlist-modify-public" if public else "playlist-modify-private") not in granted:
        raise ApiError(403, "Insufficient client scope")
    playlist = ctx.sim.world.create_playlist(
        ctx.user.id,
        ctx.user.display_name,
        name,
        [],
        now_ms=ctx.now_ms,
        follower=ctx.user,
        collaborative=body.get("collaborative") is True,
        public=public,
        description=str(body.get("description") or ""),
    )
    ctx.user.playlist_ids.remove(playlist.id)
    ctx.user.playlist_ids.insert(0, playlist.id)
    return json_response(ctx.shapes.playlist(playlist, with_items=True), status=201)


@endpoint()
async def change_details(ctx: Ctx) -> Response:
    playlist = _find(ctx)
    _writable(ctx, playlist)
    body = await ctx.json_body()
    if isinstance(body.get("name"), str):
        playlist.name = body["name"]
    if isinstance(body.get("public"), bool):
        playlist.public = body["public"]
    if isinstance(body.get("collaborative"), bool):
        playlist.collaborative = body["collaborative"]
    if isinstance(body.get("description"), str):
        playlist.description = body["description"]
    playlist.touch()
    return Response(status_code=200)


def _uris_from(ctx: Ctx, body: dict[str, Any]) -> list[str]:
    raw = body.get("uris")
    if raw is None and ctx.query("uris"):
        raw = str(ctx.query("uris")).split(",")
    if not isinstance(raw, list) or not raw:
        raise ApiError(400, "Missing required field: uris")
    if len(raw) > MAX_WRITE:
        raise ApiError(400, "Too many tracks requested")
    ids = []
    for uri in raw:
        parts = str(uri).split(":")
        if (
            len(parts) != 3
            or parts[:2] != ["spotify", "track"]
            or parts[2] not in ctx.sim.catalog.tracks
        ):
            raise ApiError(400, "Invalid track uri")
        ids.append(parts[2])
    return ids


def _snapshot(playlist: Playlist, status: int = 200) -> Response:
    playlist.touch()
    return json_response({"snapshot_id": playlist.snapshot_id}, status=status)


@endpoint()
async def add_items(ctx: Ctx) -> Response:
    playlist = _find(ctx)
    _writable(ctx, playlist)
    sent = await ctx.json_value()
    # A bare JSON array is taken as the list of URIs, as Spotify does.
    body: dict[str, Any] = {"uris": sent} if isinstance(sent, list) else await ctx.json_body()
    ids = _uris_from(ctx, body)
    now = ctx.sim.clock.now()
    entries = [PlaylistEntry(t, now, ctx.user.id) for t in ids]
    position = body.get("position")
    at = position if isinstance(position, int) and 0 <= position <= len(playlist.entries) else None
    if at is None:
        playlist.entries.extend(entries)
    else:
        playlist.entries[at:at] = entries
    return _snapshot(playlist, 201)


@endpoint()
async def replace_items(ctx: Ctx) -> Response:
    playlist = _find(ctx)
    _writable(ctx, playlist)
    body = await ctx.json_body()
    if "range_start" in body:
        start, before = body.get("range_start"), body.get("insert_before")
        length = body.get("range_length", 1)
        n = len(playlist.entries)
        if not (isinstance(start, int) and isinstance(before, int) and isinstance(length, int)):
            raise ApiError(400, "Invalid range")
        if not (0 <= start < n and 0 <= before <= n and length >= 1):
            raise ApiError(400, "Invalid range")
        moving = playlist.entries[start : start + length]
        rest = playlist.entries[:start] + playlist.entries[start + length :]
        at = before if before <= start else before - len(moving)
        playlist.entries = rest[:at] + moving + rest[at:]
        return _snapshot(playlist)
    now = ctx.sim.clock.now()
    playlist.entries = [PlaylistEntry(t, now, ctx.user.id) for t in _uris_from(ctx, body)]
    return _snapshot(playlist)


@endpoint()
async def remove_items(ctx: Ctx) -> Response:
    playlist = _find(ctx)
    _writable(ctx, playlist)
    body = await ctx.json_body()
    rows = body.get("items")
    if not isinstance(rows, list) or not rows:
        raise ApiError(400, "Missing required field: items")
    if len(rows) > MAX_WRITE:
        raise ApiError(400, "Too many tracks requested")
    if "snapshot_id" in body and body["snapshot_id"] != playlist.snapshot_id:
        raise ApiError(400, "Invalid snapshot id")
    doomed = {str(r.get("uri", "")).rpartition(":")[2] for r in rows if isinstance(r, dict)}
    playlist.entries = [e for e in playlist.entries if e.track_id not in doomed]
    return _snapshot(playlist)


@endpoint()
async def follow_playlist(ctx: Ctx) -> Response:
    # Deprecated but observed still answering 200 in October 2026.
    playlist = _find(ctx)
    if playlist.id not in ctx.user.playlist_ids:
        ctx.user.playlist_ids.insert(0, playlist.id)
    return Response(status_code=200)


@endpoint()
async def unfollow_playlist(ctx: Ctx) -> Response:
    playlist = _find(ctx)
    if playlist.id in ctx.user.playlist_ids:
        ctx.user.playlist_ids.remove(playlist.id)
    return Response(status_code=200)


ROUTES = [
    Route("/v1/me/playlists", my_playlists, methods=["GET"]),
    Route("/v1/me/playlists", create_playlist, methods=["POST"]),
    Route("/v1/playlists/{playlist_id}", get_playlist, methods=["GET"]),
    Route("/v1/playlists/{playlist_id}", change_details, methods=["PUT"]),
    Route("/v1/playlists/{playlist_id}/items", playlist_items, methods=["GET"]),
    Route("/v1/playlists/{playlist_id}/items", add_items, methods=["POST"]),
    Route("/v1/playlists/{playlist_id}/items", replace_items, methods=["PUT"]),
    Route("/v1/playlists/{playlist_id}/items", remove_items, methods=["DELETE"]),
    Route("/v1/playlists/{playlist_id}/images", playlist_images, methods=["GET"]),
    Route("/v1/playlists/{playlist_id}/followers", follow_playlist, methods=["PUT"]),
    Route("/v1/playlists/{playlist_id}/followers", unfollow_playlist, methods=["DELETE"]),
]
