"""Catalog data in ``catalog_tracks``, ``catalog_artists`` and ``catalog_albums`` (``_id``: id).

Written only by the enricher (schema in ``actors/enricher.py``); read by whatever shows names,
images and durations. Every lookup is an equality or ``$in`` on ``_id``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, Literal

from echostats.store.database import Store
from echostats.store.walk import walk_plays

Kind = Literal["tracks", "artists", "albums"]
State = Literal["enriched", "not_found"]
KINDS: tuple[Kind, ...] = ("tracks", "artists", "albums")
Document = dict[str, Any]
_IDS = {"track_id": 1, "artist_ids": 1, "album_id": 1, "_id": 0}


class Catalog:
    def __init__(self, store: Store) -> None:
        self._store = store

    def _c(self, kind: Kind) -> Any:
        return self._store[f"catalog_{kind}"]

    async def known(self, kind: Kind, ids: Collection[str]) -> set[str]:
        """Which of ``ids`` already have an entry (enriched or known to be missing)."""
        if not ids:
            return set()
        cursor = self._c(kind).find({"_id": {"$in": list(ids)}}, {"_id": 1})
        return {doc["_id"] async for doc in cursor}

    async def save(
        self,
        kind: Kind,
        spotify_id: str,
        fields: Mapping[str, Any],
        now: datetime,
        state: State = "enriched",
    ) -> None:
        await self._c(kind).update_one(
            {"_id": spotify_id},
            {"$set": {**fields, "state": state, "enriched_at": now}},
            upsert=True,
        )

    async def get(self, kind: Kind, spotify_id: str) -> Document | None:
        doc: Document | None = await self._c(kind).find_one({"_id": spotify_id})
        return doc

    async def many(self, kind: Kind, ids: Collection[str]) -> dict[str, Document]:
        if not ids:
            return {}
        cursor = self._c(kind).find({"_id": {"$in": list(ids)}})
        return {doc["_id"]: doc async for doc in cursor}

    async def count(self, kind: Kind) -> int:
        count: int = await self._c(kind).count_documents({})
        return count


class RecentPlays:
    """The enricher's view of plays: the newest ids a user played (what the dashboard shows)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def newest(self, user_id: str, limit: int) -> list[Document]:
        out: list[Document] = []
        if limit <= 0:
            return out
        async for doc in walk_plays(self._store, user_id, _IDS, newest_first=True):
            out.append(doc)
            if len(out) >= limit:
                break
        return out
