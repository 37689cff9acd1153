"""``JobReporter``: the one way an actor records a job's life AND tells browsers about it.

Every change is written to ``sync_jobs`` first and then published on ``topics.sync_jobs(uid)``,
so an event never announces something the database does not hold. Events (all carry ``job_id``):

- ``job`` (``JobChanged``): ``{"job_id", "change": "created" | "updated", "job": <public job>}``
- ``progress`` (``JobProgress``): ``{"job_id", "items_processed", "items_total", "step"}``;
  throttled to one per ``min_interval`` (a 100k-row import must not flood browsers or the
  database); the last value is always written when a step or the job finishes.
- ``finished`` (``JobFinished``): ``{"job_id", "status", "error_message", "items_processed",
  "job"}``; the last event of a job (the per-job stream closes after it).

Producers build these frozen classes and ``actors.events.event_of`` makes the ``Event``; consumers
(the metrics, the per-job stream, ``echostats import``) read one back with ``read_job_event``
instead of picking the event's data apart by key.

Use (import, ledger build and sync jobs alike)::

    reporter = await JobReporter.create(user_id, "import", jobs, publish, now)
    with pipeline.jobs.running(reporter.job_id) as scope:
        await reporter.started()
        async with reporter.step("parse", detail="3 files"):
            await reporter.progress(1_000, 50_000, "parse")
    if scope.cancelled_caught:
        await reporter.finished("cancelled")
    else:
        await reporter.finished("completed")

A step that raises is recorded ``failed`` with the exception's sentence; the exception goes on.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, ClassVar, Literal

import anyio

from actors import topics
from actors.events import Event, event_of
from echostats.errors import EchoStatsError
from echostats.store.sync_jobs import JobStatus, JobType, SyncJob, SyncJobs

Publish = Callable[[Event], object]
StepStatus = Literal["running", "completed", "failed", "skipped"]
MIN_PROGRESS_INTERVAL = 0.25  # seconds: at most four progress events per second per job


# --- the events, typed -------------------------------------------------------------------------


@dataclass(frozen=True)
class JobChanged:
    """``job``: the job was created or changed; ``job`` is its public form."""

    NAME: ClassVar[str] = "job"
    job_id: str
    change: Literal["created", "updated"]
    job: Mapping[str, Any]

    @classmethod
    def of(cls, job: SyncJob, change: Literal["created", "updated"]) -> JobChanged:
        return cls(job.id, change, job.public())


@dataclass(frozen=True)
class JobProgress:
    """``progress``: a running total of the job's items."""

    NAME: ClassVar[str] = "progress"
    job_id: str
    items_processed: int
    items_total: int | None = None
    step: str | None = None


@dataclass(frozen=True)
class JobFinished:
    """``finished``: the job's last event."""

    NAME: ClassVar[str] = "finished"
    job_id: str
    status: JobStatus
    error_message: str | None = None
    items_processed: int = 0
    job: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, job: SyncJob) -> JobFinished:
        return cls(job.id, job.status, job.error_message, job.items_processed, job.public())


JobEvent = JobChanged | JobProgress | JobFinished
_KINDS: dict[str, type[JobEvent]] = {
    kind.NAME: kind for kind in (JobChanged, JobProgress, JobFinished)
}


def read_job_event(event: Event) -> JobEvent | None:
    """The job event ``event`` carries (one bridged from another replica too); None for any
    other event or one without a job id."""
    kind = _KINDS.get(event.name)
    if kind is None or not isinstance(event.data.get("job_id"), str):
        return None
    known = {f.name for f in fields(kind)}
    return kind(**{key: value for key, value in event.data.items() if key in known})


