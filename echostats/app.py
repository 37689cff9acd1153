"""Composition root: ``create_app(settings, ...)`` builds everything and its lifespan owns it.

Collaborators are arguments, so tests pass a store on the session's database server or an HTTP
client pointed at a local release feed; production passes nothing and the lifespan builds the
real ones. Nothing here runs at import time.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import anyio
import httpx
from anyio.abc import TaskGroup
from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from actors.facade import Pipeline
from actors.hub import Hub
from actors.ingestion import instance_id, open_hub, poller_config, start_ingestion
from actors.logger import RecordSink
from actors.metering import pipeline_families
from actors.pipeline import (
    PipelineStreams,
    api_call_sink,
    relay_intake,
    start_pipeline,
    start_relay,
)
from actors.relay import RelayConfig
from actors.syncing import SyncConfig, start_syncing
from actors.timing import REAL_TIME, Timing
from echostats import __version__
from echostats.api.auth import AuthContext, renew_demo_sign_in
from echostats.api.demo_history import DemoHistory
from echostats.api.errors import UnhandledErrorMiddleware, install_error_handlers
from echostats.api.health import CheckResult, ReadinessCheck
from echostats.api.history_import import STALE_UPLOAD_SECONDS, sweep_stale_uploads, uploads_root
from echostats.api.listenbrainz import ListenBrainzLimits
from echostats.api.metrics import MetricsMiddleware
from echostats.api.metrics import router as metrics_router
from echostats.api.middleware import RequestIdMiddleware
from echostats.api.protection import DOCS_ASSETS, ProtectionMiddleware, origin_of
from echostats.api.ratelimit import RateLimiter
from echostats.api.routers import include_api
from echostats.metrics import Metrics
from echostats.releases import ReleaseFeed
from echostats.security.crypto import TokenCipher
from echostats.security.setup import session_signer, token_cipher
from echostats.settings import Settings
from echostats.spotify import ApiCallRecord, SpotifyClient, SpotifyConfig
from echostats.store import Store, open_store
from echostats.store.ledger_cache import Ledger
from echostats.store.oauth_states import OAuthStates
from echostats.store.relay import RelayTargets
from echostats.store.tokens import EncryptedTokenStore
from echostats.store.users import Users
from echostats.web.routes import mount_dashboard

log = logging.getLogger(__name__)

HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _readiness_checks(
    settings: Settings, store: Store, tokens: EncryptedTokenStore, pipeline: Pipeline
) -> dict[str, ReadinessCheck]:
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

    async def spotify_connections() -> CheckResult:
        # Informational: one person's expired Spotify sign-in must not take the service down.
        if not await store.ping(within=1.0):
            return CheckResult(ok=True, detail="unknown while the database is unavailable")
        waiting = await tokens.count_reauth_required()
        if waiting:
            return CheckResult(ok=True, detail=f"{waiting} user(s) must sign in to Spotify again")
        return CheckResult(ok=True, detail="every connected user's Spotify sign-in is valid")

    async def actors() -> CheckResult:
        statuses = pipeline.liveness()
        down = sorted(name for name, status in statuses.items() if not status.alive)
        if down:
            return CheckResult(ok=False, detail="not running: " + ", ".join(down))
        restarts = sum(status.restarts for status in statuses.values())
        return CheckResult(ok=True, detail=f"{len(statuses)} running, {restarts} restart(s)")

    return {
        "database": database,
        "actors": actors,
        "spotify_credentials": spotify_credentials,
        "spotify_connections": spotify_connections,
    }


def _metered(sink: RecordSink, metrics: Metrics) -> Callable[[ApiCallRecord], None]:
    """The Spotify client's record sink: counts each call, then hands it to the logger."""

    def record_call(record: ApiCallRecord) -> None:
        metrics.observe_spotify_call(
            record.method, record.endpoint, record.status_code, record.latency_ms
        )
        sink(record)

    return record_call


def _first_sign_in(
    pipeline: Pipeline, demo_history: DemoHistory | None, background: TaskGroup
) -> Callable[[str], Awaitable[None]]:
    """What a user's very first sign-in starts: the initial sync, polling and, in demo mode,
    the import of the demo listener's past (in the background: the dashboard opens at once and
    shows the import's progress)."""

    async def on_first_sign_in(user_id: str) -> None:
        await pipeline.request_sync(user_id, "initial")
        pipeline.user_signed_in(user_id)
        if demo_history is not None:
            background.start_soon(demo_history.import_for, user_id)

    return on_first_sign_in


