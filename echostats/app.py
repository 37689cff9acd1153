"""Composition root: ``create_app(settings, ...)`` builds everything and its lifespan owns it.

Collaborators are arguments, so tests pass a store on the session's database server or an HTTP
client pointed at a local release feed; production passes nothing and the lifespan builds the
real ones. Nothing here runs at import time.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI

from echostats import __version__
from echostats.api.errors import UnhandledErrorMiddleware, install_error_handlers
from echostats.api.health import CheckResult, ReadinessCheck
from echostats.api.health import router as health_router
from echostats.api.middleware import RequestIdMiddleware
from echostats.releases import ReleaseFeed
from echostats.settings import Settings
from echostats.store import Store, open_store
from echostats.web.routes import router as web_router

log = logging.getLogger(__name__)

HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def _readiness_checks(settings: Settings, store: Store) -> dict[str, ReadinessCheck]:
    async def database() -> CheckResult:
        if await store.ping():
            return CheckResult(ok=True, detail="answering")
        return CheckResult(ok=False, detail="the database is not answering")

    async def spotify_credentials() -> CheckResult:
        if settings.demo_mode:
            return CheckResult(ok=True, detail="demo mode (Spotify simulator)")
        if settings.spotify_client_id and settings.spotify_client_secret.get_secret_value():
            return CheckResult(ok=True, detail="configured")
        return CheckResult(
            ok=False,
            detail="set ECHOSTATS_SPOTIFY_CLIENT_ID and ECHOSTATS_SPOTIFY_CLIENT_SECRET",
        )

    return {"database": database, "spotify_credentials": spotify_credentials}


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    http: httpx.AsyncClient | None = None,
) -> FastAPI:
    """The whole service as an ASGI app. ``store``/``http`` given here are used, not closed."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            active_store = store
            if active_store is None:
                active_store = await stack.enter_async_context(open_store(settings))
            active_http = http
            if active_http is None:
                active_http = await stack.enter_async_context(
                    httpx.AsyncClient(timeout=HTTP_TIMEOUT, follow_redirects=True)
                )
            app.state.settings = settings
            app.state.store = active_store
            app.state.release_feed = ReleaseFeed(
                active_http, settings.update_feed_url, settings.update_check_ttl
            )
            app.state.readiness_checks = _readiness_checks(settings, active_store)
            log.info("echostats started", extra={"version": __version__, "url": settings.base_url})
            yield
            log.info("echostats stopping")

    app = FastAPI(
        title="EchoStats",
        version=__version__,
        summary="Self-hosted Spotify listening statistics.",
        docs_url="/api/docs",
        redoc_url="/api/redoc",
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(web_router)
    # Added innermost first: the request id wraps everything, so even a 500 carries one.
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(RequestIdMiddleware)
    return app
