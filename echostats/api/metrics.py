"""``GET /metrics`` (Prometheus text format) and the middleware that times every request.

The route is off unless ``ECHOSTATS_METRICS_TOKEN`` is set (404, as if it did not exist); a
scraper then sends ``Authorization: Bearer <token>``. It needs no session and is left out of the
OpenAPI document: it is for Prometheus, not for API clients.
"""

from __future__ import annotations

import hmac
import time

from fastapi import APIRouter, Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from echostats.errors import NotAuthenticated, NotFound
from echostats.metrics import CONTENT_TYPE, Metrics

UNMATCHED = "<unmatched>"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    settings = request.app.state.settings
    token = settings.metrics_token.get_secret_value()
    if not token:
        raise NotFound(
            f"Nothing is served at {request.url.path}: metrics are off until "
            "ECHOSTATS_METRICS_TOKEN is set."
        )
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        raise NotAuthenticated("Metrics need the header 'Authorization: Bearer <metrics token>'.")
    registry: Metrics = request.app.state.metrics
    return Response(registry.render(), media_type=CONTENT_TYPE)


def route_template(scope: Scope) -> str:
    """The matched route's path template; never the raw path (unbounded, may carry ids)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class MetricsMiddleware:
    """Times each HTTP request until its response starts, labelled by route template."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        recorded = False

        def record(status: int) -> None:
            nonlocal recorded
            if recorded:
                return
            recorded = True
            method = scope.get("method", "")
            self.metrics.observe_request(
                method if method in _METHODS else "other",
                route_template(scope),
                status,
                time.perf_counter() - started,
            )

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                record(int(message["status"]))
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            record(500)  # no response was started: the server answers 500 or drops the link
