"""Read side of analytics: rollup day documents, raw plays by range, display names and catalog.

Every query here starts with an equality on ``user_id`` and a range or sort that a declared
compound index covers (``rollups.user_day``, ``plays.user_ended``, ``plays.user_track_ended``);
the plans are checked by ``tests/store/test_analytics_plans.py``.

Raw-play range queries bound ``ended_at`` from below only: a play starts at or before it ends,
so ``ended_at >= start`` is exact, but an offline play can end (be reported) days after it
started, so no upper bound on ``ended_at`` is safe; ``started_at < end`` is filtered on the
server. Cost: the scan covers every play that ended after the range start.

Display names: rollups hold keys only. ``names`` is a per-user cache (``_id`` = user|kind|key)
filled at read time by walking the user's plays newest first until every missing key is seen;
popular keys are found within the first few hundred plays, and every key met on the way is
cached, so a cold page costs one walk and every later page one ``$in`` on ``_id``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import BulkWriteError

from echostats.domain.plays import Play, album_key, artist_key, from_document
from echostats.store.database import Store

Document = dict[str, Any]
HistoryQuery = dict[str, Any]  # a plays filter starting with ``user_id`` equality
DUPLICATE_KEY = 11000
USER_ENDED = [("user_id", ASCENDING), ("ended_at", DESCENDING)]
USER_DAY = [("user_id", ASCENDING), ("day", ASCENDING)]
# Names are harvested from plays in pages this large (documents, projected to names only).
HARVEST_BATCH = 2_000
_NAME_FIELDS = {
    "track_key": 1,
    "track_id": 1,
    "track_name": 1,
    "artist_names": 1,
    "artist_ids": 1,
    "album_name": 1,
    "album_id": 1,
    "duration_ms": 1,
    "_id": 0,
}


@dataclass(frozen=True, slots=True)
class DisplayName:
    key: str
    name: str
    artists: tuple[str, ...]  # for tracks and albums
    spotify_id: str | None


def _harvest(doc: Mapping[str, Any]) -> list[tuple[str, str, DisplayName]]:
    """(kind, key, name) for the track, its artists and its album, keyed as the rollups are."""
    track_key = str(doc["track_key"])
    artists = tuple(doc.get("artist_names") or ())
    ids = tuple(doc.get("artist_ids") or ())
    parallel = len(ids) == len(artists)
    out = [
        (
            "t",
            track_key,
            DisplayName(track_key, doc.get("track_name") or "", artists, doc.get("track_id")),
        )
    ]
    for index, name in enumerate(artists):
        spotify_id = ids[index] if parallel and ids else None
        key = artist_key(spotify_id, name)
        out.append(("a", key, DisplayName(key, name, (), spotify_id)))
    album_id, album_name = doc.get("album_id"), doc.get("album_name")
    if album_id or album_name:
        key = album_key(album_id, album_name or "", artists[0] if artists else "")
        out.append(("al", key, DisplayName(key, album_name or "", artists[:1], album_id)))
    return out


class AnalyticsStore:
    def __init__(self, store: Store) -> None:
        self._plays = store["plays"]
        self._rollups = store["rollups"]
        self._names = store["names"]
        self._store = store

    # --- rollups ---------------------------------------------------------------------------------

    async def day_docs(
        self, user_id: str, first: str, last: str, sections: Sequence[str]
    ) -> list[Document]:
        """Day documents of ``[first, last]`` (ISO local days) with only the sections asked for."""
        projection = {"day": 1, "plays": 1, "ms": 1, "h": 1, "_id": 0}
        projection.update(dict.fromkeys(sections, 1))
        cursor = self._rollups.find(
            {"user_id": user_id, "day": {"$gte": first, "$lte": last}}, projection
        ).hint(USER_DAY)
        return await cursor.to_list()

    async def rollup_bounds(self, user_id: str) -> tuple[str | None, str | None, int]:
        """First and last rollup day with plays, and how many days have plays."""
        query = {"user_id": user_id, "plays": {"$gt": 0}}
        first = await self._rollups.find_one(query, {"day": 1}, sort=USER_DAY, hint=USER_DAY)
        if first is None:
            return None, None, 0
        last = await self._rollups.find_one(
            query, {"day": 1}, sort=[("user_id", ASCENDING), ("day", DESCENDING)], hint=USER_DAY
        )
        count = await self._rollups.count_documents(query, hint=USER_DAY)
        return str(first["day"]), str(last["day"]) if last else None, count

    # --- raw plays -------------------------------------------------------------------------------

    async def play_bounds(self, user_id: str) -> tuple[datetime | None, datetime | None]:
        """Earliest start and latest end of the user's counted plays (what all_time covers, the
        same plays the day rollups hold)."""
        first = await self._plays.find_one(
            {"user_id": user_id, "counted": True},
            {"started_at": 1},
            sort=[("ended_at", ASCENDING)],
            hint=USER_ENDED,
        )
        last = await self._plays.find_one(
            {"user_id": user_id}, {"ended_at": 1}, sort=[("ended_at", DESCENDING)], hint=USER_ENDED
        )
        if first is None or last is None:
            return None, None
        return first["started_at"], last["ended_at"]

    async def plays_started_in(
        self, user_id: str, start: datetime | None, end: datetime, *, counted_only: bool
    ) -> list[Play]:
        """Plays that started in ``[start, end)`` (see the module docstring for the cost)."""
        query: Document = {"user_id": user_id, "started_at": {"$lt": end}}
        if start is not None:
            query["ended_at"] = {"$gte": start}
            query["started_at"]["$gte"] = start
        if counted_only:
            query["counted"] = True
        cursor = self._plays.find(query, {"_id": 0, "batch": 0}).hint(USER_ENDED)
        return [from_document(doc) async for doc in cursor]

    async def track_plays(self, user_id: str, track_key: str) -> list[Play]:
        """Counted plays of one track (the dedup index covers user + track key)."""
        cursor = self._plays.find(
            {"user_id": user_id, "track_key": track_key, "counted": True}, {"_id": 0, "batch": 0}
        ).hint([("user_id", ASCENDING), ("track_key", ASCENDING), ("ended_at", ASCENDING)])
        return [from_document(doc) async for doc in cursor]

    async def artist_plays(
        self, user_id: str, artist_id: str | None, name: str | None
    ) -> list[Play]:
        """Counted plays crediting an artist (by id, or by name ignoring case). No index on
        artists (plays keep few indexes), so this walks the user's plays: not a hot query."""
        query: Document = {"user_id": user_id, "counted": True}
        if artist_id is not None:
            query["artist_ids"] = artist_id
        else:
            query["artist_names"] = {"$regex": f"^{re.escape(name or '')}$", "$options": "i"}
        cursor = self._plays.find(query, {"_id": 0, "batch": 0}).hint(USER_ENDED)
        return [from_document(doc) async for doc in cursor]

    async def history_page(
        self, query: HistoryQuery, skip: int, limit: int
    ) -> tuple[list[Document], int]:
        """One page newest first, and how many plays match."""
        cursor = (
            self._plays.find(query, {"batch": 0, "counted": 0})
            .sort([("user_id", ASCENDING), ("ended_at", DESCENDING)])
            .hint(USER_ENDED)
            .skip(skip)
            .limit(limit)
        )
        docs = await cursor.to_list()
        total = await self._plays.count_documents(query, hint=USER_ENDED)
        return docs, total

    # --- display names ---------------------------------------------------------------------------

    async def names(self, user_id: str, kind: str, keys: Iterable[str]) -> dict[str, DisplayName]:
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        ids = [f"{user_id}|{kind}|{key}" for key in wanted]
        found: dict[str, DisplayName] = {}
        async for doc in self._names.find({"_id": {"$in": ids}}):
            found[doc["key"]] = DisplayName(
                doc["key"], doc["name"], tuple(doc.get("artists") or ()), doc.get("spotify_id")
            )
        missing = [key for key in wanted if key not in found]
        if missing:
            found.update(await self._fill(user_id, kind, missing))
        return found

    async def _fill(self, user_id: str, kind: str, missing: list[str]) -> dict[str, DisplayName]:
        todo = set(missing)
        harvested: dict[tuple[str, str], DisplayName] = {}
        cursor = (
            self._plays.find({"user_id": user_id}, _NAME_FIELDS)
            .sort([("user_id", ASCENDING), ("ended_at", DESCENDING)])
            .hint(USER_ENDED)
            .batch_size(HARVEST_BATCH)
        )
        async for doc in cursor:
            for entry_kind, key, name in _harvest(doc):
                harvested.setdefault((entry_kind, key), name)
                if entry_kind == kind:
                    todo.discard(key)
            if not todo:
                break
        await cursor.close()
        # A key no play carries any more still gets an entry, so it never costs another walk.
        for key in todo:
            harvested[(kind, key)] = DisplayName(key, key, (), None)
        await self._remember(user_id, harvested)
        return {key: harvested[(kind, key)] for key in missing}

    async def _remember(self, user_id: str, names: Mapping[tuple[str, str], DisplayName]) -> None:
        docs = [
            {
                "_id": f"{user_id}|{kind}|{key}",
                "user_id": user_id,
                "key": key,
                "name": name.name,
                "artists": list(name.artists),
                "spotify_id": name.spotify_id,
            }
            for (kind, key), name in names.items()
        ]
        if not docs:
            return
        try:
            await self._names.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            # Entries another request cached first: the names are the same, nothing to do.
            if any(err.get("code") != DUPLICATE_KEY for err in exc.details.get("writeErrors", [])):
                raise

    # --- catalog (filled by the enricher; read only here) --------------------------------------

    async def catalog(self, kind: str, ids: Iterable[str]) -> dict[str, Document]:
        """Catalog documents by Spotify id; ``kind`` is tracks, artists or albums."""
        wanted = [i for i in dict.fromkeys(ids) if i]
        if not wanted:
            return {}
        cursor = self._store[f"catalog_{kind}"].find({"_id": {"$in": wanted}})
        return {str(doc["_id"]): doc async for doc in cursor}


def image_url(doc: Mapping[str, Any] | None) -> str | None:
    """First image of a catalog document, in either shape the enricher may store."""
    if not doc:
        return None
    if isinstance(doc.get("image_url"), str):
        return str(doc["image_url"])
    images = doc.get("images") or (doc.get("album") or {}).get("images") or []
    if images and isinstance(images[0], Mapping) and images[0].get("url"):
        return str(images[0]["url"])
    return None


async def stream_plays(
    store: Store, query: Mapping[str, Any], newest_first: bool = True
) -> AsyncIterator[Document]:
    """Plays matching ``query`` (which starts with ``user_id``) one by one, in index order."""
    direction = DESCENDING if newest_first else ASCENDING
    cursor = (
        store["plays"]
        .find(dict(query))
        .sort([("user_id", ASCENDING), ("ended_at", direction)])
        .hint(USER_ENDED)
    )
    async for doc in cursor:
        yield doc
