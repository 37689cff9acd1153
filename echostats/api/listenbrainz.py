"""The ListenBrainz API, the part scrobblers use, served at ``/apis/listenbrainz/1/…`` and ``/1/…``.

Players and scrobblers (multi-scrobbler, Navidrome, Pano Scrobbler, ListenBrainz's own
libraries) talk to it unchanged: ``POST /1/submit-listens``, ``GET /1/validate-token``,
``GET /1/user/{user_name}/listens`` and ``…/playing-now``, with ``Authorization: Token <token>``
(a scrobble token, ``api/scrobble_tokens.py``). A user's ListenBrainz user name is their
EchoStats user id. Errors come in ListenBrainz's shape (``api/errors.py``), every answer carries
ListenBrainz's ``X-RateLimit-*`` headers (``ListenBrainzLimits``), and the routes stay out of
the OpenAPI document: their contract is ListenBrainz's (README, "Scrobbling").

Listens go through the one pipeline: a ``single`` or ``import`` submission becomes plays for the
aggregator (dedup, counting, the ledger) and is answered once they are stored; ``playing_now``
becomes the user's now-playing state on the live stream at once.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.datastructures import Headers
from starlette.requests import Request as StarletteRequest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from actors import topics
from actors.events import NowPlayingChanged, read_now_playing
from actors.facade import Pipeline
from echostats.api.errors import LISTENBRAINZ_ROOTS, error_response, is_listenbrainz
from echostats.api.ratelimit import WindowLimiter, client_address
from echostats.domain.listen_pages import listen_page
from echostats.domain.listens import (
    MAX_ITEMS_PER_GET,
    MAX_LISTEN_PAYLOAD_SIZE,
    ListenError,
    Submission,
    listen_to_play,
    parse_submission,
    play_to_listen,
    playing_now,
)
from echostats.domain.plays import Play
from echostats.errors import BadRequest, NotAuthenticated, NotFound
from echostats.security.api_tokens import digest
from echostats.settings import Settings
from echostats.store.scrobble_tokens import ScrobbleTokens

router = APIRouter(include_in_schema=False)

DEFAULT_ITEMS_PER_GET = 25
TOO_LARGE = f"Payload too large. Payload cannot exceed {MAX_LISTEN_PAYLOAD_SIZE} bytes"


def include_listenbrainz(app: FastAPI) -> None:
    for root in LISTENBRAINZ_ROOTS:
        app.include_router(router, prefix=root)


def _presented_token(headers: Headers) -> str | None:
    """The token of ``Authorization: Token <token>`` (ListenBrainz reads the second word,
    whatever the first); "" for a header without one, None for no header."""
    header = headers.get("authorization")
    if header is None:
        return None
    words = header.split()
    return words[1] if len(words) >= 2 else ""


async def token_user(request: Request) -> str:
    """The user whose scrobble token the request carries (401 in ListenBrainz's words)."""
    token = _presented_token(request.headers)
    if token is None:
        raise NotAuthenticated("You need to provide an Authorization header.")
    if not token:
        raise NotAuthenticated("Provided Authorization header is invalid.")
    user_id = await ScrobbleTokens(request.app.state.store).owner(token)
    if user_id is None:
        raise NotAuthenticated("Invalid authorization token.")
    return user_id


TokenUser = Annotated[str, Depends(token_user)]


async def _body(request: Request) -> bytes:
    """The request body, refused past ListenBrainz's payload limit without reading it all."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_LISTEN_PAYLOAD_SIZE:
        raise BadRequest(TOO_LARGE)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_LISTEN_PAYLOAD_SIZE:
            raise BadRequest(TOO_LARGE)
    return bytes(body)


def _checked(raw: bytes, now: datetime, user_id: str) -> tuple[Submission, list[Play]]:
    """The submission, checked, and its listens as plays (checked listens always make plays)."""
    try:
        submission = parse_submission(raw, now)
    except ListenError as exc:
        raise BadRequest(str(exc)) from None
    if submission.listen_type == "playing_now":
        return submission, []
    plays = [listen_to_play(listen, user_id, "scrobble") for listen in submission.listens]
    return submission, [play for play in plays if isinstance(play, Play)]


@router.post("/submit-listens")
async def submit_listens(request: Request, user_id: TokenUser) -> dict[str, str]:
    # Read as bytes whatever the Content-Type: Navidrome and liblistenbrainz send none.
    raw = await _body(request)
    now: datetime = request.app.state.auth.now()
    # A thousand listens take tens of milliseconds to check: not on the event loop.
    submission, plays = await anyio.to_thread.run_sync(_checked, raw, now, user_id)
    pipeline: Pipeline = request.app.state.pipeline
    if submission.listen_type == "playing_now":
        pipeline.playing_now(user_id, playing_now(submission.listens[0], now))
    else:  # answered once they are stored
        await pipeline.submit_plays(user_id, plays)
    return {"status": "ok"}


@router.get("/validate-token")
async def validate_token(request: Request) -> dict[str, Any]:
    token = _presented_token(request.headers)
    if not token:  # ListenBrainz still reads ?token= for older clients
        token = request.query_params.get("token", "")
    if not token:
        raise BadRequest("You need to provide an Authorization token.")
    user_id = await ScrobbleTokens(request.app.state.store).owner(token)
    if user_id is None:
        return {"code": 200, "message": "Token invalid.", "valid": False}
    return {"code": 200, "message": "Token valid.", "valid": True, "user_name": user_id}


def _own(user_name: str, user_id: str) -> None:
    # Listens are private here: only the owner's own token reads them.
    if user_name != user_id:
        raise NotFound(f"Cannot find user: {user_name}")


def _int_arg(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise BadRequest(f"Invalid {name} argument: {value[:50]}") from None


def _moment(seconds: int | None) -> datetime | None:
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise BadRequest(f"Incorrect timestamp argument: {seconds}") from None


def _epoch(moment: datetime | None) -> int:
    return int(moment.timestamp()) if moment else 0


@router.get("/user/{user_name}/listens")
async def user_listens(request: Request, user_name: str, user_id: TokenUser) -> dict[str, Any]:
    _own(user_name, user_id)
    max_ts, min_ts = _int_arg(request, "max_ts"), _int_arg(request, "min_ts")
    if max_ts and min_ts and max_ts <= min_ts:
        raise BadRequest("max_ts should be greater than min_ts")
    count = _int_arg(request, "count")
    count = min(DEFAULT_ITEMS_PER_GET if count is None else count, MAX_ITEMS_PER_GET)
    if count < 0:
        raise BadRequest("Number of items requested should be positive")
    view = await request.app.state.ledger.view(user_id)
    page = listen_page(view, user_id, before=_moment(max_ts), after=_moment(min_ts), count=count)
    items = [{**play_to_listen(play), "user_name": user_name} for play in page.plays]
    return {
        "payload": {
            "count": len(items),
            "listens": items,
            "user_id": user_name,
            "latest_listen_ts": _epoch(page.newest_start),
            "oldest_listen_ts": _epoch(page.oldest_start),
        }
    }


def _playing_listen(state: NowPlayingChanged, user_name: str) -> dict[str, Any]:
    """The now-playing state (from a scrobbler or the Spotify poller) as a listen."""
    track = state.track
    info: dict[str, Any] = {}
    if state.duration_ms:
        info["duration_ms"] = state.duration_ms
    if track.spotify_id:
        info["spotify_id"] = f"https://open.spotify.com/track/{track.spotify_id}"
    if state.device:
        info["media_player"] = state.device
    metadata: dict[str, Any] = {
        "artist_name": ", ".join(track.artists),
        "track_name": track.name or "",
        "additional_info": info,
    }
    if track.album:
        metadata["release_name"] = track.album
    return {"track_metadata": metadata, "user_name": user_name, "playing_now": True}


@router.get("/user/{user_name}/playing-now")
async def user_playing_now(request: Request, user_name: str, user_id: TokenUser) -> dict[str, Any]:
    _own(user_name, user_id)
    pipeline: Pipeline = request.app.state.pipeline
    event = pipeline.current_state(topics.now_playing(user_id))
    state = read_now_playing(event) if event is not None else None
    items = [_playing_listen(state, user_name)] if state is not None and state.is_playing else []
    return {
        "payload": {
            "count": len(items),
            "user_id": user_name,
            "playing_now": True,
            "listens": items,
        }
    }


class ListenBrainzLimits:
    """ListenBrainz's rate limiting on its routes: a fixed window per token (per address for a
    request without one), told in ``X-RateLimit-*`` headers on every answer; over the limit,
    429 with ``Retry-After``."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self._limiter = WindowLimiter(settings.scrobble_rate_limit)
        self._trusted = settings.trusted_proxy_networks

    def _key(self, scope: Scope) -> str:
        request = StarletteRequest(scope)
        token = _presented_token(request.headers) or request.query_params.get("token")
        if token:
            return "token:" + digest(token)
        return "address:" + client_address(request, self._trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_listenbrainz(scope["path"]):
            await self.app(scope, receive, send)
            return
        allowance = self._limiter.take(self._key(scope))
        headers = allowance.headers(time.time())
        if not allowance.allowed:
            headers["Retry-After"] = str(max(1, math.ceil(allowance.reset_in)))
            response = error_response(
                scope,
                429,
                f"Too many requests: at most {allowance.limit} in "
                f"{self._limiter.window:.0f} seconds; try again in {headers['Retry-After']} s.",
                headers,
            )
            await response(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    *((k.lower().encode(), v.encode()) for k, v in headers.items()),
                ]
            await send(message)

        await self.app(scope, receive, with_headers)
