"""The job documents of ledger builds (job type ``rollup_build``, its name in the API
contract; the building itself is ``store.ledger_build``).

Every job-document write of a build is in ``RollupBuildJobs`` (one place, so it can move onto
the shared job reporter without touching the builder).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pymongo import DESCENDING

from echostats.store.boundary import Repository
from echostats.store.database import Store
from echostats.store.sync_jobs import SyncJobs

Document = dict[str, Any]
JOB_TYPE: Literal["rollup_build"] = "rollup_build"
ACTIVE = ["pending", "running"]


class RollupBuildJobs(Repository):
    def __init__(self, store: Store, owner: str = "") -> None:
        self._jobs = store["sync_jobs"]
        self._sync_jobs = SyncJobs(store, owner)

    async def active(self, user_id: str) -> str | None:
        doc = await self._jobs.find_one(
            {"user_id": user_id, "job_type": JOB_TYPE, "status": {"$in": ACTIVE}},
            {"_id": 1},
            sort=[("created_at", DESCENDING)],
        )
        return str(doc["_id"]) if doc else None

    async def create(self, user_id: str, now: datetime) -> str:
        return await self._sync_jobs.create(user_id, JOB_TYPE, now)

    async def started(self, job_id: str, total: int | None, now: datetime) -> None:
        await self._jobs.update_one(
            {"_id": job_id},
            {
                "$set": {"status": "running", "started_at": now, "items_total": total},
                "$push": {
                    "steps": {
                        "action": "build_ledger",
                        "status": "running",
                        "detail": "reading the stored plays month by month",
                        "items": 0,
                        "error": None,
                        "started_at": now,
                        "completed_at": None,
                    }
                },
            },
        )

    async def progress(self, job_id: str, processed: int) -> None:
        await self._jobs.update_one(
            {"_id": job_id}, {"$set": {"items_processed": processed, "steps.0.items": processed}}
        )

    async def finished(
        self, job_id: str, status: str, processed: int, now: datetime, error: str | None = None
    ) -> None:
        await self._jobs.update_one(
            {"_id": job_id},
            {
                "$set": {
                    "status": status,
                    "items_processed": processed,
                    "error_message": error,
                    "completed_at": now,
                    "steps.0.status": status,
                    "steps.0.items": processed,
                    "steps.0.error": error,
                    "steps.0.completed_at": now,
                }
            },
        )

    async def last_completed_at(self, user_id: str) -> datetime | None:
        doc = await self._jobs.find_one(
            {"user_id": user_id, "job_type": JOB_TYPE, "status": "completed"},
            {"completed_at": 1},
            sort=[("created_at", DESCENDING)],
        )
        return doc["completed_at"] if doc else None
