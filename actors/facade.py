"""``Pipeline``: the only part of the actor pipeline the API touches.

Routes get this object (from the app state), never the hub, its streams or an actor. Commands
for new actors (trigger a sync, submit an import) are added here as methods by whoever writes
those actors, typically sending a message into one of the hub's named streams.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager

from actors.broadcaster import BroadcastStats, Subscription
from actors.events import Event
from actors.hub import Hub
from actors.supervisor import ActorStatus


class Pipeline:
    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    def subscribe(
        self, topics: Iterable[str], last_event_id: int | None = None
    ) -> AbstractAsyncContextManager[Subscription]:
        """Events on ``topics``; buffered ones newer than ``last_event_id`` are replayed first."""
        return self._hub.broadcaster.subscribe(topics, last_event_id)

    def publish(self, event: Event) -> Event:
        return self._hub.broadcaster.publish(event)

    def liveness(self) -> dict[str, ActorStatus]:
        return self._hub.liveness()

    def broadcast_stats(self) -> BroadcastStats:
        """Subscribers, events published and slow subscribers dropped, for ``/metrics``."""
        return self._hub.broadcaster.stats()
