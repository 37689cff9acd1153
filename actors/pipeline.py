"""Wiring of the actors: which streams exist, how big they are, and who runs on them.

The app's lifespan calls ``api_call_sink`` (the Spotify client needs it before anything else)
and then ``start_pipeline``; everything else about the actors stays in this package.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx

from actors import aggregator, importer, job_keeper, ledger_build, logger, relay, scrobbled_now
from actors.facade import Pipeline
from actors.hub import Fresh, Hub
from actors.job_keeper import JobKeeper
from actors.jobs import JobControl
from actors.ledger_build import BuildLedger, LedgerBuilder
from actors.messages import AggregatorMessage
from actors.metering import ImportRowMeter, MeteredAggregator
from echostats.domain.counting import DEFAULT_RULES, CountingRules
from echostats.metrics import Metrics
from echostats.security.crypto import TokenCipher
from echostats.spotify import ApiCallRecord
from echostats.store import Store
from echostats.store.api_logs import ApiLogs
from echostats.store.leases import Leases
from echostats.store.ledger_cache import Ledger
from echostats.store.plays import PlayStore
from echostats.store.relay import RelayQueue, RelayTargets
from echostats.store.sync_jobs import SyncJobs
from echostats.store.users import Users

API_CALLS = "api_calls"
AGGREGATOR = "aggregator"
# Thousands of records buffer a database hiccup; batches of plays are large, so few of them.
API_CALLS_BUFFER = 5_000
AGGREGATOR_BUFFER = 8
IMPORTS = "imports"
LEDGER_BUILDS = "ledger_builds"


def api_call_sink(hub: Hub) -> logger.RecordSink:
    send, _ = hub.stream(API_CALLS, API_CALLS_BUFFER, ApiCallRecord)
    return logger.RecordSink(send)


async def start_pipeline(
    hub: Hub,
    store: Store,
    ledger: Ledger,
    now: Callable[[], datetime],
    *,
    rules: CountingRules = DEFAULT_RULES,
    metrics: Metrics | None = None,
    owner: str = "",
    before_write: Callable[[str, Sequence[Mapping[str, Any]]], Awaitable[None]] | None = None,
) -> Pipeline:
    """The core actors. ``owner`` (the instance id) is stamped on every job this process
    creates; ``before_write`` is told each batch's new plays before they are written (the
    relay's intake, ``relay_intake``)."""
    # First: the sweep for jobs an earlier run left behind runs before any job of ours exists.
    keeper = JobKeeper(SyncJobs(store, owner), now, sole_instance=store.private)
    await hub.start_actor(job_keeper.ACTOR_NAME, job_keeper.run, keeper)
    _, api_calls = hub.stream(API_CALLS, API_CALLS_BUFFER, ApiCallRecord)
    await hub.start_actor("logger", logger.run, api_calls, ApiLogs(store))
    to_aggregator, aggregator_inbox = hub.stream(AGGREGATOR, AGGREGATOR_BUFFER, AggregatorMessage)
    writer_args = (PlayStore(store, ledger), Users(store), hub.broadcaster.publish, now, rules)

    def writer() -> aggregator.Aggregator:
        return (
            aggregator.Aggregator(*writer_args, before_write=before_write)
            if metrics is None
            else MeteredAggregator(*writer_args, metrics=metrics, before_write=before_write)
        )

    import_publish = (
        hub.broadcaster.publish
        if metrics is None
        else ImportRowMeter(hub.broadcaster.publish, metrics.import_rows)
    )
    jobs = JobControl()
    # A new Aggregator per run: batches a failed run had planned are not taken for stored.
    await hub.start_actor("aggregator", aggregator.run, aggregator_inbox, Fresh(writer))
    builder = LedgerBuilder(
        store, ledger, jobs, publish=hub.broadcaster.publish, now=now, owner=owner
    )
    build_send, build_inbox = hub.stream(LEDGER_BUILDS, ledger_build.QUEUE, BuildLedger)
    builder.attach(build_send)
    await hub.start_actor("ledger builder", ledger_build.run, build_inbox, builder)
    import_send, import_queue = hub.stream(IMPORTS, importer.QUEUE, importer.ImportRequest)
    history_importer = importer.Importer(
        SyncJobs(store, owner),
        import_publish,
        now,
        to_aggregator=to_aggregator,
        control=jobs,
        queue=import_send,
        rules=rules,
    )
    await hub.start_actor("importer", importer.run, import_queue, history_importer)
    _, expiries = hub.stream(scrobbled_now.INBOX, scrobbled_now.INBOX_SIZE, scrobbled_now.Expiry)
    await hub.start_actor("scrobbled_now", scrobbled_now.run, expiries, hub.broadcaster, now)
    return Pipeline(
        hub,
        to_aggregator=to_aggregator,
        jobs=jobs,
        ledger_builder=builder,
        importer=history_importer,
    )


def relay_intake(
    hub: Hub, store: Store, cipher: TokenCipher, now: Callable[[], datetime]
) -> relay.RelayIntake:
    """What the aggregator tells of new plays (``start_pipeline(before_write=...)``)."""
    nudges, _ = hub.stream(relay.NUDGES, relay.NUDGE_BUFFER, type(None))
    return relay.RelayIntake(RelayTargets(store, cipher), RelayQueue(store), now, nudges)


async def start_relay(
    hub: Hub,
    store: Store,
    cipher: TokenCipher,
    http: httpx.AsyncClient,
    now: Callable[[], datetime],
    *,
    owner: str,
    config: relay.RelayConfig,
) -> None:
    """The relay's sender. Started after the pipeline: the aggregator has redone what a crash
    interrupted by then, so a queued play the store lacks really is missing."""
    _, nudges = hub.stream(relay.NUDGES, relay.NUDGE_BUFFER, type(None))
    targets, queue = RelayTargets(store, cipher), RelayQueue(store)
    sender = relay.RelaySender(targets, queue, Leases(store, owner), http, now, config)
    await hub.start_actor("relay", relay.run, nudges, sender)
