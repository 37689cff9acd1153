"""Shaping Spotify's library and catalog JSON into our documents, and the enricher's choices.

Takes plain JSON (``model.model_dump(mode="json")`` or the raw body) so the domain stays free of
the Spotify client's models and of I/O. Field names here are the stored schema documented in
``actors/syncer.py`` (playlists, top items, saved albums) and ``actors/enricher.py`` (catalog).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from echostats.domain.estimate import RecentPlay, estimate_ms_played
from echostats.domain.ledger import Spelling
from echostats.domain.plays import TRACK_URI_PREFIX, Play
from echostats.domain.recent import BadHistoryItem, play_from_history_item

Json = Mapping[str, Any]


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _list(value: Any) -> list[Any]:
    return [v for v in value if v is not None] if isinstance(value, list) else []


def name_key(name: str) -> str:
    """Case- and space-insensitive key for searching by name (no text indexes here)."""
    return " ".join(name.casefold().split())


def image_url(images: Any) -> str | None:
    """The largest image (Spotify lists them largest first, but not every answer does)."""
    found = [i for i in _list(images) if isinstance(i, Mapping) and _str(i.get("url"))]
    if not found:
        return None
    best = max(found, key=lambda i: (_int(i.get("width")) or 0) * (_int(i.get("height")) or 0))
    return str(best["url"])


def _artists(raw: Any) -> list[dict[str, str | None]]:
    return [
        {"id": _str(a.get("id")), "name": _str(a.get("name")) or ""}
        for a in _list(raw)
        if isinstance(a, Mapping)
    ]


def top_entries(kind: str, items: Sequence[Json]) -> list[dict[str, Any]]:
    """Spotify's top artists or tracks as ranked entries (rank 1 first)."""
    entries = []
    for rank, item in enumerate(items, start=1):
        album = item.get("album") if isinstance(item.get("album"), Mapping) else {}
        images = item.get("images") if kind == "artists" else (album or {}).get("images")
        entries.append(
            {
                "rank": rank,
                "spotify_id": _str(item.get("id")),
                "name": _str(item.get("name")) or "",
                "artists": _artists(item.get("artists")) if kind == "tracks" else [],
                "image_url": image_url(images),
            }
        )
    return entries


def playlist_document(raw: Json, *, user_spotify_id: str) -> dict[str, Any]:
    """A playlist's metadata; ``with_items`` says whether its rows are ours to read."""
    owner = raw.get("owner") if isinstance(raw.get("owner"), Mapping) else {}
    owner_id = _str((owner or {}).get("id"))
    collaborative = raw.get("collaborative") is True
    summary = raw.get("items") if isinstance(raw.get("items"), Mapping) else {}
    name = _str(raw.get("name")) or ""
    return {
        "playlist_id": raw["id"],
        "name": name,
        "name_key": name_key(name),
        "description": _str(raw.get("description")),
        "owner_id": owner_id,
        "owner_name": _str((owner or {}).get("display_name")),
        "owned": owner_id == user_spotify_id,
        "collaborative": collaborative,
        "public": raw.get("public") if isinstance(raw.get("public"), bool) else None,
        "snapshot_id": _str(raw.get("snapshot_id")),
        "image_url": image_url(raw.get("images")),
        "tracks_total": _int((summary or {}).get("total")),
        "with_items": owner_id == user_spotify_id or collaborative,
    }


def playlist_entry(raw: Json, position: int) -> dict[str, Any] | None:
    """One row of ``/playlists/{id}/items``; None for an empty (unavailable) row."""
    item = raw.get("item")
    if not isinstance(item, Mapping) or not _str(item.get("name")):
        return None
    album = item.get("album") if isinstance(item.get("album"), Mapping) else None
    added_by = raw.get("added_by") if isinstance(raw.get("added_by"), Mapping) else {}
    return {
        "position": position,
        "type": _str(item.get("type")) or "track",
        "spotify_id": None if raw.get("is_local") else _str(item.get("id")),
        "name": item["name"],
        "artists": _artists(item.get("artists")),
        "album": {"id": _str(album.get("id")), "name": _str(album.get("name"))} if album else None,
        "duration_ms": _int(item.get("duration_ms")),
        "added_at": raw.get("added_at"),
        "added_by": _str((added_by or {}).get("id")),
        "is_local": raw.get("is_local") is True,
    }


def track_spelling(track: Json) -> Spelling | None:
    """What a track object (Spotify's, or a stored playlist row) teaches identity: its id
    with its name, its artists' ids with their names, its album's id with its name. None for
    what is not a track with an id (a local file, an episode)."""
    track_id = _str(track.get("id")) or _str(track.get("spotify_id"))
    name = _str(track.get("name"))
    if not track_id or not name or (_str(track.get("type")) or "track") != "track":
        return None
    artists = _artists(track.get("artists"))
    album = track.get("album") if isinstance(track.get("album"), Mapping) else {}
    ids = tuple(str(a["id"]) for a in artists if a["id"])
    return Spelling(
        track_key=TRACK_URI_PREFIX + track_id,
        track_id=track_id,
        track_name=name,
        artist_names=tuple(str(a["name"]) for a in artists),
        artist_ids=ids if len(ids) == len(artists) else (),
        album_name=_str((album or {}).get("name")),
        album_id=_str((album or {}).get("id")),
    )


