"""``/me/player*``: playback state (reads) and remote control (writes) of the simulated player."""

from __future__ import annotations

from collections.abc import Container
from typing import Any

from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from echostats.simulator import names
from echostats.simulator.playback import AD, Device, Player
from echostats.simulator.webapi.common import ApiError, Ctx, endpoint, json_response

READ_STATE = "user-read-playback-state"
READ_CURRENT = "user-read-currently-playing"
MODIFY = "user-modify-playback-state"

RESTRICTED = "Player command failed: Restriction violated"


# --- reads -------------------------------------------------------------------------------


def _disallows(player: Player) -> dict[str, bool]:
    # Only the ``true`` keys appear on the wire, wrapped in ``disallows`` (SPOTIFY.md 2.3).
    flags = {
        "pausing": not player.is_playing,
        "resuming": player.is_playing,
        "skipping_prev": not player.has_previous(),
        "skipping_next": not player.has_next(),
    }
    return {k: True for k, v in flags.items() if v}


def _playing(ctx: Ctx) -> dict[str, Any] | None:
    player = ctx.user.player
    current = player.current
    if current is None or player.active_device is None:
        return None
    kind = "track"
    if current == AD:
        kind = "ad"
    elif current in ctx.sim.catalog.spoken.episodes:
        kind = "episode"
    # An episode is shown only to a client that asks for episodes; an advert never has an item.
    shown = kind == "track" or (kind == "episode" and "episode" in _additional_types(ctx))
    return {
        "timestamp": player.changed_ms,
        "context": ctx.shapes.context(player.context_uri),
        "progress_ms": player.progress_at(ctx.now_ms),
        "item": ctx.shapes.playable(current) if shown else None,
        "currently_playing_type": kind,
        "actions": {"disallows": _disallows(player)},
        "is_playing": player.is_playing,
    }


def _additional_types(ctx: Ctx) -> set[str]:
    return set((ctx.query("additional_types") or "").split(","))


@endpoint(READ_CURRENT)
async def currently_playing(ctx: Ctx) -> Response:
    body = _playing(ctx)
    return Response(status_code=204) if body is None else json_response(body)


@endpoint(READ_STATE)
async def playback_state(ctx: Ctx) -> Response:
    body = _playing(ctx)
    device = ctx.user.player.active_device
    if body is None or device is None:
        return Response(status_code=204)
    player = ctx.user.player
    body = {
        "device": ctx.shapes.device(device, active=True),
        "repeat_state": player.repeat,
        "shuffle_state": player.shuffle,
        "smart_shuffle": False,
        **body,
    }
    return json_response(body)


@endpoint(READ_STATE)
async def devices(ctx: Ctx) -> Response:
    player = ctx.user.player
    rows = [ctx.shapes.device(d, active=d.id == player.active_device_id) for d in player.devices]
    return json_response({"devices": rows})


@endpoint(READ_CURRENT, READ_STATE)
async def queue(ctx: Ctx) -> Response:
    player = ctx.user.player
    if player.current is None:
        return json_response({"currently_playing": None, "queue": []})
    current = None if player.current == AD else ctx.shapes.playable(player.current)
    return json_response(
        {
            "currently_playing": current,
            "queue": [ctx.shapes.playable(t) for t in player.upcoming()],
        }
    )


# --- writes ------------------------------------------------------------------------------


def _ok(ctx: Ctx) -> Response:
    if ctx.sim.config.player_success == 200:
        # Since 2024 many controls answer 200 with an opaque snapshot-like text body.
        return PlainTextResponse(names.base62_id(ctx.sim.player_rng, 27))
    return Response(status_code=204)


def _premium(ctx: Ctx) -> Player:
    if not ctx.user.premium:
        raise ApiError(403, "Player command failed: Premium required", "PREMIUM_REQUIRED")
    return ctx.user.player


