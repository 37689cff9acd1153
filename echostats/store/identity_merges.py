"""A person's merges of tracks, artists and albums (``echostats.domain.identity.Merge``).

``identity_merges``: ``{_id, user_id, kind, source, target, source_name, target_name,
created_at}`` — the names as they read when the merge was made, since afterwards the source's
name resolves to the target's; the list is small
(people merge by hand), read whole whenever the user's ledger changes. Every change moves the
user's ledger head, so every cached view picks it up at its next read.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from echostats.domain.identity import Kind, Merge
from echostats.store.boundary import Repository
from echostats.store.collections import Collections
from echostats.store.ledger import LedgerStore

COLLECTION = "identity_merges"


@dataclass(frozen=True, slots=True)
class MergeRecord:
    """A merge as the person made it: what, the two names then, and when."""

    merge: Merge
    source_name: str
    target_name: str
    created_at: datetime


def _merge(doc: dict[str, object]) -> Merge:
    return Merge(str(doc["_id"]), Kind(str(doc["kind"])), str(doc["source"]), str(doc["target"]))


class IdentityMerges(Repository):
    def __init__(self, db: Collections) -> None:
        self._merges = db[COLLECTION]
        self._ledger = LedgerStore(db)

    async def of_user(self, user_id: str) -> list[Merge]:
        """The user's merges, oldest first (the order they are applied in)."""
        return [r.merge for r in await self.records(user_id)]

    async def records(self, user_id: str) -> list[MergeRecord]:
        docs = await self._merges.find({"user_id": user_id}).sort("created_at", 1).to_list()
        return [
            MergeRecord(
                _merge(d),
                str(d.get("source_name") or d["source"]),
                str(d.get("target_name") or d["target"]),
                d["created_at"],
            )
            for d in docs
        ]

    async def add(
        self,
        user_id: str,
        kind: Kind,
        source: str,
        target: str,
        now: datetime,
        *,
        names: tuple[str, str] | None = None,
    ) -> MergeRecord:
        """Fold ``source`` into ``target``; ``names``: how the two read now (default: keys)."""
        made = Merge(uuid.uuid4().hex, kind, source, target)
        names = names or (source, target)
        await self._merges.insert_one(
            {
                "_id": made.id,
                "user_id": user_id,
                "kind": made.kind.value,
                "source": made.source,
                "target": made.target,
                "source_name": names[0],
                "target_name": names[1],
                "created_at": now,
            }
        )
        await self._ledger.move_head(user_id, {}, {})
        return MergeRecord(made, names[0], names[1], now)

    async def remove(self, user_id: str, merge_id: str) -> bool:
        result = await self._merges.delete_one({"_id": merge_id, "user_id": user_id})
        if result.deleted_count:
            await self._ledger.move_head(user_id, {}, {})
        return bool(result.deleted_count)
