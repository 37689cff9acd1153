"""Catalog data in ``catalog_tracks``, ``catalog_artists`` and ``catalog_albums`` (``_id``: id).

Written only by the enricher (schema in ``actors/enricher.py``); read by whatever shows names,
images and durations. Every lookup is an equality or ``$in`` on ``_id``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, Literal

from echostats.domain.identity import spotify_id_of
from echostats.store.boundary import Repository
from echostats.store.database import Store
from echostats.store.ledger_cache import Ledger

Kind = Literal["tracks", "artists", "albums"]
State = Literal["enriched", "not_found"]
KINDS: tuple[Kind, ...] = ("tracks", "artists", "albums")
Document = dict[str, Any]


class Catalog(Repository):
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

    async def artist_genres(self) -> dict[str, list[str]]:
        """Spotify artist id → genres, for the catalog's artists that have any."""
        cursor = self._c("artists").find({"genres.0": {"$exists": True}}, {"genres": 1})
        return {str(d["_id"]): [str(g) for g in d["genres"]] async for d in cursor}

    async def count(self, kind: Kind) -> int:
        count: int = await self._c(kind).count_documents({})
        return count


class RecentPlays(Repository):
    """The enricher's view of plays: the ids of the user's newest plays (what the dashboard
    shows), as canonical identity knows them — an imported play whose artist is only named
    still leads to that artist's id once any play or sync has linked the name."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    async def newest(self, user_id: str, limit: int) -> list[Document]:
        if limit <= 0:
            return []
        view = await self._ledger.view(user_id)
        ident = view.identity
        out: list[Document] = []
        for track in view.track[::-1][:limit]:
            album = int(ident.album_of_track[track])
            out.append(
                {
                    "track_id": spotify_id_of(ident.tracks.key(int(track))),
                    "artist_ids": [
                        i
                        for a in ident.artists_of(int(track))
                        if (i := spotify_id_of(ident.artists.key(a)))
                    ],
                    "album_id": spotify_id_of(ident.albums.key(album)) if album >= 0 else None,
                }
            )
        return out


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
