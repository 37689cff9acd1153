"""The poll manager: finds the users to poll and runs one ``UserPoller`` each, in its own task
group.

Users come from the stored tokens (at start and every ``lease_renew`` seconds, which is also how
an instance takes over a user whose lease another instance stopped renewing) and from sign-ins
(``Pipeline.user_signed_in``), which start polling at once. A user's poller runs only while this
instance holds the user's lease; a poller that crashes is restarted after a backoff.
"""

from __future__ import annotations

import contextlib
import logging

import anyio
from anyio.abc import TaskGroup, TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream

from actors.poller import PollerDeps, UserPoller
from echostats.errors import StoreUnavailable
from echostats.store.boundary import is_unavailable
from echostats.store.leases import poll_lease

log = logging.getLogger(__name__)

CRASH_BACKOFF = (1.0, 5.0, 30.0, 120.0)
# The inbox of user ids that just signed in (``Pipeline.user_signed_in``); a full inbox drops
# the id, and the periodic discovery finds the user a little later.
SIGNED_IN_BUFFER = 64


class PollManager:
    def __init__(self, deps: PollerDeps) -> None:
        self._deps = deps
        self.running: set[str] = set()

    async def _supervise(self, user_id: str) -> None:
        crashes = 0
        try:
            while True:
                try:
                    await UserPoller(user_id, self._deps).run()
                except Exception as exc:
                    delay = CRASH_BACKOFF[min(crashes, len(CRASH_BACKOFF) - 1)]
                    crashes += 1
                    if is_unavailable(exc):
                        # Not a bug: the database is down or too busy; no traceback for that.
                        log.warning(
                            "poller paused: database unavailable; restarting",
                            extra={"user_id": user_id, "delay": delay},
                        )
                    else:
                        log.exception(
                            "poller crashed; restarting",
                            extra={"user_id": user_id, "delay": delay},
                        )
                    await self._deps.timing.sleep(delay)
                else:
                    return
        finally:
            self.running.discard(user_id)
            with (
                anyio.CancelScope(shield=True),
                anyio.move_on_after(5),
                contextlib.suppress(StoreUnavailable),
            ):
                await self._deps.leases.release(poll_lease(user_id))

    def start(self, tg: TaskGroup, user_id: str) -> None:
        if user_id in self.running:
            return
        self.running.add(user_id)
        tg.start_soon(self._supervise, user_id, name=f"poller:{user_id}")

    async def discover(self, tg: TaskGroup) -> None:
        try:
            users = await self._deps.state.pollable_users()
        except StoreUnavailable:
            return
        for user_id in users:
            self.start(tg, user_id)


async def run(
    signed_in: MemoryObjectReceiveStream[str],
    deps: PollerDeps,
    *,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    manager = PollManager(deps)
    async with signed_in, anyio.create_task_group() as tg:

        async def rediscover() -> None:
            while True:
                await manager.discover(tg)
                await deps.timing.sleep(deps.config.lease_renew)

        async def on_sign_in() -> None:
            async for user_id in signed_in:
                manager.start(tg, user_id)

        tg.start_soon(rediscover)
        tg.start_soon(on_sign_in)
        task_status.started()
