"""``Pipeline``: the only part of the actor pipeline the API touches.

Routes get this object (from the app state), never the hub, its streams or an actor. Commands
for new actors (trigger a sync, submit an import) are added here as methods by whoever writes
those actors, typically sending a message into one of the hub's named streams.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager

import anyio
from anyio.streams.memory import MemoryObjectSendStream

from actors.broadcaster import BroadcastStats, Subscription
from actors.events import Event
from actors.hub import Hub
from actors.jobs import JobControl
from actors.messages import AggregatorMessage, BatchOutcome, DeletePlay, PlayBatch
from actors.supervisor import ActorStatus
from echostats.domain.plays import Play


class Pipeline:
    def __init__(
        self,
        hub: Hub,
        *,
        to_aggregator: MemoryObjectSendStream[AggregatorMessage] | None = None,
        jobs: JobControl | None = None,
    ) -> None:
        self._hub = hub
        self._to_aggregator = to_aggregator
        self.jobs = jobs or JobControl()

    def cancel_job(self, job_id: str) -> bool:
        """Cancel a running job (import, rebuild, sync) in this process."""
        return self.jobs.cancel(job_id)

    def _aggregator(self) -> MemoryObjectSendStream[AggregatorMessage]:
        if self._to_aggregator is None:
            raise RuntimeError("this pipeline was built without an aggregator")
        return self._to_aggregator

    async def submit_plays(self, user_id: str, plays: Sequence[Play]) -> BatchOutcome:
        """Store plays (deduplicated, rollups updated) and wait for the aggregator's answer."""
        reply, answer = anyio.create_memory_object_stream[BatchOutcome](1)
        async with answer:
            await self._aggregator().send(PlayBatch(user_id, tuple(plays), reply=reply))
            return await answer.receive()

    async def delete_play(self, user_id: str, play_id: str) -> bool:
        """Delete one play (rollups follow); False when the user has no such play."""
        reply, answer = anyio.create_memory_object_stream[bool](1)
        async with answer:
            await self._aggregator().send(DeletePlay(user_id, play_id, reply=reply))
            return await answer.receive()

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
