"""The ASGI app: routes of both Spotify hosts plus the request pipeline around them, and
``Simulator``, the simulated Spotify (``core.SimulatorCore``) with its app.

The pipeline is where the simulator behaves like Spotify's edge rather than its services: it
logs every call, applies injected faults (latency, hangs, 5xx, 429, broken JSON) and the rolling
rate window / quota, and turns unknown routes into Spotify-style JSON errors.
"""

from __future__ import annotations

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from echostats.simulator import accounts, images, privacy
from echostats.simulator.calls import Call
from echostats.simulator.core import SimulatorConfig, SimulatorCore
from echostats.simulator.faults import API_PREFIX, Verdict
from echostats.simulator.webapi import (
    catalog,
    extended,
    library,
    me,
    player,
    playlists,
    spoken,
)
from echostats.simulator.webapi.common import error_response

SERVER_ERROR_MESSAGES = {
    500: "Server error.",
    502: "Bad gateway.",
    503: "Service unavailable",
    504: "Gateway timeout",
}


class Simulator(SimulatorCore):
    """One simulated Spotify and the ASGI app that serves it (``sim.app``)."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        super().__init__(config)
        self.app: Starlette = build_app(self)


def build_app(sim: SimulatorCore) -> Starlette:
    # Order matters where templates overlap: library before the catch-all ``/me/{kind}/contains``.
    routes: list[BaseRoute] = [
        *accounts.ROUTES,
        *images.ROUTES,
        *privacy.ROUTES,
        *me.ROUTES,
        *player.ROUTES,
        *library.ROUTES,
        *playlists.ROUTES,
        *catalog.ROUTES,
        *spoken.ROUTES,
        *extended.ROUTES,
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_error},  # type: ignore[dict-item]
    )
    app.state.sim = sim
    app.add_middleware(Pipeline, sim=sim)
    return app


async def _http_error(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 405:
        return error_response(405, "Method not allowed")
    return error_response(
        exc.status_code, "Service not found" if exc.status_code == 404 else str(exc.detail)
    )


# Spotify's front end refuses a PUT or POST that declares no body length (spotify/web-api#1594).
LENGTH_REQUIRED = HTMLResponse(
    "<!DOCTYPE html><title>Error 411 (Length Required)!!1</title><p><b>411.</b> That's an "
    "error.<p>POST requests require a <code>Content-length</code> header.",
    status_code=411,
)


def _length_required(scope: Scope, path: str) -> bool:
    if scope["method"] not in ("PUT", "POST") or not path.startswith(API_PREFIX):
        return False
    names = {name for name, _ in scope.get("headers", [])}
    return b"content-length" not in names and b"transfer-encoding" not in names


def _user_of(sim: SimulatorCore, scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            _, _, token = value.decode("latin-1").partition(" ")
            access = sim.tokens.access.get(token.strip())
            return access.user_id if access is not None else None
    return None


class Pipeline:
    """Pure ASGI middleware (no buffering of bodies, so it also works for a real server)."""

    def __init__(self, app: ASGIApp, sim: SimulatorCore) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sim = self.sim
        path: str = scope["path"]
        if path.startswith(API_PREFIX) and path.endswith("/") and path != "/":
            # Spotify serves ``/v1/me/`` as ``/v1/me`` (no redirect, no second request).
            path = path.rstrip("/")
            scope = {**scope, "path": path, "raw_path": path.encode()}
        user_id = _user_of(sim, scope)
        status = 0

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            if _length_required(scope, path):
                await LENGTH_REQUIRED(scope, receive, tracking_send)
                return
            verdict = sim.faults.evaluate(user_id, path)
            if verdict.delay_s:
                await anyio.sleep(verdict.delay_s)
            response = self._fault_response(verdict, path)
            if verdict.hang:
                # Longer than any sane client timeout; the client gives up first.
                await anyio.sleep(sim.config.hang_seconds)
                response = error_response(504, SERVER_ERROR_MESSAGES[504])
            if response is not None:
                await response(scope, receive, tracking_send)
            else:
                await self.app(scope, receive, tracking_send)
        finally:
            route = scope.get("route")
            sim.calls.append(
                Call(
                    method=scope["method"],
                    path=path,
                    route=getattr(route, "path", path),
                    user_id=user_id,
                    status=status,
                    at=sim.clock.now(),
                    query=scope.get("query_string", b"").decode("latin-1"),
                )
            )

    def _fault_response(self, verdict: Verdict, path: str) -> Response | None:
        if verdict.garbage:
            return Response(
                b'{"items":[{"track":{"album":{"album_type":"alb',
                media_type="application/json; charset=utf-8",
            )
        if verdict.status == 429:
            return _too_many(verdict.retry_after or 1, quota=verdict.quota)
        if verdict.status is not None:
            message = SERVER_ERROR_MESSAGES.get(verdict.status, "Server error.")
            return error_response(verdict.status, message)
        if verdict.hang or not path.startswith(API_PREFIX):
            return None
        return self._throttled()

    def _throttled(self) -> Response | None:
        """The natural limits: the rolling window first, then the long quota."""
        now_ms = self.sim.clock.now_ms()
        wait = self.sim.limits.window.check(now_ms)
        if wait is not None:
            return _too_many(wait, quota=False)
        wait = self.sim.limits.quota.check(now_ms)
        if wait is not None:
            return _too_many(wait, quota=True)
        return None


def _too_many(retry_after: int, *, quota: bool) -> Response:
    headers = {"Retry-After": str(retry_after)}
    if quota:
        return error_response(429, "Too many requests", "QUOTA_EXCEEDED", headers)
    return error_response(429, "API rate limit exceeded", headers=headers)
