"""Ledger builds: (re)build a user's play ledger from the stored plays, as a job with progress.

Builds run on their own actor, beside the aggregator: ``echostats.store.ledger_build`` writes
month by month under the ledger's per-user lock, so plays recorded meanwhile are never lost and
ingestion never waits for a build. Two things start one: a person asking
(``POST /api/v1/analytics/rollup-build``, the name the API has always had), and start-up finding
a build that an upgrade asked for or a stop interrupted — it continues after the last month
it finished. Before any build it loads every user's ledger into memory, so the first request
after a restart finds it there.

``LedgerBuilder`` is also what the API starts builds through (via ``Pipeline``): it answers
``already_running`` for a user whose build is queued or running in this process, and marks a
job that a crash left "running" as failed before starting a new one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import anyio
from anyio.abc import TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from actors import topics
from actors.events import Event, StatsRebuilt, event_of
from actors.jobs import JobControl
from echostats.store.database import Store, skipped_while_unavailable
from echostats.store.ledger_build import build_ledger
from echostats.store.ledger_builds import LedgerBuilds
from echostats.store.ledger_cache import Ledger
from echostats.store.sync_jobs import JobType, SyncJobs
from echostats.store.users import Users

log = logging.getLogger(__name__)

QUEUE = 64
ALL_PERIODS = ["week", "month", "quarter", "year", "all_time"]
# A build is a job of one step; "rollup_build" is its name in the API contract.
JOB_TYPE: JobType = "rollup_build"
STEP = "build_ledger"


@dataclass(frozen=True)
class BuildLedger:
    user_id: str
    job_id: str
    after: str | None = None  # resume after this month


class LedgerBuilder:
    def __init__(
        self,
        store: Store,
        ledger: Ledger,
        control: JobControl,
        *,
        publish: Callable[[Event], Event],
        now: Callable[[], datetime],
        queue: MemoryObjectSendStream[BuildLedger],
        owner: str = "",
    ) -> None:
        self._store = store
        self._ledger = ledger
        self._jobs = SyncJobs(store, owner)
        self._builds = LedgerBuilds(store)
        self._control = control
        self._publish = publish
        self._now = now
        self._queued: dict[str, str] = {}  # job id → user id, queued or running here
        self._lock = anyio.Lock()
        self._send = queue  # the facade's side (``start``); closed by ``close``

    def is_building(self, user_id: str) -> bool:
        return user_id in self._queued.values()

    def close(self) -> None:
        self._send.close()

    async def start(self, user_id: str) -> tuple[str, bool]:
        """Queue a build; returns (job id, True) or the running job's (id, False)."""
        message = await self._create(user_id, None)
        if message is None:
            return next(j for j, u in self._queued.items() if u == user_id), False
        await self._send.send(message)
        return message.job_id, True

    async def _create(self, user_id: str, after: str | None) -> BuildLedger | None:
        """A new job for a build, or None when one is queued or running here."""
        async with self._lock:
            if self.is_building(user_id):
                return None
            active = await self._jobs.active(user_id, (JOB_TYPE,))
            if active is not None:
                await self._jobs.close_single_step(
                    active.id, "failed", 0, self._now(), "interrupted: the service restarted"
                )
            job_id = await self._jobs.create(user_id, JOB_TYPE, self._now())
            self._queued[job_id] = user_id
            await self._builds.requested(user_id, after)
        return BuildLedger(user_id, job_id, after)

    async def warm(self) -> None:
        """Load every user's ledger into memory right after start-up, so the first request
        after a restart finds it there (the cache keeps the most recent users it has room
        for)."""
        with skipped_while_unavailable(log, "ledger warm-up"):
            for user_id in await Users(self._store).all_ids():
                await self._ledger.view(user_id)

    async def pending(self) -> list[BuildLedger]:
        """Jobs for the builds an upgrade asked for, or a stop interrupted."""
        found = []
        for user_id, after in await self._builds.pending():
            message = await self._create(user_id, after)
            if message is not None:
                found.append(message)
        return found

    async def build(self, message: BuildLedger) -> None:
        """Cancelling the job leaves the months built so far in place (the rest as they were);
        a later build continues after the last finished month."""
        processed = 0

        async def progress(month: str, plays: int) -> None:
            nonlocal processed
            processed = plays
            await self._builds.built_through(message.user_id, month)
            await self._jobs.single_step_progress(message.job_id, plays)

        try:
            await self._jobs.start_single_step(
                message.job_id, STEP, "reading the stored plays month by month", self._now(), None
            )
            with self._control.running(message.job_id) as scope:
                processed = await build_ledger(
                    self._store,
                    self._ledger,
                    message.user_id,
                    self._now(),
                    after=message.after,
                    progress=progress,
                )
            if scope.cancelled_caught:
                await self._jobs.close_single_step(
                    message.job_id, "cancelled", processed, self._now()
                )
                return
            with anyio.CancelScope(shield=True):
                await self._jobs.close_single_step(
                    message.job_id, "completed", processed, self._now()
                )
                await self._builds.done(message.user_id, self._now())
        except Exception as exc:
            await self._jobs.close_single_step(
                message.job_id, "failed", processed, self._now(), f"build failed: {exc}"
            )
            raise
        finally:
            self._queued.pop(message.job_id, None)
        log.info(
            "ledger built",
            extra={"user_id": message.user_id, "job_id": message.job_id, "plays": processed},
        )
        self._publish(event_of(topics.stats(message.user_id), StatsRebuilt(tuple(ALL_PERIODS))))


async def run(
    inbox: MemoryObjectReceiveStream[BuildLedger],
    builder: LedgerBuilder,
    *,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    task_status.started()
    await builder.warm()
    for message in await builder.pending():
        await builder.build(message)
    async with inbox:
        async for message in inbox:
            await builder.build(message)
