"""Request/reply between actors: one way to ask, one way to answer, one failure behaviour.

A request message carries a ``Reply``; the asker holds the matching ``Pending`` answer::

    reply, pending = Pending.open(BatchOutcome, "Storing the plays")
    await inbox.send(PlayBatch(user_id, plays, reply=reply))
    outcome = await pending.result()

or, in one step, ``await ask(inbox, lambda reply: DeletePlay(user_id, play_id, reply=reply),
...)``. The answering actor handles the request inside ``with message.reply:`` so the reply
is closed however the handling ends — an answer, an error it expected, a driver error it did
not, a crash or a shutdown. The asker then hears at once (``NoAnswer``) instead of waiting for
ever, and a deadline bounds the wait when the actor is alive but stuck behind a database that
does not answer. ``NoAnswer`` is a ``StoreUnavailable`` (HTTP 503 with ``Retry-After``): the
actors that answer requests are the ones that write to the database, and a missing answer means
"try again in a moment", never a lost request that succeeded — the actors' writes are journalled
or idempotent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from types import TracebackType
from typing import Generic, Self, TypeVar

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from echostats.errors import StoreUnavailable

T = TypeVar("T")
M = TypeVar("M")


class NoAnswer(StoreUnavailable):
    """An actor did not answer a request: it failed, stopped, or was too slow."""

    def __init__(self, what: str = "The request", timeout: float | None = None) -> None:
        if timeout is None:
            detail = f"{what} stopped before it finished: the database did not answer."
        else:
            detail = f"{what} did not finish within {timeout:g} s: the database is not answering."
        super().__init__(f"{detail} Nothing was lost; try again in a moment.")


class Reply(Generic[T]):
    """The answering side: send one answer; closing without one tells the asker "no answer"."""

    __slots__ = ("_send",)

    def __init__(self, send: MemoryObjectSendStream[T]) -> None:
        self._send = send

    def send(self, answer: T) -> None:
        """Answer (the one-slot buffer never makes this wait); an asker that left misses it."""
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            self._send.send_nowait(answer)
        self._send.close()

    def close(self) -> None:
        self._send.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Pending(Generic[T]):
    """The asking side: the answer to one request, awaited once."""

    __slots__ = ("_receive", "_what")

    def __init__(self, receive: MemoryObjectReceiveStream[T], what: str) -> None:
        self._receive = receive
        self._what = what

    @classmethod
    def open(cls, answer_type: type[T], what: str) -> tuple[Reply[T], Pending[T]]:
        """A fresh reply/answer pair; ``what`` names the request in the error people read."""
        send, receive = anyio.create_memory_object_stream[T](1)
        return Reply(send), cls(receive, what)

    async def result(self) -> T:
        """The answer; ``NoAnswer`` if the request ended without one."""
        with self._receive:
            try:
                return await self._receive.receive()
            except anyio.EndOfStream:
                raise NoAnswer(self._what) from None

    def discard(self) -> None:
        """The answer is no longer wanted (the asker stops)."""
        self._receive.close()


async def send_request(inbox: MemoryObjectSendStream[M], message: M, what: str) -> None:
    """Deliver a request; an actor that is gone for good is "no answer", not a crash."""
    try:
        await inbox.send(message)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError):
        raise NoAnswer(what) from None


async def ask(
    inbox: MemoryObjectSendStream[M],
    request: Callable[[Reply[T]], M],
    answer_type: type[T],
    *,
    what: str,
    timeout: float,  # noqa: ASYNC109 - the deadline is part of the answer: NoAnswer names it
) -> T:
    """Send ``request(reply)`` and wait for its answer, all within ``timeout`` seconds (a full
    inbox counts against the deadline too)."""
    reply, pending = Pending.open(answer_type, what)
    with anyio.move_on_after(timeout):
        await send_request(inbox, request(reply), what)
        return await pending.result()
    pending.discard()
    raise NoAnswer(what, timeout)
