"""Every failure class mapped to the spec's error shape, in one place.

``{"detail": "<sentence>", "request_id": "<id>"}`` always; 422 adds ``errors``; 429 and 503 add
``Retry-After``. Unhandled exceptions are caught by a middleware *inside* the request-id
middleware, so even a 500 carries its ``X-Request-ID`` and never a stack trace.

The ListenBrainz-compatible routes (``LISTENBRAINZ_ROOTS``) answer in ListenBrainz's shape
instead, ``{"code": <status>, "error": "<sentence>"}``: scrobblers read ``error``.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from echostats.errors import EchoStatsError, RateLimited, SpotifyRateLimited, StoreUnavailable
from echostats.store import is_unavailable

log = logging.getLogger(__name__)

STORE_RETRY_AFTER_SECONDS = 5
# Where the ListenBrainz API is served (echostats/api/listenbrainz.py): under the path
# ListenBrainz-compatible servers use, and at the root, where ListenBrainz's own libraries join
# their paths.
LISTENBRAINZ_ROOTS = ("/apis/listenbrainz/1", "/1")


def is_listenbrainz(path: str) -> bool:
    return any(path.startswith(root + "/") for root in LISTENBRAINZ_ROOTS)


def _request_id(scope: Scope) -> str | None:
    state = scope.get("state") or {}
    value = state.get("request_id")
    return str(value) if value else None


def error_response(
    scope: Scope,
    status: int,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    if is_listenbrainz(scope.get("path", "")):
        return JSONResponse({"code": status, "error": detail}, status_code=status, headers=headers)
    body: dict[str, Any] = {"detail": detail, "request_id": _request_id(scope)}
    body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers)


def _retry_after(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


async def _echostats_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, EchoStatsError)
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited | SpotifyRateLimited | StoreUnavailable):
        headers = _retry_after(exc.retry_after)
    if exc.status >= 500:
        log.warning("request failed", extra={"error": type(exc).__name__, "status": exc.status})
    return error_response(request.scope, exc.status, exc.detail, headers)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    # Drop the "body"/"query" prefix people do not care about, keep the field path.
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"} and len(parts) > 1:
        parts = parts[1:]
    return ".".join(parts)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field(e.get("loc", ())), "message": str(e.get("msg", ""))} for e in exc.errors()
    ]
    first = errors[0] if errors else {"field": "request", "message": "is not valid"}
    detail = f"The request is not valid: {first['field']}: {first['message']}."
    return error_response(request.scope, 422, detail, errors=errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    method, path = request.method, request.url.path
    if exc.status_code == 404 and exc.detail == "Not Found":
        detail = f"Nothing is served at {path}."
    elif exc.status_code == 405:
        detail = f"{method} is not allowed on {path}."
    elif exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        # FastAPI's answer to a body that is not UTF-8 or not form data.
        detail = "The request body could not be read; send UTF-8 JSON as the route documents."
    else:
        detail = str(exc.detail)
    return error_response(request.scope, exc.status_code, detail, dict(exc.headers or {}))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(EchoStatsError, _echostats_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)


class UnhandledErrorMiddleware:
    """Turns an exception nobody handled into a 503 (database down) or a bare 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise  # too late to answer; the server closes the connection
            if is_unavailable(exc):
                log.warning("database unavailable during request")
                response = error_response(
                    scope,
                    503,
                    "The database is unavailable right now; try again shortly.",
                    _retry_after(STORE_RETRY_AFTER_SECONDS),
                )
            else:
                log.exception("unhandled error")
                response = error_response(
                    scope,
                    500,
                    "Something went wrong on our side; it has been logged with this request id.",
                )
            await response(scope, receive, send)
