"""Wiring of the sync side: scheduler (with the syncer) and enricher, started by the lifespan.

Kept apart from ``actors/pipeline.py`` because these actors need the Spotify client, which the
core pipeline (logger, aggregator) does not. Called once per process, after ``start_pipeline``,
with the same ``PipelineStreams``: the scheduler is handed the receive end of the sync requests
whose send end the facade holds.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from anyio.streams.memory import MemoryObjectReceiveStream

from actors import enricher, scheduler
from actors.facade import Pipeline
from actors.hub import ActorRun, Hub
from actors.pipeline import PipelineStreams
from actors.syncer import SyncDeps
from echostats.domain.library import RequestBudget
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
    streams: PipelineStreams,
    pipeline: Pipeline,
    store: Store,
    spotify: SpotifyClient,
    now: Callable[[], datetime],
    config: SyncConfig,
    ledger: Ledger,
) -> None:
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

    def run_scheduler(inbox: MemoryObjectReceiveStream[scheduler.SyncRequest]) -> ActorRun:
        # A new Scheduler per run: the syncs a crashed run started were cancelled with it.
        planner = scheduler.Scheduler(
            deps,
            SyncJobs(store, config.instance_id),
            users,
            pipeline.jobs,
            pipeline.publish,
            interval=config.interval,
            now=now,
        )
        return functools.partial(scheduler.run, inbox, planner)

    await hub.start_actor(scheduler.ACTOR_NAME, run_scheduler, streams.sync_requests.receive)
    # One budget for every run of the enricher: a crash must not reset its hourly allowance.
    budget = RequestBudget(config.enrich_budget_per_hour)

    def run_enricher() -> ActorRun:
        looker = enricher.Enricher(
            spotify,
            Catalog(store),
            RecentPlays(ledger),
            users,
            learn=ledger.learn,
            budget=budget,
            now=now,
        )
        return functools.partial(enricher.run, looker, config.enrich_interval)

    await hub.start_actor("enricher", run_enricher)
