"""Wiring of live ingestion (poll manager + pollers) and of the multi-instance event bridge.

The app's lifespan opens the hub with ``open_hub`` (bridged to other instances when the
database may be shared), starts the base pipeline, then calls ``start_ingestion`` with the same
``PipelineStreams``.
"""

from __future__ import annotations

import contextlib
import functools
import uuid

from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from actors import bridge, poll_manager
from actors.events import Event
from actors.hub import ActorRun, Hub, bounded_stream
from actors.messages import AggregatorMessage
from actors.pipeline import PipelineStreams
from actors.poller import PollerConfig, PollerDeps
from actors.timing import Timing
from echostats.metrics import PollLag
from echostats.settings import Settings
from echostats.spotify import SpotifyClient
from echostats.store import Store
from echostats.store.events import EventLog
from echostats.store.leases import Leases
from echostats.store.poll_state import PollState
from echostats.store.tokens import EncryptedTokenStore


def instance_id(settings: Settings) -> str:
    """This replica's name in leases and bridged events: configured, or random per start."""
    return settings.instance_id or f"echostats-{uuid.uuid4().hex[:12]}"


def poller_config(settings: Settings) -> PollerConfig:
    return PollerConfig(
        playing_interval=settings.poll_playing_interval,
        idle_interval=settings.poll_idle_interval,
        recent_interval=settings.poll_recent_interval,
        recent_idle_interval=settings.poll_recent_idle_interval,
        lease_ttl=settings.poll_lease_ttl,
    )


async def start_ingestion(  # noqa: PLR0917 - the composition root's collaborators
    hub: Hub,
    streams: PipelineStreams,
    store: Store,
    spotify: SpotifyClient,
    tokens: EncryptedTokenStore,
    config: PollerConfig,
    timing: Timing,
    owner: str,
    poll_lag: PollLag | None = None,
) -> None:

    def run_poll_manager(
        signed_in: MemoryObjectReceiveStream[str],
        to_aggregator: MemoryObjectSendStream[AggregatorMessage],
    ) -> ActorRun:
        # Per run, as the per-user pollers the poll manager starts.
        deps = PollerDeps(
            spotify=spotify,
            tokens=tokens,
            state=PollState(store),
            leases=Leases(store, owner),
            to_aggregator=to_aggregator,
            publish=hub.broadcaster.publish,
            timing=timing,
            config=config,
        )
        if poll_lag is not None:
            deps.on_polled, deps.on_stopped = poll_lag.polled, poll_lag.stopped
        return functools.partial(poll_manager.run, signed_in, deps)

    await hub.start_actor(
        "poller", run_poll_manager, streams.signed_in.receive, streams.aggregator.send.clone()
    )


async def open_hub(
    stack: contextlib.AsyncExitStack, store: Store, owner: str, timing: Timing
) -> Hub:
    """The hub, entered on ``stack``; when the database may be shared its events also reach
    the other app instances on it, and theirs reach it (``actors/bridge.py``).

    Unbridged on a private store (the embedded one): no other instance can share it, and the
    bridge's change stream would only make the store read every oplog entry — every play an
    import writes — for nobody (7% of its time measured during an import)."""
    if store.private:
        return await stack.enter_async_context(Hub())
    send, outbox = bounded_stream(bridge.OUTBOX_SIZE, Event)
    broadcaster = bridge.BridgedBroadcaster(send)
    hub = await stack.enter_async_context(Hub(broadcaster=broadcaster))
    # The broadcaster owns the outbox's send end (closed with it, when the hub stops); the
    # hub owns its receive end for the bridge.
    await hub.start_actor(
        "event_bridge",
        lambda events: functools.partial(
            bridge.run, events, EventLog(store), broadcaster, owner, timing.now
        ),
        outbox,
    )
    return hub
