"""Sync jobs: what the pipeline did or will do for a user, with steps and progress."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from echostats.store.database import Store

JobType = Literal["initial", "periodic", "manual", "import", "rollup_build"]
JobStatus = Literal["pending", "running", "completed", "failed", "cancelled"]


class SyncJobs:
    def __init__(self, store: Store) -> None:
        self._c = store["sync_jobs"]

    async def create(
        self, user_id: str, job_type: JobType, now: datetime, status: JobStatus = "pending"
    ) -> str:
        job_id = uuid.uuid4().hex
        doc: dict[str, Any] = {
            "_id": job_id,
            "user_id": user_id,
            "job_type": job_type,
            "status": status,
            "items_processed": 0,
            "items_total": None,
            "error_message": None,
            "started_at": None,
            "completed_at": None,
            "created_at": now,
            "steps": [],
        }
        await self._c.insert_one(doc)
        return job_id

    async def for_user(self, user_id: str) -> list[dict[str, Any]]:
        return await self._c.find({"user_id": user_id}).sort("created_at", -1).to_list()