class JobReporter:
    def __init__(
        self,
        user_id: str,
        job_id: str,
        jobs: SyncJobs,
        publish: Publish,
        now: Callable[[], datetime],
        *,
        min_interval: float = MIN_PROGRESS_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.user_id = user_id
        self.job_id = job_id
        self._jobs = jobs
        self._publish = publish
        self._now = now
        self._min_interval = min_interval
        self._clock = clock
        self._last_progress = float("-inf")
        self.items_processed = 0
        self.items_total: int | None = None
        self.steps: list[dict[str, Any]] = []

    @classmethod
    async def create(
        cls,
        user_id: str,
        job_type: JobType,
        jobs: SyncJobs,
        publish: Publish,
        now: Callable[[], datetime],
        **options: Any,
    ) -> JobReporter:
        """A new pending job, announced as ``job`` / ``created``."""
        job_id = await jobs.create(user_id, job_type, now())
        reporter = cls(user_id, job_id, jobs, publish, now, **options)
        await reporter._announce("created")
        return reporter

    @property
    def topic(self) -> str:
        return topics.sync_jobs(self.user_id)

    def _emit(self, payload: JobEvent) -> None:
        self._publish(event_of(self.topic, payload))

    async def _announce(self, change: Literal["created", "updated"]) -> None:
        found = await self._jobs.get(self.user_id, self.job_id)
        if found is not None:
            self._emit(JobChanged.of(found, change))

    async def started(self) -> bool:
        """pending → running; False when the job was cancelled or closed before it started."""
        if await self._jobs.start(self.job_id, self._now()) is None:
            return False
        await self._announce("updated")
        return True

    async def progress(
        self,
        items_processed: int,
        items_total: int | None = None,
        step: str | None = None,
        *,
        force: bool = False,
        persist: bool = True,
    ) -> None:
        """Record and announce progress (at most every ``min_interval`` unless ``force``).
        ``persist=False`` only announces it: a heartbeat that must not wait behind the store's
        current write; the job document catches up at the next persisted call."""
        self.items_processed = items_processed
        if items_total is not None:
            self.items_total = items_total
        moment = self._clock()
        if not force and moment - self._last_progress < self._min_interval:
            return
        self._last_progress = moment
        if persist:
            await self._jobs.progress(self.job_id, self.items_processed, self.items_total)
        self._emit(JobProgress(self.job_id, self.items_processed, self.items_total, step))

    async def add_items(self, count: int, step: str | None = None) -> None:
        await self.progress(self.items_processed + count, None, step)

    async def step_started(self, action: str, detail: str | None = None) -> None:
        self.steps.append(
            {
                "action": action,
                "status": "running",
                "detail": detail,
                "items": 0,
                "error": None,
                "started_at": self._now(),
                "completed_at": None,
            }
        )
        await self._jobs.set_steps(self.job_id, self.steps)
        await self._announce("updated")

    async def step_finished(
        self,
        action: str,
        status: StepStatus = "completed",
        *,
        items: int | None = None,
        detail: str | None = None,
        error: str | None = None,
    ) -> None:
        step = next((s for s in reversed(self.steps) if s["action"] == action), None)
        if step is None:
            raise ValueError(f"step {action!r} was never started")
        step["status"] = status
        step["completed_at"] = self._now()
        if items is not None:
            step["items"] = items
        if detail is not None:
            step["detail"] = detail
        step["error"] = error
        await self._jobs.set_steps(self.job_id, self.steps)
        await self.progress(self.items_processed, self.items_total, action, force=True)
        await self._announce("updated")

    @contextlib.asynccontextmanager
    async def step(self, action: str, detail: str | None = None) -> AsyncIterator[dict[str, Any]]:
        """Run a step: yields its record (set ``items``/``detail`` on it); an exception marks
        it failed, cancellation marks it cancelled-as-failed, and both propagate."""
        await self.step_started(action, detail)
        record = self.steps[-1]
        try:
            yield record
        except Exception as exc:
            sentence = (
                exc.detail
                if isinstance(exc, EchoStatsError)
                else "An unexpected error stopped this step; it has been logged."
            )
            with anyio.CancelScope(shield=True):
                await self.step_finished(action, "failed", items=record["items"], error=sentence)
            raise
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):
                await self.step_finished(action, "failed", items=record["items"], error="cancelled")
            raise
        await self.step_finished(action, "completed", items=record["items"])

    async def finished(self, status: JobStatus, error: str | None = None) -> bool:
        """Close the job (once) and send ``finished``; False when it was already closed."""
        closed = await self._jobs.finish(
            self.job_id,
            status,
            self._now(),
            error_message=error,
            items_processed=self.items_processed,
            items_total=self.items_total,
        )
        if closed is None:
            return False
        self._emit(JobChanged.of(closed, "updated"))
        self._emit(JobFinished.of(closed))
        return True