def _device(ctx: Ctx, *, need_active: bool = True) -> Device:
    player = _premium(ctx)
    wanted = ctx.query("device_id")
    device = player.device(wanted) if wanted else player.active_device
    if wanted and device is None:
        raise ApiError(404, "Device not found")
    if device is None:
        if need_active:
            raise ApiError(404, "Player command failed: No active device found", "NO_ACTIVE_DEVICE")
        raise ApiError(404, "Device not found")
    if device.is_restricted:
        raise ApiError(403, RESTRICTED, "DEVICE_NOT_CONTROLLABLE")
    return device


def _restricted() -> ApiError:
    return ApiError(403, RESTRICTED, "UNKNOWN")


def _track_id(ctx: Ctx, uri: object) -> str:
    """The id of a track or podcast episode URI (the player plays both)."""
    catalog = ctx.sim.catalog
    known: dict[str, Container[str]] = {"track": catalog.tracks, "episode": catalog.spoken.episodes}
    parts = uri.split(":") if isinstance(uri, str) else []
    if len(parts) != 3 or parts[0] != "spotify" or parts[2] not in known.get(parts[1], ()):
        raise ApiError(400, f"Invalid track uri: {uri}")
    return parts[2]


@endpoint(MODIFY)
async def play(ctx: Ctx) -> Response:
    player = _premium(ctx)
    body = await ctx.json_body()
    wanted = ctx.query("device_id")
    device = _device(ctx, need_active=not wanted)
    context_uri, uris = body.get("context_uri"), body.get("uris")
    if context_uri is None and uris is None:
        # No body: resume. Playing already (a second play) is refused like on Spotify; an idle
        # player resumes the last context on the chosen device.
        if player.is_playing and device.id == player.active_device_id:
            raise _restricted()
        if player.current is None:
            if not player.resume_context(ctx.now_ms, device.id):
                raise _restricted()
        elif device.id != player.active_device_id:
            player.transfer(ctx.now_ms, device.id, play=True)
        else:
            player.resume(ctx.now_ms)
        return _ok(ctx)
    if context_uri is not None:
        tracks = ctx.sim.catalog.tracks_of_context(str(context_uri))
        if not tracks:
            raise ApiError(400, "Invalid context uri")
    elif isinstance(uris, list) and uris:
        tracks = [_track_id(ctx, u) for u in uris]
        context_uri = None
    else:
        raise ApiError(400, "Invalid uris")
    start = _offset(ctx, body.get("offset"), tracks, context_uri)
    position = body.get("position_ms", 0)
    if not isinstance(position, int) or position < 0:
        raise ApiError(400, "Invalid position_ms")
    player.play(
        ctx.now_ms,
        tracks=tracks,
        context_uri=context_uri,
        start_index=start,
        position_ms=position,
        device_id=device.id,
    )
    return _ok(ctx)


def _offset(ctx: Ctx, offset: object, tracks: list[str], context_uri: object) -> int:
    if offset is None:
        return 0
    if isinstance(context_uri, str) and context_uri.startswith("spotify:artist:"):
        raise ApiError(400, "Can't have offset for context type: ARTIST")
    if isinstance(offset, dict) and isinstance(offset.get("position"), int):
        index = int(offset["position"])
        if not 0 <= index < len(tracks):
            raise ApiError(400, "Invalid offset")
        return index
    if isinstance(offset, dict) and "uri" in offset:
        track = _track_id(ctx, offset["uri"])
        if track not in tracks:
            raise ApiError(400, "Invalid offset")
        return tracks.index(track)
    raise ApiError(400, "Invalid offset")


@endpoint(MODIFY)
async def pause(ctx: Ctx) -> Response:
    _device(ctx)
    player = ctx.user.player
    if not player.is_playing:
        raise _restricted()
    player.pause(ctx.now_ms)
    return _ok(ctx)


@endpoint(MODIFY)
async def skip_next(ctx: Ctx) -> Response:
    _device(ctx)
    player = ctx.user.player
    if player.current is None or not player.has_next():
        raise _restricted()
    player.next(ctx.now_ms)
    return _ok(ctx)