async def _pipeline_and_relay(  # noqa: PLR0917 - the composition root's collaborators
    app: FastAPI,
    hub: Hub,
    streams: PipelineStreams,
    store: Store,
    cipher: TokenCipher,
    http: httpx.AsyncClient,
    metrics: Metrics,
    replica: str,
) -> Pipeline:
    """The core pipeline (writing through the process's one ledger cache), its aggregator
    queueing new plays for the relay before writing them."""
    settings: Settings = app.state.settings
    app.state.relay_targets = RelayTargets(store, cipher)
    app.state.ledger = ledger = Ledger(store, max_bytes=settings.ledger_cache_mb << 20)
    pipeline = await start_pipeline(
        hub,
        streams,
        store,
        ledger,
        _utc_now,
        metrics=metrics,
        owner=replica,
        relay_intake=relay_intake(store, cipher, _utc_now),
    )
    await start_relay(
        hub,
        streams,
        store,
        cipher,
        http,
        _utc_now,
        owner=replica,
        config=RelayConfig(max_wait=settings.relay_max_retry_wait),
    )
    return pipeline


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    http: httpx.AsyncClient | None = None,
    spotify_http: httpx.AsyncClient | None = None,
    timing: Timing | None = None,
) -> FastAPI:
    """The whole service as an ASGI app. Collaborators given here are used, not closed.

    ``spotify_http`` is the HTTP client for Spotify (tests point it at the simulator in-process);
    it defaults to ``http``. ``timing`` is the clock and sleep of the poller and the Spotify
    client (tests bind it to the simulator's stepped clock). Weak or missing secrets raise
    ``ConfigError`` right here.
    """
    cipher = token_cipher(settings)
    signer = session_signer(settings)
    metrics = Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            active_store = store
            if active_store is None:
                active_store = await stack.enter_async_context(open_store(settings))
            await anyio.to_thread.run_sync(
                functools.partial(
                    sweep_stale_uploads,
                    settings,
                    older_than=None if active_store.embedded else STALE_UPLOAD_SECONDS,
                )
            )
            active_http = http
            if active_http is None:
                active_http = await stack.enter_async_context(
                    httpx.AsyncClient(timeout=HTTP_TIMEOUT, follow_redirects=True)
                )
            app.state.settings = settings
            app.state.store = active_store
            app.state.metrics = metrics
            app.state.release_feed = ReleaseFeed(
                active_http, settings.update_feed_url, settings.update_check_ttl
            )
            clock = timing or REAL_TIME
            app.state.instance_id = replica = instance_id(settings)
            hub = await open_hub(stack, active_store, replica, clock)
            # One-off work started by a request that must outlive it; cancelled at shutdown.
            background = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(background.cancel_scope.cancel)
            to_spotify = spotify_http or active_http
            token_store = EncryptedTokenStore(active_store, cipher)
            # Every stream between the actors, made here once; the wiring below hands its ends
            # to their owners (``actors/pipeline.py``).
            streams = PipelineStreams.create()
            log_sink = api_call_sink(hub, streams)
            spotify = SpotifyClient(
                SpotifyConfig.from_settings(settings),
                token_store,
                http=to_spotify,
                sink=_metered(log_sink, metrics),
                sleep=clock.sleep,
                clock=clock.monotonic,
                now=clock.now,
            )
            pipeline = await _pipeline_and_relay(
                app, hub, streams, active_store, cipher, active_http, metrics, replica
            )
            app.state.pipeline = pipeline
            metrics.set_collector("pipeline", pipeline_families(pipeline, log_sink))
            demo_history = (
                DemoHistory(
                    to_spotify,
                    spotify.tokens,
                    settings.spotify_accounts_url,
                    pipeline,
                    uploads_root(settings),
                )
                if settings.demo_mode and settings.demo_history_days
                else None
            )

            app.state.auth = AuthContext(
                settings=settings,
                users=Users(active_store),
                tokens=token_store,
                states=OAuthStates(active_store, cipher),
                signer=signer,
                spotify=spotify,
                http=to_spotify,
                limiter=RateLimiter(settings.auth_rate_limit),
                on_first_sign_in=_first_sign_in(pipeline, demo_history, background),
                on_sign_in=pipeline.user_signed_in,
                now=_utc_now,
            )
            if settings.demo_mode:  # before polling starts (echostats/api/auth.py says why)
                await renew_demo_sign_in(app.state.auth)
            await start_ingestion(
                hub,
                streams,
                active_store,
                spotify,
                token_store,
                poller_config(settings),
                clock,
                replica,
                poll_lag=metrics.poll_lag,
            )
            await start_syncing(
                hub,
                streams,
                pipeline,
                active_store,
                spotify,
                _utc_now,
                SyncConfig(
                    interval=settings.sync_interval,
                    max_rate_wait=settings.sync_max_rate_wait,
                    enrich_budget_per_hour=settings.enrich_budget_per_hour,
                    enrich_interval=settings.enrich_interval,
                    instance_id=replica,
                ),
                app.state.ledger,
            )

            app.state.readiness_checks = _readiness_checks(
                settings, active_store, token_store, pipeline
            )
            log.info("echostats started", extra={"version": __version__, "url": settings.base_url})
            yield
            log.info("echostats stopping")

    # Swagger UI and ReDoc from files shipped in the fastapi-offline package: the API docs
    # work with no internet (FastAPI's own pages load them from a CDN).
    app = FastAPIOffline(
        title="EchoStats",
        version=__version__,
        summary="Self-hosted Spotify listening statistics.",
        docs_url="/api/docs",
        redoc_url="/api/redoc",
        openapi_url="/api/openapi.json",
        static_url=DOCS_ASSETS,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    include_api(app)
    app.include_router(metrics_router)
    mount_dashboard(app)
    # Added innermost first: the request id wraps everything, so even a 500 carries one.
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(ListenBrainzLimits, settings=settings)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(
        ProtectionMiddleware,
        base_url=settings.base_url,
        https=settings.is_https,
        # The demo's simulator serves its own cover art (on loopback, plain http).
        image_origins=(origin_of(settings.spotify_api_url),) if settings.demo_mode else (),
    )
    app.add_middleware(RequestIdMiddleware)
    return app
