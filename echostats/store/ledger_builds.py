"""Which users' ledgers must be (re)built, and how far a build got.

``ledger_builds``: ``{_id: user_id, state: "pending" | "done", after: "<YYYY-MM>" | None,
done_at}``. A build marks itself pending when it starts and records each month it finishes,
so a stop (or a crash) leaves a pending build that the next start continues after ``after``.
The upgrade to the ledger marks every existing user pending (``store.migrations``).
"""

from __future__ import annotations

from datetime import datetime

from echostats.store.boundary import Repository
from echostats.store.collections import Collections

COLLECTION = "ledger_builds"


class LedgerBuilds(Repository):
    def __init__(self, db: Collections) -> None:
        self._builds = db[COLLECTION]

    async def requested(self, user_id: str, after: str | None) -> None:
        await self._builds.update_one(
            {"_id": user_id}, {"$set": {"state": "pending", "after": after}}, upsert=True
        )

    async def built_through(self, user_id: str, month: str) -> None:
        await self._builds.update_one({"_id": user_id}, {"$set": {"after": month}})

    async def done(self, user_id: str, now: datetime) -> None:
        await self._builds.update_one(
            {"_id": user_id}, {"$set": {"state": "done", "after": None, "done_at": now}}
        )

    async def pending(self) -> list[tuple[str, str | None]]:
        docs = await self._builds.find({"state": "pending"}).to_list()
        return [(str(d["_id"]), d.get("after")) for d in docs]
