"""Wiring of the actors: which streams exist, how big they are, and who is handed which end.

``PipelineStreams.create()`` makes every stream between the pipeline's actors once; the
composition root (the app's lifespan, ``echostats import``) passes it to the functions here and
in ``actors/ingestion.py`` and ``actors/syncing.py``, in this order::

    api_call_sink -> start_pipeline -> start_relay -> start_ingestion -> start_syncing

Each of them hands ends over: a receive end to its consumer, a send end to a producer (the
facade ``Pipeline``, the Spotify client's record sink) or a clone of it to each further
producer. Whoever is handed an end owns it and closes it (``actors/hub.py``), so a stream ends
when all its producers have.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from actors import aggregator, importer, job_keeper, ledger_build, logger, relay, scrobbled_now
from actors.facade import Pipeline
from actors.hub import ActorRun, Hub, StreamPair, bounded_stream
from actors.job_keeper import JobKeeper
from actors.jobs import JobControl
from actors.ledger_build import BuildLedger, LedgerBuilder
from actors.messages import AggregatorMessage
from actors.metering import ImportRowMeter, MeteredAggregator
from actors.poll_manager import SIGNED_IN_BUFFER
from actors.scheduler import SYNC_REQUESTS_BUFFER, SyncRequest
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

# Thousands of records buffer a database hiccup; batches of plays are large, so few of them.
API_CALLS_BUFFER = 5_000
AGGREGATOR_BUFFER = 8

BeforeWrite = Callable[[str, Sequence[Mapping[str, Any]]], Awaitable[None]]


@dataclasses.dataclass(frozen=True)
class PipelineStreams:
    """Every stream between the pipeline's actors: producers → consumer."""

    api_calls: StreamPair[ApiCallRecord]  # Spotify client's sink → logger
    aggregator: StreamPair[AggregatorMessage]  # facade, importer, poll manager → aggregator
    imports: StreamPair[importer.ImportRequest]  # facade → importer
    ledger_builds: StreamPair[BuildLedger]  # facade → ledger builder
    expiries: StreamPair[scrobbled_now.Expiry]  # facade → scrobbled_now
    relay_nudges: StreamPair[None]  # facade, aggregator (a relaying user's new plays) → relay
    signed_in: StreamPair[str]  # facade → poll manager
    sync_requests: StreamPair[SyncRequest]  # facade → scheduler

    @classmethod
    def create(cls) -> PipelineStreams:
        return cls(
            api_calls=bounded_stream(API_CALLS_BUFFER, ApiCallRecord),
            aggregator=bounded_stream(AGGREGATOR_BUFFER, AggregatorMessage),
            imports=bounded_stream(importer.QUEUE, importer.ImportRequest),
            ledger_builds=bounded_stream(ledger_build.QUEUE, BuildLedger),
            expiries=bounded_stream(scrobbled_now.INBOX_SIZE, scrobbled_now.Expiry),
            relay_nudges=bounded_stream(relay.NUDGE_BUFFER, type(None)),
            signed_in=bounded_stream(SIGNED_IN_BUFFER, str),
            sync_requests=bounded_stream(SYNC_REQUESTS_BUFFER, SyncRequest),
        )


def api_call_sink(hub: Hub, streams: PipelineStreams) -> logger.RecordSink:
    """The Spotify client's record sink; it owns the send end of the logger's stream."""
    sink = logger.RecordSink(streams.api_calls.send)
    hub.at_shutdown(sink.close)
    return sink


