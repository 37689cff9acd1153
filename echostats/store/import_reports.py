"""The ``report`` of an import job, stored on its ``sync_jobs`` document.

Kept apart from ``sync_jobs.py`` (which owns the job's life cycle) because only imports have a
report: per file and in total, rows read, plays stored and counts per skip reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from echostats.store.boundary import Repository
from echostats.store.database import Store


class ImportReports(Repository):
    def __init__(self, store: Store) -> None:
        self._c = store["sync_jobs"]

    async def save(self, job_id: str, report: Mapping[str, Any]) -> None:
        await self._c.update_one({"_id": job_id}, {"$set": {"report": dict(report)}})

    async def get(self, job_id: str) -> dict[str, Any] | None:
        doc = await self._c.find_one({"_id": job_id}, {"report": 1})
        if doc is None or doc.get("report") is None:
            return None
        report: dict[str, Any] = doc["report"]
        return report
