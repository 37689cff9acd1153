"""The hub owns the pipeline's runtime: one task group, the supervisor, the broadcaster and every
stream between actors, so the wiring of actors by stream name lives in one place.

    async with Hub() as hub:
        plays_in, plays_out = hub.stream("plays", 500, Play)
        await hub.start_actor("poller", poller.run, spotify, plays_in)
        await hub.start_actor("aggregator", aggregator.run, store, plays_out, hub.broadcaster)

Streams are always bounded, so a slow consumer slows its producers instead of growing memory.
Each run of an actor gets its own clones of the stream ends it was given: it owns them and may
close them (``async with``) without breaking the stream for its restart or for other actors; the
hub closes the originals on shutdown. An argument wrapped in ``Fresh(factory)`` is built anew for
each run, so a restarted actor starts from clean state instead of the state its crash left (the
aggregator's batches in flight, say).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from actors.broadcaster import Broadcaster
from actors.supervisor import ActorStatus, Backoff, Supervisor

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class _NamedStream:
    send: MemoryObjectSendStream[Any]
    receive: MemoryObjectReceiveStream[Any]
    max_buffer: int
    item_type: type


_StreamEnd = (MemoryObjectSendStream, MemoryObjectReceiveStream)


@dataclasses.dataclass(frozen=True)
class Fresh(Generic[T]):
    """An actor argument that ``make`` builds for every run of the actor."""

    make: Callable[[], T]


class Hub:
    def __init__(
        self, *, broadcaster: Broadcaster | None = None, backoff: Backoff | None = None
    ) -> None:
        self.broadcaster = broadcaster or Broadcaster()
        self._backoff = backoff
        self._streams: dict[str, _NamedStream] = {}
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
            self.broadcaster.close()
            for named in self._streams.values():
                named.send.close()
                named.receive.close()

    def stream(
        self, name: str, max_buffer: int, item_type: type[T]
    ) -> tuple[MemoryObjectSendStream[T], MemoryObjectReceiveStream[T]]:
        """The bounded stream called ``name``, created on first use; every caller gets the same.

        Asking again with another size or item type is a wiring mistake and raises.
        """
        if max_buffer < 1 or max_buffer == float("inf"):
            raise ValueError("a pipeline stream needs a finite buffer of at least 1")
        named = self._streams.get(name)
        if named is None:
            send, receive = anyio.create_memory_object_stream[T](max_buffer)
            named = _NamedStream(send, receive, max_buffer, item_type)
            self._streams[name] = named
        elif (named.max_buffer, named.item_type) != (max_buffer, item_type):
            raise ValueError(
                f"stream {name!r} exists with buffer {named.max_buffer} of "
                f"{named.item_type.__name__}"
            )
        return named.send, named.receive

    async def start_actor(
        self, name: str, actor: Callable[..., Awaitable[None]], *args: Any
    ) -> None:
        """Supervise ``actor(*args)``; for each run, stream ends among ``args`` are cloned and
        ``Fresh`` arguments built."""

        async def run(*, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
            clones = {i: arg.clone() for i, arg in enumerate(args) if isinstance(arg, _StreamEnd)}
            built = {i: arg.make() for i, arg in enumerate(args) if isinstance(arg, Fresh)}
            try:
                await actor(
                    *(clones.get(i, built.get(i, arg)) for i, arg in enumerate(args)),
                    task_status=task_status,
                )
            finally:
                for clone in clones.values():
                    clone.close()

        await self.supervisor.start(name, run)

    def liveness(self) -> dict[str, ActorStatus]:
        return self.supervisor.liveness() if self._supervisor is not None else {}