async def start_pipeline(
    hub: Hub,
    streams: PipelineStreams,
    store: Store,
    ledger: Ledger,
    now: Callable[[], datetime],
    *,
    rules: CountingRules = DEFAULT_RULES,
    metrics: Metrics | None = None,
    owner: str = "",
    relay_intake: Callable[[MemoryObjectSendStream[None]], BeforeWrite] | None = None,
) -> Pipeline:
    """The core actors and the facade. ``owner`` (the instance id) is stamped on every job this
    process creates; ``relay_intake(nudges)`` is what the aggregator tells of each batch's new
    plays before they are written (``relay_intake`` below)."""
    publish = hub.broadcaster.publish
    # First: the sweep for jobs an earlier run left behind runs before any job of ours exists.
    # One keeper for all runs: a restarted keeper must not sweep this process's own jobs.
    keeper = JobKeeper(SyncJobs(store, owner), now, sole_instance=store.private)
    await hub.start_actor(job_keeper.ACTOR_NAME, lambda: functools.partial(job_keeper.run, keeper))
    await hub.start_actor(
        "logger",
        lambda calls: functools.partial(logger.run, calls, ApiLogs(store)),
        streams.api_calls.receive,
    )
    writer_args = (PlayStore(store, ledger), Users(store), publish, now, rules)

    def run_aggregator(
        inbox: MemoryObjectReceiveStream[AggregatorMessage], *nudges: MemoryObjectSendStream[None]
    ) -> ActorRun:
        # A new Aggregator per run: batches a failed run had planned are not taken for stored.
        before_write = relay_intake(*nudges) if relay_intake is not None else None
        writer = (
            aggregator.Aggregator(*writer_args, before_write=before_write)
            if metrics is None
            else MeteredAggregator(*writer_args, metrics=metrics, before_write=before_write)
        )
        return functools.partial(aggregator.run, inbox, writer)

    nudges = (streams.relay_nudges.send.clone(),) if relay_intake is not None else ()
    await hub.start_actor("aggregator", run_aggregator, streams.aggregator.receive, *nudges)
    jobs = JobControl()  # shared with the facade: it cancels the jobs the actors run
    # Shared with the facade (it starts builds and asks which are under way), so it outlives a
    # run; a crashed run's build leaves it in its ``finally``.
    builder = LedgerBuilder(
        store, ledger, jobs, publish=publish, now=now, queue=streams.ledger_builds.send, owner=owner
    )
    await hub.start_actor(
        "ledger builder",
        lambda inbox: functools.partial(ledger_build.run, inbox, builder),
        streams.ledger_builds.receive,
    )
    import_publish = publish if metrics is None else ImportRowMeter(publish, metrics.import_rows)

    def run_importer(
        queue: MemoryObjectReceiveStream[importer.ImportRequest],
        to_aggregator: MemoryObjectSendStream[AggregatorMessage],
    ) -> ActorRun:
        history_importer = importer.Importer(
            SyncJobs(store, owner),
            import_publish,
            now,
            to_aggregator=to_aggregator,
            control=jobs,
            rules=rules,
        )
        return functools.partial(importer.run, queue, history_importer)

    await hub.start_actor(
        "importer", run_importer, streams.imports.receive, streams.aggregator.send.clone()
    )
    await hub.start_actor(
        "scrobbled_now",
        lambda inbox: functools.partial(scrobbled_now.run, inbox, hub.broadcaster, now),
        streams.expiries.receive,
    )
    pipeline = Pipeline(
        hub,
        to_aggregator=streams.aggregator.send,
        jobs=jobs,
        ledger_builder=builder,
        imports=importer.ImportQueue(
            SyncJobs(store, owner), import_publish, now, streams.imports.send
        ),
        expiries=streams.expiries.send,
        relay_nudges=streams.relay_nudges.send,
        signed_in=streams.signed_in.send,
        sync_requests=streams.sync_requests.send,
    )
    # After the actors: a sync still running must not lose its way to the aggregator first.
    hub.at_shutdown(pipeline.close)
    return pipeline


def relay_intake(
    store: Store, cipher: TokenCipher, now: Callable[[], datetime]
) -> Callable[[MemoryObjectSendStream[None]], relay.RelayIntake]:
    """What the aggregator tells of new plays (``start_pipeline(relay_intake=...)``), made for
    each of its runs with that run's end of the relay's nudges."""
    return functools.partial(relay.RelayIntake, RelayTargets(store, cipher), RelayQueue(store), now)


async def start_relay(  # noqa: PLR0917 - the composition root's collaborators
    hub: Hub,
    streams: PipelineStreams,
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

    def run_sender(nudges: MemoryObjectReceiveStream[None]) -> ActorRun:
        sender = relay.RelaySender(
            RelayTargets(store, cipher), RelayQueue(store), Leases(store, owner), http, now, config
        )
        return functools.partial(relay.run, nudges, sender)

    await hub.start_actor("relay", run_sender, streams.relay_nudges.receive)
