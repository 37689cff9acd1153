"""Per-key leases so exactly one app instance does a job (e.g. ``poll:<user id>``).

A lease is ``{_id: key, owner: <instance id>, expires_at}``. Acquiring and renewing are one atomic
``find_one_and_update`` that matches only when the caller already owns the lease or it has
expired; when another owner holds a live lease the filter misses, the upsert tries to insert the
same ``_id`` and gets a duplicate-key error: lost. Clocks of the instances are assumed to agree
to well within the TTL (NTP); time comes from the caller so tests can step it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from echostats.store.boundary import Repository
from echostats.store.database import Store


def poll_lease(user_id: str) -> str:
    return f"poll:{user_id}"


class Leases(Repository):
    def __init__(self, store: Store, owner: str) -> None:
        self._c = store["leases"]
        self.owner = owner

    async def acquire(self, key: str, now: datetime, ttl: float) -> bool:
        """Take or renew ``key`` until ``now + ttl``; False if another live owner holds it."""
        try:
            doc = await self._c.find_one_and_update(
                {"_id": key, "$or": [{"owner": self.owner}, {"expires_at": {"$lte": now}}]},
                {"$set": {"owner": self.owner, "expires_at": now + timedelta(seconds=ttl)}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            return False
        return doc is not None and doc.get("owner") == self.owner

    async def release(self, key: str) -> None:
        """Give ``key`` up at once (shutdown) so another instance need not wait for expiry."""
        await self._c.delete_one({"_id": key, "owner": self.owner})

    async def holder(self, key: str) -> str | None:
        doc = await self._c.find_one({"_id": key}, {"owner": 1})
        return None if doc is None else str(doc["owner"])
