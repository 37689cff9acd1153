"""Every API router, in the order the OpenAPI document lists them."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from echostats.api import (
    analytics,
    api_logs,
    auth,
    browse,
    catalog,
    health,
    history,
    history_import,
    library,
    me,
    player,
    playlists,
    recommendations,
    relay,
    scrobble_tokens,
    streams,
    sync_jobs,
    top_items,
    user_settings,
    year_review,
)
from echostats.api.error_docs import install_error_docs
from echostats.api.listenbrainz import include_listenbrainz

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    auth.router,
    me.router,
    user_settings.router,
    scrobble_tokens.router,
    relay.router,
    analytics.router,
    year_review.router,
    top_items.router,
    catalog.router,
    history.router,
    history_import.router,
    player.router,
    playlists.router,
    library.router,
    browse.router,
    recommendations.router,
    sync_jobs.router,
    sync_jobs.streams,
    streams.router,
    api_logs.router,
)


def include_api(app: FastAPI) -> None:
    for router in ROUTERS:
        app.include_router(router)
    install_error_docs(app, ROUTERS)
    include_listenbrainz(app)  # outside the OpenAPI document: ListenBrainz's contract
