"""A user's Spotify library as the syncer last saw it: playlists, top items, saved albums.

The collections' schemas are documented in ``actors/syncer.py``, which writes them. Ids are
compound (``<user_id>:<spotify id>``) so every write is an equality upsert on ``_id`` and two
users following the same playlist each keep their own copy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne

from echostats.store.boundary import Repository
from echostats.store.database import Store

Document = dict[str, Any]


def _key(user_id: str, spotify_id: str) -> str:
    return f"{user_id}:{spotify_id}"


class Playlists(Repository):
    def __init__(self, store: Store) -> None:
        self._c = store["playlists"]

    async def snapshots(self, user_id: str) -> dict[str, str | None]:
        """Stored playlist id → snapshot id of its stored items (None: items not stored)."""
        cursor = self._c.find(
            {"user_id": user_id}, {"playlist_id": 1, "items_snapshot_id": 1}
        ).sort("name_key", ASCENDING)
        return {doc["playlist_id"]: doc.get("items_snapshot_id") async for doc in cursor}

    async def save(
        self,
        user_id: str,
        meta: Mapping[str, Any],
        now: datetime,
        *,
        items: Sequence[Mapping[str, Any]] | None = None,
        items_error: str | None = None,
    ) -> None:
        """Upsert the metadata; ``items`` (with their snapshot) replace the stored rows only
        when given, so an unchanged playlist keeps its rows without being re-read."""
        fields: Document = {
            **meta,
            "user_id": user_id,
            "synced_at": now,
            "items_error": items_error,
        }
        if items is not None:
            fields["items"] = [dict(i) for i in items]
            fields["items_snapshot_id"] = meta.get("snapshot_id")
            fields["items_synced_at"] = now
        elif not meta.get("with_items"):
            fields["items"] = []
            fields["items_snapshot_id"] = None
        await self._c.update_one(
            {"_id": _key(user_id, str(meta["playlist_id"]))},
            {"$set": fields, "$setOnInsert": {"created_at": now}},
            upsert=True,
        )

    async def remove_missing(self, user_id: str, present: Iterable[str]) -> int:
        """Delete the user's playlists Spotify no longer lists (deleted or unfollowed)."""
        result = await self._c.delete_many(
            {"user_id": user_id, "playlist_id": {"$nin": list(present)}}
        )
        return result.deleted_count

    async def page(self, user_id: str, skip: int, limit: int) -> tuple[list[Document], int]:
        """By name (the ``user_name`` index serves filter and sort)."""
        query = {"user_id": user_id}
        total = await self._c.count_documents(query)
        cursor = self._c.find(query).sort("name_key", ASCENDING).skip(skip).limit(limit)
        return await cursor.to_list(), total

    async def get(self, user_id: str, playlist_id: str) -> Document | None:
        return await self._c.find_one({"_id": _key(user_id, playlist_id)})


class TopItems(Repository):
    """One document per user, kind (artists/tracks) and Spotify time range: the latest list."""

    def __init__(self, store: Store) -> None:
        self._c = store["top_items"]

    async def save(
        self,
        user_id: str,
        kind: str,
        time_range: str,
        entries: Sequence[Mapping[str, Any]],
        now: datetime,
    ) -> None:
        await self._c.update_one(
            {"_id": f"{user_id}:{kind}:{time_range}"},
            {
                "$set": {
                    "user_id": user_id,
                    "kind": kind,
                    "time_range": time_range,
                    "items": [dict(e) for e in entries],
                    "fetched_at": now,
                }
            },
            upsert=True,
        )

    async def get(self, user_id: str, kind: str, time_range: str) -> Document | None:
        return await self._c.find_one({"_id": f"{user_id}:{kind}:{time_range}"})


class SavedAlbums(Repository):
    def __init__(self, store: Store) -> None:
        self._c = store["saved_albums"]

    async def replace_all(
        self, user_id: str, albums: Sequence[Mapping[str, Any]], now: datetime
    ) -> int:
        """Upsert every saved album and drop the ones no longer saved; returns removed count."""
        if albums:
            await self._c.bulk_write(
                [
                    UpdateOne(
                        {"_id": _key(user_id, str(a["album_id"]))},
                        {"$set": {**a, "user_id": user_id, "synced_at": now}},
                        upsert=True,
                    )
                    for a in albums
                ],
                ordered=False,
            )
        result = await self._c.delete_many(
            {"user_id": user_id, "album_id": {"$nin": [a["album_id"] for a in albums]}}
        )
        return result.deleted_count

    async def page(self, user_id: str, skip: int, limit: int) -> tuple[list[Document], int]:
        query = {"user_id": user_id}
        total = await self._c.count_documents(query)
        cursor = self._c.find(query).sort("added_at", DESCENDING).skip(skip).limit(limit)
        return await cursor.to_list(), total
