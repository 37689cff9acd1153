"""Wiring of live ingestion (poll manager + pollers) and of the multi-instance event bridge.

The app's lifespan builds the hub with ``bridged_broadcaster()``'s broadcaster, starts the base
pipeline, then calls ``start_ingestion`` and ``start_bridge``.
"""

from __future__ import annotations

import uuid

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream

from actors import bridge, poll_manager
from actors.events import Event
from actors.hub import Hub
from actors.messages import AggregatorMessage
from actors.pipeline import AGGREGATOR, AGGREGATOR_BUFFER
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
    store: Store,
    spotify: SpotifyClient,
    tokens: EncryptedTokenStore,
    config: PollerConfig,
    timing: Timing,
    owner: str,
    poll_lag: PollLag | None = None,
) -> None:
    to_aggregator, _ = hub.stream(AGGREGATOR, AGGREGATOR_BUFFER, AggregatorMessage)
    _, signed_in = hub.stream(poll_manager.SIGNED_IN, poll_manager.SIGNED_IN_BUFFER, str)
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
    await hub.start_actor("poller", poll_manager.run, signed_in, deps)


def bridged_broadcaster() -> tuple[bridge.BridgedBroadcaster, MemoryObjectReceiveStream[Event]]:
    """A broadcaster for the hub whose local events also go to the bridge's outbox."""
    send, receive = anyio.create_memory_object_stream[Event](bridge.OUTBOX_SIZE)
    return bridge.BridgedBroadcaster(send), receive


async def start_bridge(
    hub: Hub,
    store: Store,
    outbox: MemoryObjectReceiveStream[Event],
    owner: str,
    timing: Timing,
) -> None:
    broadcaster = hub.broadcaster
    if not isinstance(broadcaster, bridge.BridgedBroadcaster):
        raise TypeError("start_bridge needs a hub built with bridged_broadcaster()")
    await hub.start_actor(
        "event_bridge", bridge.run, outbox, EventLog(store), broadcaster, owner, timing.now
    )
