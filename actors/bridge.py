"""The bridge: live events reach SSE clients on every app instance, not only the producer's.

Design (one collection, one change stream, no cluster logic of our own):

- ``BridgedBroadcaster.publish`` delivers an event to local subscribers at once (the in-process
  short-cut) and also queues it, without waiting, for the bridge.
- The bridge's writer inserts queued events into the ``events`` collection tagged with this
  instance's id (``origin``); documents expire after a few minutes (TTL index).
- The bridge's follower watches ``events`` with a MongoDB change stream and re-publishes events
  of *other* origins locally through ``publish_remote``, which never queues them again: no loops,
  and each event is inserted exactly once, by its producer, so no duplicates.

If the database is away the writer drops what it cannot keep (live events are ephemeral; the
data they announce is in the database) and the follower resumes from its last resume token.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import anyio
from anyio.abc import TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from actors.broadcaster import Broadcaster
from actors.events import Event
from echostats.errors import StoreUnavailable
from echostats.store.events import EventLog

log = logging.getLogger(__name__)

OUTBOX_SIZE = 1_000
BATCH = 100
RETRY_DELAY = 1.0


class BridgedBroadcaster(Broadcaster):
    """A broadcaster whose local events are also handed to the bridge (never blocking)."""

    def __init__(self, outbox: MemoryObjectSendStream[Event], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._outbox = outbox
        self.bridge_dropped = 0

    def publish(self, event: Event) -> Event:
        stamped = super().publish(event)
        try:
            self._outbox.send_nowait(event)
        except (anyio.WouldBlock, anyio.BrokenResourceError, anyio.ClosedResourceError):
            self.bridge_dropped += 1
        return stamped

    def close(self) -> None:
        """For shutdown: also the bridge's outbox, whose send end this broadcaster owns."""
        super().close()
        self._outbox.close()

    def publish_remote(self, event: Event) -> Event:
        """An event another instance produced: local subscribers only."""
        return super().publish(event)


def to_document(event: Event, origin: str, now: datetime) -> dict[str, Any]:
    # The data travels as its JSON text: exactly what a local subscriber would have been sent.
    return {
        "origin": origin,
        "topic": event.topic,
        "name": event.name,
        "data": event.json,
        "created_at": now,
    }


def from_document(doc: dict[str, Any]) -> Event:
    return Event(topic=str(doc["topic"]), name=str(doc["name"]), data=json.loads(doc["data"]))


async def run(
    outbox: MemoryObjectReceiveStream[Event],
    events: EventLog,
    broadcaster: BridgedBroadcaster,
    origin: str,
    now: Callable[[], datetime],
    *,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    async def write() -> None:
        async with outbox:
            async for event in outbox:
                batch = [to_document(event, origin, now())]
                while len(batch) < BATCH:
                    try:
                        batch.append(to_document(outbox.receive_nowait(), origin, now()))
                    except anyio.WouldBlock:
                        break
                try:
                    await events.insert_many(batch)
                except StoreUnavailable:
                    log.warning(
                        "events not bridged: database unavailable", extra={"count": len(batch)}
                    )

    async def follow(started: anyio.Event) -> None:
        while True:
            try:
                async with events.following(origin) as documents:
                    started.set()
                    async for doc in documents:
                        broadcaster.publish_remote(from_document(doc))
            except StoreUnavailable:
                log.warning("event bridge lost the change stream; resuming")
            started.set()  # start without the bridge rather than not at all
            await anyio.sleep(RETRY_DELAY)

    async with anyio.create_task_group() as tg:
        tg.start_soon(write)
        started = anyio.Event()
        tg.start_soon(follow, started)
        await started.wait()
        task_status.started()
