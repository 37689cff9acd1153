"""The hub runs the pipeline's actors: one task group, the supervisor and the broadcaster.

Streams are wired explicitly, never looked up by name. The composition code creates each
stream pair once (``bounded_stream``) and hands its ends over: the send end to the producer,
the receive end to the consumer. Whoever is handed an end owns it and closes it; once every
send end of a stream is closed, its consumer's ``async for`` ends (``EndOfStream``)::

    async with Hub() as hub:
        plays = bounded_stream(500, Play)
        await hub.start_actor("poller", lambda send: partial(poller.run, spotify, send), plays.send)
        await hub.start_actor("aggregator", make_aggregator, plays.receive)

An actor is registered as a factory: ``factory(*ends)`` builds the actor's per-run state and
returns its run (an async callable taking ``task_status``). The supervisor calls it for every
run, so a restarted actor starts from fresh state, never from the state its crash left (the
aggregator's batches in flight, say); an object that must outlive a run is made outside the
factory, and the wiring says why.

Each run gets its own clones of the ends given to ``start_actor`` and closes them when it ends,
so a crashed run does not break the stream for its restart. The hub owns the originals and
closes them when the actor is finished for good: it returned (the supervisor restarts only a
crash), or the hub shut down. A producer that is not an actor (the facade, the Spotify client's
record sink) closes its ends itself; ``at_shutdown`` tells it when the actors have stopped.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Generic, NamedTuple, Protocol, Self, TypeVar

import anyio
from anyio.abc import TaskGroup, TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from actors.broadcaster import Broadcaster
from actors.supervisor import ActorStatus, Backoff, Supervisor

T = TypeVar("T")

StreamEnd = MemoryObjectSendStream[Any] | MemoryObjectReceiveStream[Any]


class StreamPair(NamedTuple, Generic[T]):
    send: MemoryObjectSendStream[T]
    receive: MemoryObjectReceiveStream[T]


def bounded_stream(max_buffer: int, item_type: type[T]) -> StreamPair[T]:
    """A new stream between actors. Always bounded: a slow consumer slows its producers
    instead of growing memory. ``item_type`` is what the stream carries (for the type checker
    and the reader of the wiring)."""
    if not 1 <= max_buffer < math.inf:
        raise ValueError("a pipeline stream needs a finite buffer of at least 1")
    send, receive = anyio.create_memory_object_stream[T](max_buffer)
    return StreamPair(send, receive)


class ActorRun(Protocol):
    """One run of an actor; it calls ``task_status.started()`` once it is ready."""

    def __call__(self, *, task_status: TaskStatus[None]) -> Awaitable[None]: ...


# ``factory(*ends)`` with this run's clones of the actor's stream ends.
ActorFactory = Callable[..., ActorRun]


class Hub:
    def __init__(
        self, *, broadcaster: Broadcaster | None = None, backoff: Backoff | None = None
    ) -> None:
        self.broadcaster = broadcaster or Broadcaster()
        self._backoff = backoff
        self._owned: list[StreamEnd] = []  # the originals given to ``start_actor``
        self._at_shutdown: list[Callable[[], None]] = []
        self._task_group: TaskGroup | None = None
        self._supervisor: Supervisor | None = None

    @property
    def supervisor(self) -> Supervisor:
        if self._supervisor is None:
            raise RuntimeError("the hub is not running; use `async with Hub() as hub`")
        return self._supervisor

    async def __aenter__(self) -> Self:
        if self._task_group is not None:
            raise RuntimeError("a hub runs once")
        task_group = anyio.create_task_group()
        await task_group.__aenter__()
        self._task_group = task_group
        self._supervisor = Supervisor(task_group, self._backoff)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._task_group is not None
        # Actors run until told to stop; leaving the block is that signal.
        self._task_group.cancel_scope.cancel()
        try:
            return await self._task_group.__aexit__(exc_type, exc, tb)
        finally:
            # Also the ends of an actor cancelled before its supervision began.
            _close_all(self._owned)
            for close in self._at_shutdown:
                close()
            self.broadcaster.close()

    def at_shutdown(self, close: Callable[[], None]) -> None:
        """Call ``close`` once the hub has stopped every actor: how a producer that is not an
        actor (the facade) closes the send ends it was handed without failing an actor's
        last request."""
        self._at_shutdown.append(close)

    async def start_actor(self, name: str, factory: ActorFactory, *ends: StreamEnd) -> None:
        """Supervise the actor ``factory`` makes; the hub now owns ``ends``.

        Every run calls ``factory`` with its own clones of ``ends`` (closed when the run ends)
        and awaits what it returns. The originals are closed once the actor is finished for
        good, so a producer that returns ends its consumer's stream.
        """
        for end in ends:
            if not isinstance(end, MemoryObjectSendStream | MemoryObjectReceiveStream):
                raise TypeError(f"actor {name!r}: only stream ends go to start_actor")
        self._owned.extend(ends)

        async def run(*, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
            clones = [end.clone() for end in ends]
            try:
                await factory(*clones)(task_status=task_status)
            finally:
                _close_all(clones)

        await self.supervisor.start(name, run, finished=lambda: _close_all(ends))

    def liveness(self) -> dict[str, ActorStatus]:
        return self.supervisor.liveness() if self._supervisor is not None else {}


def _close_all(ends: tuple[StreamEnd, ...] | list[StreamEnd]) -> None:
    for end in ends:
        end.close()  # closing twice is harmless
