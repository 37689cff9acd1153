"""Wiring of the sync side: scheduler (with the syncer) and enricher, started by the lifespan.

Kept apart from ``actors/pipeline.py`` because these actors need the Spotify client, which the
core pipeline (logger, aggregator) does not. Called once per process, after ``start_pipeline``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from actors import enricher, scheduler
from actors.facade import Pipeline
from actors.hub import Hub
from actors.syncer import SyncDeps
from echostats.spotify import SpotifyClient
from echostats.store import Store
from echostats.store.catalog import Catalog, RecentPlays
from echostats.store.ledger_cache import Ledger
from echostats.store.library import Playlists, SavedAlbums, TopItems
from echostats.store.sync_jobs import SyncJobs
from echostats.store.users import Users


@dataclass(frozen=True)
class SyncConfig:
    interval: float = 3600.0  # seconds between a user's periodic syncs
    max_rate_wait: float = 60.0  # longest Retry-After a sync step sits out
    enrich_budget_per_hour: int = 300
    enrich_interval: float = 300.0
    instance_id: str = ""  # the owner stamped on sync jobs (``store/sync_jobs.py``)


async def start_syncing(  # noqa: PLR0917 - the composition root's collaborators
    hub: Hub,
    pipeline: Pipeline,
    store: Store,
    spotify: SpotifyClient,
    now: Callable[[], datetime],
    config: SyncConfig,
    ledger: Ledger,
) -> None:
    jobs = SyncJobs(store, config.instance_id)
    users = Users(store)
    deps = SyncDeps(
        spotify=spotify,
        users=users,
        playlists=Playlists(store),
        top_items=TopItems(store),
        saved_albums=SavedAlbums(store),
        submit_plays=pipeline.submit_plays,
        learn=ledger.learn,
        now=now,
        max_rate_wait=config.max_rate_wait,
    )
    planner = scheduler.Scheduler(
        deps, jobs, users, pipeline.jobs, pipeline.publish, interval=config.interval, now=now
    )
    _, inbox = hub.stream(
        scheduler.SYNC_REQUESTS, scheduler.SYNC_REQUESTS_BUFFER, scheduler.SyncRequest
    )
    await hub.start_actor(scheduler.ACTOR_NAME, scheduler.run, inbox, planner)
    looker = enricher.Enricher(
        spotify,
        Catalog(store),
        RecentPlays(ledger),
        users,
        learn=ledger.learn,
        budget_per_hour=config.enrich_budget_per_hour,
        now=now,
    )
    await hub.start_actor("enricher", enricher.run, looker, config.enrich_interval)
