"""Runs named actors in one task group and restarts the ones that crash, with backoff.

An actor is ``async def run(*args, task_status=anyio.TASK_STATUS_IGNORED)`` that calls
``task_status.started()`` once it is ready. A crash (any ``Exception``) restarts it after an
exponential, capped delay; the delay resets once a run has stayed up for ``healthy_after``
seconds. Cancellation is never caught, so shutting the task group down stops every actor without
a restart. An actor that returns normally has finished its work and is not restarted; ``start``'s
``finished`` is then called (and when shutdown cancels the actor), never between restarts.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import anyio
from anyio.abc import TaskGroup

from echostats.errors import EchoStatsError
from echostats.store.boundary import is_unavailable

log = logging.getLogger(__name__)

Actor = Callable[..., Awaitable[None]]
MAX_ERROR_TEXT = 200
# How long ``start`` waits for an actor's first attempt to be ready (or to fail). An attempt
# that does neither (a call into a database that never answers, say) must not hold up the
# app's start-up: the actor goes on starting in the background and readiness reports it as not
# running until it is.
FIRST_START_TIMEOUT = 15.0


@dataclasses.dataclass(frozen=True)
class Backoff:
    initial: float = 0.5
    factor: float = 2.0
    maximum: float = 60.0
    healthy_after: float = 120.0

    def __post_init__(self) -> None:
        # A zero delay would let an actor that crashes at once spin the CPU.
        if self.initial <= 0 or self.factor < 1 or self.maximum < self.initial:
            raise ValueError("backoff needs initial > 0, factor >= 1 and maximum >= initial")

    def delay(self, consecutive_failures: int) -> float:
        """Seconds to wait before restart number ``consecutive_failures`` (1-based)."""
        exponent = max(0, consecutive_failures - 1)
        # Past the cap the exact power does not matter; avoid float overflow on long outages.
        if exponent > 1000 or self.initial * math.pow(self.factor, exponent) > self.maximum:
            return self.maximum
        return float(self.initial * math.pow(self.factor, exponent))


@dataclasses.dataclass(frozen=True)
class ActorStatus:
    alive: bool
    restarts: int
    last_error: str | None
    last_started_at: datetime | None


def describe_error(exc: BaseException) -> str:
    """Short text for status pages. Only our own errors keep their message: they are sentences
    written for people, while a library's message may quote a URL or a token."""
    name = type(exc).__name__
    if isinstance(exc, EchoStatsError):
        return f"{name}: {exc.detail}"[:MAX_ERROR_TEXT]
    return name


@dataclasses.dataclass
class _State:
    alive: bool = False
    restarts: int = 0
    last_error: str | None = None
    last_started_at: datetime | None = None
    ready_at: float | None = None

    def snapshot(self) -> ActorStatus:
        return ActorStatus(self.alive, self.restarts, self.last_error, self.last_started_at)


class _Readiness:
    """The ``task_status`` handed to each run: marks the actor alive when it says it is ready."""

    def __init__(self, on_ready: Callable[[], None]) -> None:
        self._on_ready = on_ready
        self._done = False

    def started(self, value: object = None) -> None:
        if not self._done:
            self._done = True
            self._on_ready()


class Supervisor:
    def __init__(
        self,
        task_group: TaskGroup,
        backoff: Backoff | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        first_start_timeout: float = FIRST_START_TIMEOUT,
    ) -> None:
        self._task_group = task_group
        self._backoff = backoff or Backoff()
        self._monotonic = monotonic
        self._first_start_timeout = first_start_timeout
        self._states: dict[str, _State] = {}

    def liveness(self) -> dict[str, ActorStatus]:
        return {name: state.snapshot() for name, state in self._states.items()}

    async def start(
        self,
        name: str,
        actor: Actor,
        *args: Any,
        finished: Callable[[], None] = lambda: None,
    ) -> None:
        """Run ``actor(*args)`` under supervision as ``name``; ``finished()`` once it is done
        for good (it returned, or was cancelled), not after a crash that is restarted.

        Returns once the actor is ready for the first time, once its first attempt has failed
        (it then keeps being restarted in the background), or after ``first_start_timeout``
        seconds of neither (it keeps starting in the background), so no actor can hang the
        app's start-up; readiness shows it as not alive until it is.
        """
        if name in self._states:
            raise ValueError(f"an actor named {name!r} is already supervised")
        self._states[name] = _State()
        settled = anyio.Event()
        self._task_group.start_soon(
            self._supervise, name, actor, args, settled.set, finished, name=f"actor:{name}"
        )
        with anyio.move_on_after(self._first_start_timeout):
            await settled.wait()
        if not settled.is_set():
            log.warning(
                "actor not ready yet; starting without it",
                extra={"actor": name, "waited_s": self._first_start_timeout},
            )

    async def _supervise(
        self,
        name: str,
        actor: Actor,
        args: tuple[Any, ...],
        on_first_attempt: Callable[[], None],
        finished: Callable[[], None],
    ) -> None:
        try:
            await self._restarting(name, actor, args, on_first_attempt)
        finally:
            finished()

    async def _restarting(
        self,
        name: str,
        actor: Actor,
        args: tuple[Any, ...],
        on_first_attempt: Callable[[], None],
    ) -> None:
        state = self._states[name]
        first_attempt = _Readiness(on_first_attempt)
        failures = 0
        while True:

            def ready() -> None:
                state.alive = True
                state.ready_at = self._monotonic()
                state.last_started_at = datetime.now(UTC)
                first_attempt.started()

            state.ready_at = None
            try:
                await actor(*args, task_status=_Readiness(ready))
            except Exception as exc:
                state.last_error = describe_error(exc)
                if (
                    state.ready_at is not None
                    and self._monotonic() - state.ready_at >= self._backoff.healthy_after
                ):
                    failures = 0
                failures += 1
                delay = self._backoff.delay(failures)
                extra = {"actor": name, "error": state.last_error, "restart_in_s": delay}
                if is_unavailable(exc):
                    # Not a bug: the database is down or too busy; no traceback for that.
                    log.warning("actor paused: database unavailable; restarting", extra=extra)
                else:
                    log.exception("actor crashed; restarting", extra=extra)
            else:
                log.info("actor finished", extra={"actor": name})
                return
            finally:
                state.alive = False
                first_attempt.started()
            await anyio.sleep(delay)
            state.restarts += 1