def saved_album_document(raw: Json) -> dict[str, Any] | None:
    album = raw.get("album")
    if not isinstance(album, Mapping) or not _str(album.get("id")):
        return None
    return {
        "album_id": album["id"],
        "name": _str(album.get("name")) or "",
        "artists": _artists(album.get("artists")),
        "image_url": image_url(album.get("images")),
        "release_date": _str(album.get("release_date")),
        "total_tracks": _int(album.get("total_tracks")),
        "added_at": raw.get("added_at"),
    }


# --- catalog ---------------------------------------------------------------------------------


def _genres(raw: Json) -> list[str] | None:
    # Development-mode apps get no genres: None says "unknown", never an invented empty list.
    found = [g for g in _list(raw.get("genres")) if isinstance(g, str) and g]
    return found or None


def catalog_track(raw: Json) -> dict[str, Any]:
    album = raw.get("album") if isinstance(raw.get("album"), Mapping) else None
    artists = _artists(raw.get("artists"))
    return {
        "name": _str(raw.get("name")) or "",
        "duration_ms": _int(raw.get("duration_ms")),
        "artist_ids": [a["id"] for a in artists if a["id"]],
        "artist_names": [a["name"] for a in artists],
        "album_id": _str(album.get("id")) if album else None,
        "album_name": _str(album.get("name")) if album else None,
        "image_url": image_url(album.get("images")) if album else None,
        "external_url": _str((raw.get("external_urls") or {}).get("spotify")),
    }


def catalog_artist(raw: Json) -> dict[str, Any]:
    return {
        "name": _str(raw.get("name")) or "",
        "image_url": image_url(raw.get("images")),
        "genres": _genres(raw),
        "external_url": _str((raw.get("external_urls") or {}).get("spotify")),
    }


def catalog_album(raw: Json) -> dict[str, Any]:
    artists = _artists(raw.get("artists"))
    return {
        "name": _str(raw.get("name")) or "",
        "image_url": image_url(raw.get("images")),
        "artist_ids": [a["id"] for a in artists if a["id"]],
        "artist_names": [a["name"] for a in artists],
        "release_date": _str(raw.get("release_date")),
        "total_tracks": _int(raw.get("total_tracks")),
        "genres": _genres(raw),
        "external_url": _str((raw.get("external_urls") or {}).get("spotify")),
    }


@dataclass(frozen=True)
class Wanted:
    kind: str  # "tracks" | "artists" | "albums"
    spotify_id: str
    plays: int


def rank_wanted(plays: Iterable[Json], known: Mapping[str, set[str]], limit: int) -> list[Wanted]:
    """The ``limit`` catalog items most shown (by plays among ``plays``) that are not ``known``.

    ``plays`` are stored play documents (``track_id``, ``artist_ids``, ``album_id``); ``known``
    maps each kind to the ids already in the catalog. Ties go tracks, albums, artists, then id,
    so the order is stable.
    """
    counts: dict[str, Counter[str]] = {
        "tracks": Counter(),
        "artists": Counter(),
        "albums": Counter(),
    }
    for play in plays:
        if track := _str(play.get("track_id")):
            counts["tracks"][track] += 1
        if album := _str(play.get("album_id")):
            counts["albums"][album] += 1
        for artist in _list(play.get("artist_ids")):
            if _str(artist):
                counts["artists"][artist] += 1
    order = {"tracks": 0, "albums": 1, "artists": 2}
    wanted = [
        Wanted(kind, spotify_id, n)
        for kind, counter in counts.items()
        for spotify_id, n in counter.items()
        if spotify_id not in known.get(kind, set())
    ]
    wanted.sort(key=lambda w: (-w.plays, order[w.kind], w.spotify_id))
    return wanted[:limit]


@dataclass
class RequestBudget:
    """At most ``per_hour`` requests in any rolling hour (times are monotonic seconds)."""

    per_hour: int
    window: float = 3600.0
    _spent: deque[float] = field(default_factory=deque)

    def _forget(self, now: float) -> None:
        while self._spent and now - self._spent[0] >= self.window:
            self._spent.popleft()

    def remaining(self, now: float) -> int:
        self._forget(now)
        return max(0, self.per_hour - len(self._spent))

    def spend(self, now: float) -> None:
        self._forget(now)
        self._spent.append(now)

    def wait(self, now: float) -> float:
        """Seconds until one more request fits (0 when it fits now)."""
        if self.remaining(now) > 0:
            return 0.0
        return max(0.0, self._spent[0] + self.window - now)


# --- recently played, as the sync step reads it ------------------------------------------------


def plays_from_recent(items: Sequence[Json], user_id: str) -> list[Play]:
    """Plays from one recently-played page (newest first); ms played estimated from the gap to
    the play before (the sync has no now-playing samples). Unusable items are skipped."""

    def ended(item: Json | None) -> datetime | None:
        if item is None:
            return None
        try:
            return play_from_history_item(item, user_id, ms_played=0).ended_at
        except BadHistoryItem:
            return None

    plays: list[Play] = []
    for index, item in enumerate(items):
        ended_at = ended(item)
        if ended_at is None:
            continue
        track = item.get("track") if isinstance(item.get("track"), Mapping) else {}
        estimate = estimate_ms_played(
            (),
            RecentPlay(
                track_id=_str((track or {}).get("id")) or "",
                played_at=ended_at,
                duration_ms=_int((track or {}).get("duration_ms")),
            ),
            ended(items[index + 1]) if index + 1 < len(items) else None,
        )
        plays.append(play_from_history_item(item, user_id, ms_played=estimate.ms_played))
    return plays
