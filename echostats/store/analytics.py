"""Read side of analytics: rollups, raw plays by range, history pages, display names, catalog.

Rollups are read by ``_id`` (``store.rollups``). Every plays query starts with an equality on
``user_id`` and a range or sort that a declared compound index covers (``plays.user_ended``,
``plays.user_track_ended``); the plans are checked by ``tests/store/test_analytics_plans.py``.

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

from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import BulkWriteError

from echostats.domain.history import HistoryFilter, history_window
from echostats.domain.plays import TRACK_URI_PREFIX, Play, album_key, artist_key, from_document
from echostats.domain.rollups import Level, Rollup, active_days, cover
from echostats.store.database import Store
from echostats.store.duplicates import only_duplicates
from echostats.store.rollups import RollupStore
from echostats.store.walk import walk_plays

Document = dict[str, Any]
# Newest first; plays ending in the same millisecond keep one order across pages.
NEWEST_FIRST = [("user_id", ASCENDING), ("ended_at", DESCENDING), ("_id", DESCENDING)]
# Spotify's offline mode needs the app online every 30 days: later reports are not expected
# (and are still found, more slowly: see ``counted_plays_started_on``).
LATE_REPORT = timedelta(days=31)
ONE_DAY = timedelta(days=1)
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
        self._rollup_store = RollupStore(store)
        self._names = store["names"]
        self._store = store

    # --- rollups -------------------------------------------------------------------------------

    async def rollups(
        self, user_id: str, first: date, last: date, sections: Sequence[str], top: Level
    ) -> list[Rollup]:
        """The stored rollups tiling ``[first, last]`` (local days), in time order."""
        return await self._rollup_store.load(user_id, cover(first, last, top), sections)

    async def rollup_bounds(self, user_id: str) -> tuple[date | None, date | None, int]:
        """First and last local day with counted plays, and how many days have them."""
        return await self._rollup_store.bounds(user_id)

    # --- raw plays -------------------------------------------------------------------------------

    async def play_bounds(
        self, user_id: str, saved_zone: tzinfo
    ) -> tuple[datetime | None, datetime | None]:
        """Earliest start of the user's counted plays (what all_time covers, the same plays the
        rollups hold) and latest end of any play. The rollups say which local day and the
        timeline which UTC day hold them, so only those days' plays are read."""
        first_day, _, _ = await self._rollup_store.bounds(user_id)
        timeline = await self._rollup_store.levels(user_id, Level.ENDED)
        ended_days = active_days(timeline)
        last_end_day = ended_days[-1] if ended_days else None
        if first_day is None or last_end_day is None:
            return None, None
        day = await self._rollup_store.load(user_id, [(Level.DAY, first_day.isoformat())], ())
        first = await self.counted_plays_started_on(
            user_id, first_day, saved_zone, day[0].plays if day else 0, lambda _: True
        )
        day_start = datetime.combine(last_end_day, time(), UTC)
        last = await self._plays.find(
            {"user_id": user_id, "ended_at": {"$gte": day_start, "$lt": day_start + ONE_DAY}},
            {"ended_at": 1},
        ).to_list()
        if not first or not last:
            return None, None
        return min(p.started_at for p in first), max(d["ended_at"] for d in last)

    async def counted_plays_started_on(
        self, user_id: str, day: date, tz: tzinfo, expected: int, keep: Callable[[Play], bool]
    ) -> list[Play]:
        """The counted plays ``keep`` accepts that started on local ``day``; ``expected`` is how
        many the rollups say there are. An offline play can be reported (end) long after it
        started, so the first read stops at plays that ended within ``LATE_REPORT``; only when
        that finds fewer than expected is the read repeated without an end."""
        lo = datetime.combine(day, time(), tz)
        hi = datetime.combine(day + ONE_DAY, time(), tz)
        found = [p for p in await self._started_in(user_id, lo, hi, hi + LATE_REPORT) if keep(p)]
        if len(found) >= expected:
            return found
        return [p for p in await self._started_in(user_id, lo, hi, None) if keep(p)]

    async def plays_started_in(
        self, user_id: str, start: datetime | None, end: datetime, *, counted_only: bool
    ) -> list[Play]:
        """Plays that started in ``[start, end)`` (see the module docstring for the cost)."""
        return await self._started_in(user_id, start, end, None, counted_only=counted_only)

    async def _started_in(
        self,
        user_id: str,
        start: datetime | None,
        end: datetime,
        ended_before: datetime | None,
        *,
        counted_only: bool = True,
    ) -> list[Play]:
        """The server gets only what the ``(user_id, ended_at)`` index holds: with a predicate
        on any other field (``started_at``, ``counted``) the embedded server's planner drops the
        index and scans the collection, and a range open at the top is walked in bounded
        windows (``store.walk``). The rest is checked here."""
        if ended_before is not None:
            bounds: Document = {"$lt": ended_before}
            if start is not None:
                bounds["$gte"] = start
            docs: AsyncIterator[Document] = self._plays.find(
                {"user_id": user_id, "ended_at": bounds}, {"batch": 0}
            ).sort(NEWEST_FIRST)
        else:
            docs = walk_plays(self._store, user_id, {"batch": 0}, since=start)
        out = []
        async for doc in docs:
            if counted_only and not doc.get("counted"):
                continue
            started = doc["started_at"]
            if started < end and (start is None or started >= start):
                out.append(from_document(doc))
        return out

    async def track_plays(self, user_id: str, track_key: str) -> list[Play]:
        """Counted plays of one track (the dedup index covers user + track key)."""
        cursor = self._plays.find({"user_id": user_id, "track_key": track_key}, {"batch": 0})
        return [from_document(doc) async for doc in cursor if doc.get("counted")]

    async def artist_plays(
        self, user_id: str, artist_id: str | None, name: str | None
    ) -> list[Play]:
        """Counted plays crediting an artist (by id, or by name ignoring case), for another time
        zone than the saved one (the saved zone reads rollups). No index holds artists, so this
        walks every play of the user, window by window."""
        wanted = (name or "").casefold()
        out = []
        async for doc in walk_plays(self._store, user_id, {"batch": 0}):
            if not doc.get("counted"):
                continue
            if artist_id is not None:
                if artist_id not in (doc.get("artist_ids") or ()):
                    continue
            elif wanted not in [str(n).casefold() for n in doc.get("artist_names") or ()]:
                continue
            out.append(from_document(doc))
        return out

    async def history_page(
        self, user_id: str, wanted: HistoryFilter, skip: int, limit: int
    ) -> tuple[list[Document], int]:
        """One page newest first, and how many plays match. The unfiltered page, the one people
        open, reads only the days that hold it (``_recent_page``); a track id reads that track's
        plays through the dedup index; any other filter walks the user's plays (from the range
        start, when there is one) and checks each in the app, so its cost grows with history."""
        if wanted.unfiltered:
            return await self._recent_page(user_id, skip, limit)
        if wanted.track_id is not None:
            cursor = self._plays.find(
                {"user_id": user_id, "track_key": TRACK_URI_PREFIX + wanted.track_id},
                {"batch": 0, "counted": 0},
            )
            matching = [doc async for doc in cursor if wanted.matches(doc)]
            matching.sort(key=lambda d: (d["ended_at"], d["_id"]), reverse=True)
            return matching[skip : skip + limit], len(matching)
        page: list[Document] = []
        total = 0
        async for doc in walk_plays(
            self._store, user_id, {"batch": 0, "counted": 0}, since=wanted.start
        ):
            if wanted.matches(doc):
                if skip <= total < skip + limit:
                    page.append(doc)
                total += 1
        return page, total

    async def _recent_page(self, user_id: str, skip: int, limit: int) -> tuple[list[Document], int]:
        """The history timeline counts plays per UTC day of their end, so the days holding rows
        ``skip .. skip + limit - 1`` are known before any play is read, and only those days'
        plays are fetched and sorted."""
        window = history_window(await self._rollup_store.levels(user_id, Level.ENDED), skip, limit)
        if window.lo is None or window.hi is None:
            return [], window.total
        cursor = (
            self._plays.find(
                {"user_id": user_id, "ended_at": {"$gte": window.lo, "$lt": window.hi}},
                {"batch": 0, "counted": 0},
            )
            .sort(NEWEST_FIRST)
            .skip(window.skip)
            .limit(limit)
        )
        return await cursor.to_list(), window.total

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
        async for doc in walk_plays(self._store, user_id, _NAME_FIELDS, newest_first=True):
            for entry_kind, key, name in _harvest(doc):
                harvested.setdefault((entry_kind, key), name)
                if entry_kind == kind:
                    todo.discard(key)
            if not todo:
                break
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
            if not only_duplicates(exc):
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