@endpoint(MODIFY)
async def skip_previous(ctx: Ctx) -> Response:
    _device(ctx)
    player = ctx.user.player
    if player.current is None or not player.has_previous():
        raise _restricted()
    player.previous(ctx.now_ms)
    return _ok(ctx)


def _required_int(ctx: Ctx, name: str, low: int, high: int) -> int:
    if ctx.query(name) is None:
        raise ApiError(400, f"Missing required parameter: {name}")
    return ctx.int_query(name, 0, low, high)


@endpoint(MODIFY)
async def seek(ctx: Ctx) -> Response:
    _device(ctx)
    position = _required_int(ctx, "position_ms", 0, 2**31 - 1)
    player = ctx.user.player
    if player.current is None:
        raise _restricted()
    player.seek(ctx.now_ms, position)
    return _ok(ctx)


@endpoint(MODIFY)
async def volume(ctx: Ctx) -> Response:
    device = _device(ctx)
    percent = _required_int(ctx, "volume_percent", 0, 100)
    if not device.supports_volume:
        raise ApiError(
            403, "Player command failed: Cannot control device volume", "VOLUME_CONTROL_DISALLOW"
        )
    device.volume_percent = percent
    ctx.user.player.changed_ms = ctx.now_ms
    return _ok(ctx)


@endpoint(MODIFY)
async def shuffle(ctx: Ctx) -> Response:
    _device(ctx)
    state = ctx.query("state")
    if state not in ("true", "false"):
        raise ApiError(400, "Invalid state")
    ctx.user.player.set_shuffle(ctx.now_ms, state == "true")
    return _ok(ctx)


@endpoint(MODIFY)
async def repeat(ctx: Ctx) -> Response:
    _device(ctx)
    state = ctx.query("state")
    if state not in ("track", "context", "off"):
        raise ApiError(400, "Invalid state")
    ctx.user.player.set_repeat(ctx.now_ms, state)
    return _ok(ctx)


@endpoint(MODIFY)
async def add_to_queue(ctx: Ctx) -> Response:
    _device(ctx)
    uri = ctx.query("uri")
    if uri is None:
        raise ApiError(400, "Missing required parameter: uri")
    ctx.user.player.add_to_queue(ctx.now_ms, _track_id(ctx, uri))
    return _ok(ctx)


@endpoint(MODIFY)
async def transfer(ctx: Ctx) -> Response:
    player = _premium(ctx)
    body = await ctx.json_body()
    ids = body.get("device_ids")
    if not isinstance(ids, list) or not ids:
        raise ApiError(400, "Missing required field: device_ids")
    if len(ids) > 1:
        raise ApiError(400, "Can't have more than one device_id")
    device = player.device(str(ids[0]))
    if device is None:
        raise ApiError(404, "Device not found")
    if device.is_restricted:
        raise ApiError(403, RESTRICTED, "DEVICE_NOT_CONTROLLABLE")
    want_play = body.get("play")
    player.transfer(ctx.now_ms, device.id, play=want_play if isinstance(want_play, bool) else None)
    return _ok(ctx)


ROUTES = [
    Route("/v1/me/player/currently-playing", currently_playing, methods=["GET"]),
    Route("/v1/me/player", playback_state, methods=["GET"]),
    Route("/v1/me/player", transfer, methods=["PUT"]),
    Route("/v1/me/player/devices", devices, methods=["GET"]),
    Route("/v1/me/player/queue", queue, methods=["GET"]),
    Route("/v1/me/player/queue", add_to_queue, methods=["POST"]),
    Route("/v1/me/player/play", play, methods=["PUT"]),
    Route("/v1/me/player/pause", pause, methods=["PUT"]),
    Route("/v1/me/player/next", skip_next, methods=["POST"]),
    Route("/v1/me/player/previous", skip_previous, methods=["POST"]),
    Route("/v1/me/player/seek", seek, methods=["PUT"]),
    Route("/v1/me/player/volume", volume, methods=["PUT"]),
    Route("/v1/me/player/shuffle", shuffle, methods=["PUT"]),
    Route("/v1/me/player/repeat", repeat, methods=["PUT"]),
]
