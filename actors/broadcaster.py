"""In-process pub/sub from the actors to SSE clients.

``publish`` never waits for a subscriber: each subscriber has its own bounded buffer, and one
whose buffer is full is dropped (its stream ends; the browser reconnects with ``Last-Event-ID``
and is replayed what it missed from the per-topic replay buffer).

Event ids are one broadcaster-wide sequence, ``max(previous + 1, wall clock in microseconds)``:

- strictly increasing across *all* topics, so a connection that listens to several topics can
  resume from the single ``Last-Event-ID`` the browser sends back, with no duplicate or gap;
- near the wall clock, so ids issued after a restart are larger than any a browser kept from
  before it: the reconnecting browser gets every new event instead of having them skipped as
  "older" than its stale id (a counter restarting at 1 would do exactly that).

State events (``topics.STATE_EVENTS``: now playing, idle) are also kept, the latest per topic, and
a new subscriber is sent the latest one first: the current state, not the next change.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Self

import anyio
import anyio.lowlevel

from actors.events import Event
from actors.topics import STATE_EVENTS

log = logging.getLogger(__name__)

DEFAULT_REPLAY_SIZE = 256
DEFAULT_REPLAY_SECONDS = 600.0
DEFAULT_SUBSCRIBER_BUFFER = 128


def wall_clock_micros() -> int:
    return time.time_ns() // 1000


@dataclasses.dataclass(frozen=True)
class BroadcastStats:
    subscribers: int
    published: int
    dropped: int


class Subscription:
    """Async iterator of events: the replay first, then live events until dropped or closed."""

    def __init__(self, topics: frozenset[str], replay: list[Event], buffer: int) -> None:
        self.topics = topics
        self._replay = deque(replay)
        self._send, self._receive = anyio.create_memory_object_stream[Event](buffer)
        self.dropped = False

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Event:
        if self._replay:
            await anyio.lowlevel.checkpoint()
            return self._replay.popleft()
        try:
            return await self._receive.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise StopAsyncIteration from None

    def _offer(self, event: Event) -> bool:
        """Queue ``event`` without waiting; False if this subscriber has to go."""
        try:
            self._send.send_nowait(event)
        except anyio.WouldBlock:
            self.dropped = True
            return False
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            return False
        return True

    def close(self) -> None:
        """Stop live delivery: the consumer gets what is already buffered, then the end."""
        # Closing only the send end is what lets the buffer drain first.
        self._send.close()

    def _close_all(self) -> None:
        self._send.close()
        self._receive.close()


class Broadcaster:
    def __init__(
        self,
        *,
        replay_size: int = DEFAULT_REPLAY_SIZE,
        replay_seconds: float = DEFAULT_REPLAY_SECONDS,
        subscriber_buffer: int = DEFAULT_SUBSCRIBER_BUFFER,
        clock: Callable[[], int] = wall_clock_micros,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if replay_size < 0 or subscriber_buffer < 1:
            raise ValueError("replay_size must be >= 0 and subscriber_buffer >= 1")
        self._replay_size = replay_size
        self._replay_seconds = replay_seconds
        self._subscriber_buffer = subscriber_buffer
        self._clock = clock
        self._monotonic = monotonic
        self._last_id = 0
        self._replay: dict[str, deque[tuple[float, Event]]] = {}
        self._state: dict[str, Event] = {}  # topic → its latest state event
        self._subscribers: dict[str, set[Subscription]] = {}
        self._active: set[Subscription] = set()
        self._published = 0
        self._dropped = 0

    @property
    def subscriber_count(self) -> int:
        return len(self._active)

    def stats(self) -> BroadcastStats:
        return BroadcastStats(self.subscriber_count, self._published, self._dropped)

    def publish(self, event: Event) -> Event:
        """Stamp ``event`` with the next id, buffer it for replay and offer it to subscribers.

        Synchronous on purpose: nothing here can wait on a client. Raises ``TypeError`` at once
        if the data is not JSON-serialisable, so the producer (not a browser) sees the bug.
        Call it on the event loop (from a worker thread: ``anyio.from_thread.run_sync``).
        """
        self._last_id = max(self._last_id + 1, self._clock())
        stamped = dataclasses.replace(event, id=self._last_id)
        _ = stamped.json
        if self._replay_size:
            buffer = self._replay.setdefault(event.topic, deque(maxlen=self._replay_size))
            buffer.append((self._monotonic(), stamped))
        if event.name in STATE_EVENTS:
            self._state[event.topic] = stamped
        self._published += 1
        for subscription in list(self._subscribers.get(event.topic, ())):
            if not subscription._offer(stamped):
                self._remove(subscription)
                if subscription.dropped:
                    self._dropped += 1
                    subscription.close()
                    log.info(
                        "slow SSE subscriber dropped",
                        extra={"topics": sorted(subscription.topics), "event_id": stamped.id},
                    )
        return stamped

    def current_state(self, topic: str) -> Event | None:
        """The latest state event published on ``topic``, if any."""
        return self._state.get(topic)

    def offer_state(self, event: Event) -> Event | None:
        """Publish ``event`` as the topic's state unless one is known already (a fresher one from
        the producer may have arrived while the caller looked it up); None when not published."""
        if event.topic in self._state:
            return None
        return self.publish(event)

    def _first_events(self, topics: frozenset[str], last_event_id: int | None) -> list[Event]:
        """What a new subscriber is sent before live events: with ``last_event_id`` the buffered
        events after it, and in any case each topic's state unless the client already has it."""
        events = [] if last_event_id is None else self._replay_after(topics, last_event_id)
        sent = {event.id for event in events}
        states = [
            state
            for topic in topics
            if (state := self._state.get(topic)) is not None
            and state.id not in sent
            and (last_event_id is None or state.id > last_event_id)
        ]
        return sorted(events + states, key=lambda e: e.id)

    def _replay_after(self, topics: Iterable[str], last_event_id: int) -> list[Event]:
        oldest = self._monotonic() - self._replay_seconds
        events = [
            event
            for topic in topics
            for published_at, event in self._replay.get(topic, ())
            if event.id > last_event_id and published_at >= oldest
        ]
        events.sort(key=lambda e: e.id)
        return events

    def _remove(self, subscription: Subscription) -> None:
        self._active.discard(subscription)
        for topic in subscription.topics:
            subs = self._subscribers.get(topic)
            if subs is not None:
                subs.discard(subscription)
                if not subs:
                    del self._subscribers[topic]

    def close(self) -> None:
        """End every subscription (each consumer drains its buffer, then stops); for shutdown."""
        for subscription in list(self._active):
            self._remove(subscription)
            subscription.close()

    @contextlib.asynccontextmanager
    async def subscribe(
        self, topics: Iterable[str], last_event_id: int | None = None
    ) -> AsyncIterator[Subscription]:
        """Listen to exact ``topics``; first come the topics' current states and, with
        ``last_event_id``, the buffered newer events.

        Registration and the replay snapshot happen together without an await in between, so
        no event falls between the replay and the live stream, and none arrives twice.
        """
        wanted = frozenset(topics)
        if not wanted:
            raise ValueError("subscribe to at least one topic")
        replay = self._first_events(wanted, last_event_id)
        subscription = Subscription(wanted, replay, self._subscriber_buffer)
        self._active.add(subscription)
        for topic in wanted:
            self._subscribers.setdefault(topic, set()).add(subscription)
        try:
            yield subscription
        finally:
            self._remove(subscription)
            subscription._close_all()
