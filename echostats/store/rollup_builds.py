"""Storage of rollup rebuilds: the raw plays they read, the day documents they write, their job.

Every job-document write of a rebuild is in ``RollupBuildJobs`` (one place, so it can move onto
the shared job reporter without touching the builder).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from pymongo import ASCENDING, DESCENDING, ReplaceOne

from echostats.domain.plays import Play, from_document
from echostats.store.database import Store
from echostats.store.sync_jobs import SyncJobs

Document = dict[str, Any]
JOB_TYPE: Literal["rollup_build"] = "rollup_build"
ACTIVE = ["pending", "running"]
WRITE_BATCH = 500


class RollupBuildJobs:
    def __init__(self, store: Store) -> None:
        self._jobs = store["sync_jobs"]
        self._sync_jobs = SyncJobs(store)

    async def active(self, user_id: str) -> str | None:
        doc = await self._jobs.find_one(
            {"user_id": user_id, "job_type": JOB_TYPE, "status": {"$in": ACTIVE}},
            {"_id": 1},
            sort=[("created_at", DESCENDING)],
        )
        return str(doc["_id"]) if doc else None

    async def create(self, user_id: str, now: datetime) -> str:
        return await self._sync_jobs.create(user_id, JOB_TYPE, now)

    async def started(self, job_id: str, total: int, now: datetime) -> None:
        await self._jobs.update_one(
            {"_id": job_id},
            {
                "$set": {"status": "running", "started_at": now, "items_total": total},
                "$push": {
                    "steps": {
                        "action": "rebuild_rollups",
                        "status": "running",
                        "detail": "reading stored plays",
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


class RollupWriter:
    """Reads every counted play of a user and replaces that user's day documents."""

    def __init__(self, store: Store) -> None:
        self._plays = store["plays"]
        self._rollups = store["rollups"]

    async def count_counted(self, user_id: str) -> int:
        return await self._plays.count_documents({"user_id": user_id, "counted": True})

    async def counted_plays(self, user_id: str) -> AsyncIterator[Play]:
        cursor = self._plays.find(
            {"user_id": user_id, "counted": True}, {"_id": 0, "batch": 0}
        ).hint([("user_id", ASCENDING), ("ended_at", DESCENDING)])
        async for doc in cursor:
            yield from_document(doc)

    async def replace_days(
        self, user_id: str, docs: Sequence[Mapping[str, Any]], build_id: str
    ) -> None:
        """Each day is replaced whole (atomic per document); days no play fills any more go.

        ``applied`` starts with the build id, so the journal's redo guard keeps working.
        """
        for offset in range(0, len(docs), WRITE_BATCH):
            operations = [
                ReplaceOne(
                    {"user_id": user_id, "day": doc["day"]},
                    {**doc, "user_id": user_id, "applied": [build_id]},
                    upsert=True,
                )
                for doc in docs[offset : offset + WRITE_BATCH]
            ]
            await self._rollups.bulk_write(operations, ordered=False)
        await self._rollups.delete_many(
            {"user_id": user_id, "day": {"$nin": [doc["day"] for doc in docs]}}
        )
