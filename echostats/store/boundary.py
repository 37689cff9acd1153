"""The store's translation boundary: a driver error that means "the database did not answer"
leaves the store as ``StoreUnavailable`` (HTTP 503 with ``Retry-After``; actors pause and
retry), so nothing above the store tells PyMongo's errors apart.

Every repository derives from ``Repository``: each of its ``async def`` methods (coroutines and
async generators) translates on the way out. A module-level store function takes
``@translating``. Any other driver error (a refused write, a bad query) is a bug and goes on
as it is.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from typing import Any, ParamSpec, TypeVar

from pymongo.errors import ConnectionFailure, PyMongoError

from echostats.errors import StoreUnavailable

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

UNAVAILABLE = "the database is unavailable"


def unanswered(exc: PyMongoError) -> bool:
    """The database did not answer: unreachable, connection lost, no primary (AutoReconnect,
    ServerSelectionTimeoutError, NetworkTimeout, WaitQueueTimeoutError: ``ConnectionFailure``),
    or out of time (ExecutionTimeout, a write-concern or client-side timeout: ``timeout``)."""
    return isinstance(exc, ConnectionFailure) or exc.timeout


def is_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` means the database cannot be reached (retry later), not a bug; a task
    group's bundle of errors is, when every one of them is.

    Only for the outermost nets (the API's last-resort handler, the supervisors, the actors'
    "skip this round" guard), which may meet a driver error raised outside any repository (a
    client's own close or ping); everything else catches ``StoreUnavailable``."""
    if isinstance(exc, BaseExceptionGroup):
        return all(is_unavailable(e) for e in exc.exceptions)
    return isinstance(exc, StoreUnavailable) or (isinstance(exc, PyMongoError) and unanswered(exc))


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """Run the block; a driver error meaning "no answer" becomes ``StoreUnavailable``."""
    try:
        yield
    except PyMongoError as exc:
        if not unanswered(exc):
            raise
        raise StoreUnavailable(UNAVAILABLE) from exc


def translating(fn: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    """A store coroutine function whose "no answer" driver errors leave as ``StoreUnavailable``."""

    @functools.wraps(fn)
    async def translating_call(*args: P.args, **kwargs: P.kwargs) -> R:
        with translated():
            return await fn(*args, **kwargs)

    return translating_call


def _translating_generator(
    fn: Callable[P, AsyncGenerator[T, None]],
) -> Callable[P, AsyncIterator[T]]:
    @functools.wraps(fn)
    async def translating_iteration(*args: P.args, **kwargs: P.kwargs) -> AsyncIterator[T]:
        generator = fn(*args, **kwargs)
        async with contextlib.aclosing(generator):
            with translated():
                async for item in generator:
                    yield item

    return translating_iteration


class Repository:
    """Base of every store repository: its ``async def`` methods translate driver errors."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, member in list(vars(cls).items()):
            if inspect.iscoroutinefunction(member):
                setattr(cls, name, translating(member))
            elif inspect.isasyncgenfunction(member):
                setattr(cls, name, _translating_generator(member))
