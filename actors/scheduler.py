"""The scheduler: starts sync jobs (initial, periodic, manual), at most one per user at a time.

Requests arrive on the scheduler's inbox (``request_sync`` sends them for the facade) and
are answered at once with a ``SyncTicket``: ``started`` with the new job's id, or
``already_running`` with the running job's id. Between requests the scheduler wakes when the
next user's periodic sync is due (``interval`` after that user's last sync job was created).
Each job runs in the scheduler's task group inside ``JobControl.running(job_id)`` so the API can
cancel it; its life is recorded and published through a ``JobReporter``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

import anyio
from anyio.abc import TaskGroup, TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from actors.asking import Reply, ask
from actors.job_events import JobReporter, Publish
from actors.jobs import JobControl
from actors.syncer import SyncDeps, run_sync
from echostats.errors import EchoStatsError
from echostats.store.boundary import is_unavailable
from echostats.store.database import skipped_while_unavailable
from echostats.store.sync_jobs import JobType, SyncJobs
from echostats.store.users import Users

log = logging.getLogger(__name__)

SYNC_REQUESTS_BUFFER = 64
ACTOR_NAME = "scheduler"
# A user without any sync job gets a periodic one only this long after the scan first saw them:
# their first sign-in requests the initial sync, and a periodic one started first would take
# its place ("already running").
NEVER_SYNCED_GRACE = timedelta(minutes=1)
# Wake at least this often, so users who signed in on another replica get their periodic sync.
MAX_IDLE_WAIT = 60.0
STORE_RETRY = 5.0  # a scan the database did not answer is tried again this soon
# A request needs two small reads and a write; this bounds the wait on a stuck database.
REQUEST_TIMEOUT = 10.0
UNEXPECTED = "An unexpected error stopped the sync; it has been logged."
CANCELLED = "The sync was cancelled on request."
DATABASE_SILENT = "The database did not answer during the sync; the next sync tries again."
ORPHANED = "The sync never ran: the database stopped answering as it was started."


class SyncUnavailable(EchoStatsError):
    status = 503
    retry_after: float = 5.0


@dataclass(frozen=True)
class SyncTicket:
    status: Literal["started", "already_running"]
    job_id: str


@dataclass(frozen=True)
class SyncRequest:
    user_id: str
    job_type: JobType
    reply: Reply[SyncTicket] | None = field(default=None, compare=False)


async def request_sync(
    requests: MemoryObjectSendStream[SyncRequest], user_id: str, job_type: JobType
) -> SyncTicket:
    """Ask the running scheduler for a sync (the facade's ``request_sync``)."""
    return await ask(
        requests,
        lambda reply: SyncRequest(user_id, job_type, reply),
        SyncTicket,
        what="Starting the sync",
        timeout=REQUEST_TIMEOUT,
    )


class Scheduler:
    def __init__(
        self,
        deps: SyncDeps,
        jobs: SyncJobs,
        users: Users,
        control: JobControl,
        publish: Publish,
        *,
        interval: float,
        now: Callable[[], datetime],
    ) -> None:
        self.deps = deps
        self.jobs = jobs
        self.users = users
        self.control = control
        self.publish = publish
        self.interval = timedelta(seconds=interval)
        self._never_synced: dict[str, datetime] = {}  # user → when this run first saw them
        self.now = now
        self._running: dict[str, str] = {}  # user id → job id, jobs of this process

    async def request(self, tg: TaskGroup, user_id: str, job_type: JobType) -> SyncTicket:
        running = self._running.get(user_id)
        if running is not None:
            return SyncTicket("already_running", running)
        active = await self.jobs.active(user_id)
        if active is not None and active.owner == self.jobs.owner:
            # Ours, yet not running here: nothing will ever run it (its creation's answer was
            # lost to a stalled database, or a crash of this actor stopped it). Waiting for it
            # would refuse this user's syncs for as long as the process lives.
            await self.jobs.fail(active.id, ORPHANED, self.now())
        elif active is not None:  # another replica's job
            return SyncTicket("already_running", active.id)
        reporter = await JobReporter.create(user_id, job_type, self.jobs, self.publish, self.now)
        self._running[user_id] = reporter.job_id
        tg.start_soon(self._execute, reporter)
        return SyncTicket("started", reporter.job_id)

    async def _execute(self, reporter: JobReporter) -> None:
        try:
            with self.control.running(reporter.job_id) as scope:
                if not await reporter.started():
                    return
                error = await run_sync(self.deps, reporter)
            if scope.cancelled_caught:
                await reporter.finished("cancelled", CANCELLED)
            elif error is not None:
                await reporter.finished("failed", error)
            else:
                await reporter.finished("completed")
        except Exception as exc:
            if is_unavailable(exc):
                # Not a bug: the database is down or too busy; no traceback for that.
                log.warning("sync job failed: database unavailable", extra={"job": reporter.job_id})
            else:
                log.exception("sync job failed", extra={"job_id": reporter.job_id})
            with anyio.CancelScope(shield=True), anyio.move_on_after(5):
                try:
                    await reporter.finished(
                        "failed", DATABASE_SILENT if is_unavailable(exc) else UNEXPECTED
                    )
                except EchoStatsError:
                    log.warning("could not record the failed sync", extra={"job": reporter.job_id})
        finally:
            self._running.pop(reporter.user_id, None)

    async def start_due(self, tg: TaskGroup) -> float:
        """Start every due periodic sync; seconds until the next one is due."""
        now = self.now()
        soonest = self.interval.total_seconds()
        for user_id in await self.users.spotify_user_ids():
            if user_id in self._running:
                continue
            last = await self.jobs.last_of(user_id)
            if last is not None:
                due_at = last.created_at + self.interval
            else:  # a new user: their first sign-in asks for the initial sync, which does more
                due_at = self._never_synced.setdefault(user_id, now) + NEVER_SYNCED_GRACE
            if due_at <= now:
                ticket = await self.request(tg, user_id, "periodic")
                log.info("periodic sync", extra={"user_id": user_id, "status": ticket.status})
            else:
                soonest = min(soonest, (due_at - now).total_seconds())
        return max(0.01, min(soonest, MAX_IDLE_WAIT))


async def run(
    inbox: MemoryObjectReceiveStream[SyncRequest],
    scheduler: Scheduler,
    *,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    async with inbox, anyio.create_task_group() as tg:
        task_status.started()
        while True:
            wait = STORE_RETRY  # unless the scan below says when the next sync is due
            with skipped_while_unavailable(log, "periodic sync scan"):
                wait = await scheduler.start_due(tg)
            request: SyncRequest | None = None
            with anyio.move_on_after(wait):
                try:
                    request = await inbox.receive()
                except anyio.EndOfStream:
                    tg.cancel_scope.cancel()
                    return
            if request is not None:
                await _answer(scheduler, tg, request)


async def _answer(scheduler: Scheduler, tg: TaskGroup, request: SyncRequest) -> None:
    """Start the requested sync and say so. The reply is closed whatever happens, so the asker
    never waits for ever; a database that does not answer is the asker's 503 ("no answer"),
    and the scheduler carries on."""
    with contextlib.ExitStack() as closing:
        if request.reply is not None:
            closing.enter_context(request.reply)
        with skipped_while_unavailable(log, "sync request"):
            ticket = await scheduler.request(tg, request.user_id, request.job_type)
            if request.reply is not None:  # a caller that went away misses it; the job runs
                request.reply.send(ticket)
