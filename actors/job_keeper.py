"""The job keeper: tells a job whose process is gone from one that is still running elsewhere.

Replicas may share the database, so "pending or running" does not mean "running here". Every job
carries its ``owner`` (the instance id) and a ``heartbeat_at`` that the keeper of that owner
renews every ``JOB_HEARTBEAT`` seconds for all of the owner's active jobs (syncs, imports and
rollup rebuilds alike). Any keeper fails the active jobs of other owners whose heartbeat stopped
``JOB_STALE_AFTER`` ago: that process crashed or was killed, so the jobs can never finish, and a
person sees them failed (and may run them again) instead of running for ever.

At start-up, before this process has created any job, the keeper also fails jobs under its own
owner (an earlier run under the same instance id) and, when no other instance can share the
database (the embedded store), every active job at once, without waiting for heartbeats to age.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import anyio
from anyio.abc import TaskStatus

from echostats.store.database import skipped_while_unavailable
from echostats.store.sync_jobs import SyncJobs

log = logging.getLogger(__name__)

ACTOR_NAME = "job_keeper"
JOB_HEARTBEAT = 30.0
JOB_STALE_AFTER = timedelta(seconds=120)  # four missed heartbeats


class JobKeeper:
    def __init__(
        self, jobs: SyncJobs, now: Callable[[], datetime], *, sole_instance: bool = False
    ) -> None:
        self.jobs = jobs
        self.now = now
        self._sole_instance = sole_instance
        self._started = False

    async def start_up(self) -> None:
        """Once per process (a restarted keeper must not fail this process's own jobs)."""
        if self._started:
            return
        now = self.now()
        stale_before = now if self._sole_instance else now - JOB_STALE_AFTER
        await self._fail_abandoned(now, stale_before, at_start=True)
        self._started = True

    async def beat(self) -> None:
        """This process's jobs are alive; other owners' whose heartbeat stopped are failed."""
        now = self.now()
        await self.jobs.beat(now)
        await self._fail_abandoned(now, now - JOB_STALE_AFTER)

    async def _fail_abandoned(
        self, now: datetime, stale_before: datetime, *, at_start: bool = False
    ) -> None:
        failed = await self.jobs.fail_abandoned(now, stale_before, at_start=at_start)
        if failed:
            log.warning("marked interrupted jobs as failed", extra={"count": failed})


async def run(
    keeper: JobKeeper, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED
) -> None:
    # Inside the actor (not the lifespan): a database that is down at start-up only delays the
    # sweep, under the supervisor's retries.
    await keeper.start_up()
    task_status.started()
    while True:
        await anyio.sleep(JOB_HEARTBEAT)
        with skipped_while_unavailable(log, "job heartbeat"):
            await keeper.beat()
