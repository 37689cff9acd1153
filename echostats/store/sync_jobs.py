"""Sync jobs: what the pipeline did or does for a user, with steps and progress.

One document per job in ``sync_jobs`` (TTL 90 days on ``created_at``)::

    {_id: "<hex id>", user_id, job_type: initial|periodic|manual|import|rollup_build,
     status: pending|running|completed|failed|cancelled,
     items_processed: int, items_total: int | null, error_message: str | null,
     created_at, started_at | null, completed_at | null,
     owner: "<instance id>", heartbeat_at,
     steps: [{action, status: running|completed|failed|skipped, detail, items, error,
              started_at, completed_at}]}

This module is the only writer of ``sync_jobs`` (an import's ``report`` and a ledger build's
single step included), and every read returns a frozen ``SyncJob``, never the raw document.
Actors write through ``actors.job_events.JobReporter`` (which also publishes the events) or,
for ledger builds, ``start_single_step``/``single_step_progress``/``close_single_step``; the
API reads through ``get``/``page``/``stats`` and shows ``SyncJob.public()``. The whole ``steps``
array is written each time a step changes (a job has a handful of steps).

Replicas may share the database, so a job is abandoned only when its ``owner`` (the instance that
created it) stopped renewing its ``heartbeat_at``: another replica starting up must not fail jobs
that are still running elsewhere (``actors.job_keeper`` beats and sweeps).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, Literal, get_args

from pymongo import DESCENDING

from echostats.store.boundary import Repository
from echostats.store.database import Store

JobType = Literal["initial", "periodic", "manual", "import", "rollup_build"]
JobStatus = Literal["pending", "running", "completed", "failed", "cancelled"]
JOB_TYPES: tuple[str, ...] = get_args(JobType)
JOB_STATUSES: tuple[str, ...] = get_args(JobStatus)
SYNC_TYPES: tuple[JobType, ...] = ("initial", "periodic", "manual")
ACTIVE: tuple[JobStatus, ...] = ("pending", "running")
FINAL: tuple[JobStatus, ...] = ("completed", "failed", "cancelled")
INTERRUPTED_SENTENCE = (
    "The service stopped while this job was running; it was not finished and can be run again."
)

Document = dict[str, Any]


@dataclass(frozen=True)
class JobStep:
    action: str
    status: str  # running | completed | failed | skipped
    detail: str | None = None
    items: int = 0
    error: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> JobStep:
        return cls(
            action=str(doc["action"]),
            status=str(doc["status"]),
            detail=doc.get("detail"),
            items=int(doc.get("items") or 0),
            error=doc.get("error"),
            started_at=doc.get("started_at"),
            completed_at=doc.get("completed_at"),
        )


@dataclass(frozen=True)
class SyncJob:
    """One stored job, as every reader of ``sync_jobs`` gets it."""

    id: str
    user_id: str
    job_type: JobType
    status: JobStatus
    created_at: datetime
    items_processed: int = 0
    items_total: int | None = None
    error_message: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    owner: str = ""
    heartbeat_at: datetime | None = None
    steps: tuple[JobStep, ...] = ()
    report: Mapping[str, Any] | None = None  # imports only: rows, stored, skips per reason

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> SyncJob:
        report = doc.get("report")
        return cls(
            id=str(doc["_id"]),
            user_id=str(doc["user_id"]),
            job_type=doc["job_type"],
            status=doc["status"],
            created_at=doc["created_at"],
            items_processed=int(doc.get("items_processed") or 0),
            items_total=doc.get("items_total"),
            error_message=doc.get("error_message"),
            started_at=doc.get("started_at"),
            completed_at=doc.get("completed_at"),
            owner=str(doc.get("owner") or ""),
            heartbeat_at=doc.get("heartbeat_at"),
            steps=tuple(JobStep.from_document(step) for step in doc.get("steps") or ()),
            report=MappingProxyType(report) if report is not None else None,
        )

    @property
    def final(self) -> bool:
        return self.status in FINAL

    def public(self) -> Document:
        """The job as the API and the events show it (``id``, no user id or owner)."""
        return {
            "id": self.id,
            "job_type": self.job_type,
            "status": self.status,
            "items_processed": self.items_processed,
            "items_total": self.items_total,
            "error_message": self.error_message,
            "started_at": self.started_at,
            "completed_at": self.completed_at,
            "created_at": self.created_at,
            "steps": [asdict(step) for step in self.steps],
            "report": dict(self.report) if self.report is not None else None,
        }


def _job(doc: Mapping[str, Any] | None) -> SyncJob | None:
    return SyncJob.from_document(doc) if doc is not None else None


class SyncJobs(Repository):
    def __init__(self, store: Store, owner: str = "") -> None:
        """``owner``: the instance id stamped on the jobs this object creates."""
        self._c = store["sync_jobs"]
        self.owner = owner

    # --- writing -------------------------------------------------------------------------------

    async def create(
        self, user_id: str, job_type: JobType, now: datetime, status: JobStatus = "pending"
    ) -> str:
        job_id = uuid.uuid4().hex
        doc: Document = {
            "_id": job_id,
            "user_id": user_id,
            "job_type": job_type,
            "status": status,
            "items_processed": 0,
            "items_total": None,
            "error_message": None,
            "started_at": now if status == "running" else None,
            "completed_at": None,
            "created_at": now,
            "owner": self.owner,
            "heartbeat_at": now,
            "steps": [],
        }
        await self._c.insert_one(doc)
        return job_id

    async def start(self, job_id: str, now: datetime) -> SyncJob | None:
        """pending → running; None when the job is not pending (cancelled meanwhile)."""
        return _job(
            await self._c.find_one_and_update(
                {"_id": job_id, "status": "pending"},
                {"$set": {"status": "running", "started_at": now}},
                return_document=True,
            )
        )

    async def set_steps(self, job_id: str, steps: Sequence[Mapping[str, Any]]) -> None:
        await self._c.update_one({"_id": job_id}, {"$set": {"steps": [dict(s) for s in steps]}})

    async def progress(self, job_id: str, items_processed: int, items_total: int | None) -> None:
        await self._c.update_one(
            {"_id": job_id, "status": {"$in": list(ACTIVE)}},
            {"$set": {"items_processed": items_processed, "items_total": items_total}},
        )

    async def finish(
        self,
        job_id: str,
        status: JobStatus,
        now: datetime,
        *,
        error_message: str | None = None,
        items_processed: int | None = None,
        items_total: int | None = None,
    ) -> SyncJob | None:
        """Close an active job; None when it was already final (a job finishes once)."""
        if status not in FINAL:
            raise ValueError(f"{status!r} is not a final status")
        fields: Document = {"status": status, "completed_at": now, "error_message": error_message}
        if items_processed is not None:
            fields["items_processed"] = items_processed
        if items_total is not None:
            fields["items_total"] = items_total
        return _job(
            await self._c.find_one_and_update(
                {"_id": job_id, "status": {"$in": list(ACTIVE)}},
                {"$set": fields},
                return_document=True,
            )
        )

    async def cancel(self, job_id: str, now: datetime) -> SyncJob | None:
        return await self.finish(
            job_id, "cancelled", now, error_message="The job was cancelled on request."
        )

    async def fail(self, job_id: str, sentence: str, now: datetime) -> SyncJob | None:
        return await self.finish(job_id, "failed", now, error_message=sentence)

    async def save_report(self, job_id: str, report: Mapping[str, Any]) -> None:
        """An import's report (per file and in total: rows read, plays stored, skips per
        reason), replaced whole each time."""
        await self._c.update_one({"_id": job_id}, {"$set": {"report": dict(report)}})

    # A ledger build is a job of one step, written without a JobReporter (it sends no job
    # events): running with its step, progress in the job and the step, then closed.

    async def start_single_step(
        self, job_id: str, action: str, detail: str, now: datetime, items_total: int | None
    ) -> None:
        step = JobStep(action, "running", detail, 0, None, now, None)
        await self._c.update_one(
            {"_id": job_id},
            {
                "$set": {
                    "status": "running",
                    "started_at": now,
                    "items_total": items_total,
                    "steps": [asdict(step)],
                }
            },
        )

    async def single_step_progress(self, job_id: str, items_processed: int) -> None:
        await self._c.update_one(
            {"_id": job_id},
            {"$set": {"items_processed": items_processed, "steps.0.items": items_processed}},
        )

    async def close_single_step(
        self,
        job_id: str,
        status: JobStatus,
        items_processed: int,
        now: datetime,
        error: str | None = None,
    ) -> None:
        await self._c.update_one(
            {"_id": job_id},
            {
                "$set": {
                    "status": status,
                    "items_processed": items_processed,
                    "error_message": error,
                    "completed_at": now,
                    "steps.0.status": status,
                    "steps.0.items": items_processed,
                    "steps.0.error": error,
                    "steps.0.completed_at": now,
                }
            },
        )

    async def beat(self, now: datetime) -> None:
        """This owner is alive: renew the heartbeat of its pending and running jobs."""
        await self._c.update_many(
            {"owner": self.owner, "status": {"$in": list(ACTIVE)}}, {"$set": {"heartbeat_at": now}}
        )

    async def fail_abandoned(
        self, now: datetime, stale_before: datetime, *, at_start: bool = False
    ) -> int:
        """Fail the pending or running jobs whose process is gone (they can never finish): other
        owners' jobs whose heartbeat stopped at or before ``stale_before`` and, ``at_start`` (before
        this process created any job), this owner's own, left by an earlier run under the same
        instance id. Returns how many."""
        others = {"owner": {"$ne": self.owner}}
        gone: list[Document] = [
            {**others, "heartbeat_at": {"$lte": stale_before}},
            {**others, "heartbeat_at": {"$exists": False}},  # written before heartbeats existed
        ]
        if at_start:
            gone.append({"owner": self.owner})
        result = await self._c.update_many(
            {"status": {"$in": list(ACTIVE)}, "$or": gone},
            {
                "$set": {
                    "status": "failed",
                    "completed_at": now,
                    "error_message": INTERRUPTED_SENTENCE,
                }
            },
        )
        return result.modified_count

    # --- reading -------------------------------------------------------------------------------

    async def get(self, user_id: str, job_id: str) -> SyncJob | None:
        """The user's job; another user's job is as absent as a missing one."""
        return _job(await self._c.find_one({"_id": job_id, "user_id": user_id}))

    async def active(
        self, user_id: str, job_types: Sequence[JobType] = SYNC_TYPES
    ) -> SyncJob | None:
        """The newest pending or running job of these types, if any."""
        return _job(
            await self._c.find_one(
                {
                    "user_id": user_id,
                    "status": {"$in": list(ACTIVE)},
                    "job_type": {"$in": list(job_types)},
                },
                sort=[("created_at", DESCENDING)],
            )
        )

    async def page(
        self,
        user_id: str,
        *,
        skip: int,
        limit: int,
        status: JobStatus | None = None,
        job_type: JobType | None = None,
    ) -> tuple[list[SyncJob], int]:
        """Newest first. The user_created index serves the filter prefix and the sort; a user
        has at most a few thousand jobs (TTL), so status/type are filtered from that range."""
        query: Document = {"user_id": user_id}
        if status is not None:
            query["status"] = status
        if job_type is not None:
            query["job_type"] = job_type
        total = await self._c.count_documents(query)
        cursor = self._c.find(query).sort("created_at", DESCENDING).skip(skip).limit(limit)
        return [SyncJob.from_document(doc) for doc in await cursor.to_list()], total

    async def last_of(
        self, user_id: str, job_types: Sequence[JobType] = SYNC_TYPES
    ) -> SyncJob | None:
        """The newest job of these types, whatever its status."""
        return _job(
            await self._c.find_one(
                {"user_id": user_id, "job_type": {"$in": list(job_types)}},
                sort=[("created_at", DESCENDING)],
            )
        )

    async def last_completed(
        self, user_id: str, job_types: Sequence[JobType] = SYNC_TYPES
    ) -> SyncJob | None:
        """The newest completed job of these types."""
        return _job(
            await self._c.find_one(
                {"user_id": user_id, "job_type": {"$in": list(job_types)}, "status": "completed"},
                sort=[("created_at", DESCENDING)],
            )
        )

    async def stats(self, user_id: str) -> Document:
        """Counts by status, items synced by completed jobs, and when a sync last finished."""
        rows = await self._c.aggregate(
            [
                {"$match": {"user_id": user_id}},
                {
                    "$group": {
                        "_id": "$status",
                        "count": {"$sum": 1},
                        "items": {"$sum": "$items_processed"},
                    }
                },
            ]
        )
        by_status = {row["_id"]: row async for row in rows}
        last = await self.last_completed(user_id)
        return {
            "total_jobs": sum(int(row["count"]) for row in by_status.values()),
            "completed": int(by_status.get("completed", {}).get("count", 0)),
            "failed": int(by_status.get("failed", {}).get("count", 0)),
            "running": sum(int(by_status.get(s, {}).get("count", 0)) for s in ACTIVE),
            "total_items_synced": int(by_status.get("completed", {}).get("items", 0)),
            "last_sync_at": last.completed_at if last else None,
        }
