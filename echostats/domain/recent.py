"""Turning a recently-played item (SPOTIFY.md §2.2, §1.6) into a ``Play``.

Takes the item as plain JSON (a dict, e.g. ``PlayHistory.model_dump(mode="json")`` or the raw
body) so the domain stays free of the Spotify client's models. ``played_at`` is the END of the
play with millisecond precision; recently-played has no listened time, so the caller passes the
poller's estimate (``estimate.estimate_ms_played``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from echostats.domain.plays import Play, TimePrecision, track_key


class BadHistoryItem(ValueError):
    """The item lacks what every play needs (a track with a name, a parseable ``played_at``)."""


def _played_at(value: Any) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise BadHistoryItem(f"played_at {value!r} is not an ISO-8601 timestamp.") from None
    else:
        raise BadHistoryItem("played_at is missing.")
    if parsed.tzinfo is None:
        raise BadHistoryItem(f"played_at {value!r} has no time zone.")
    return parsed.astimezone(UTC)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def play_from_history_item(
    item: Mapping[str, Any], user_id: str, *, ms_played: int, estimated: bool = True
) -> Play:
    """A polled play; raises ``BadHistoryItem`` for items no play can be built from."""
    track = item.get("track")
    if not isinstance(track, Mapping) or not _str(track.get("name")):
        raise BadHistoryItem("The item has no track.")
    ended_at = _played_at(item.get("played_at"))
    raw_artists = track.get("artists")
    artists = (
        [a for a in raw_artists if isinstance(a, Mapping)] if isinstance(raw_artists, list) else []
    )
    names = tuple(_str(a.get("name")) or "" for a in artists)
    ids = tuple(_str(a.get("id")) or "" for a in artists)
    album = _mapping(track.get("album"))
    context = _mapping(item.get("context"))
    # Local files come back with is_local and a null id: they get a name key like exports do.
    track_id = None if track.get("is_local") else _str(track.get("id"))
    duration = track.get("duration_ms")
    track_name: str = track["name"]
    return Play(
        user_id=user_id,
        track_key=track_key(track_id, names[0] if names else "", track_name),
        track_id=track_id,
        track_name=track_name,
        artist_names=names,
        artist_ids=ids if all(ids) else (),
        album_name=_str(album.get("name")),
        album_id=_str(album.get("id")),
        ended_at=ended_at,
        started_at=ended_at - timedelta(milliseconds=ms_played),
        ms_played=ms_played,
        ms_played_estimated=estimated,
        duration_ms=duration
        if isinstance(duration, int) and not isinstance(duration, bool)
        else None,
        source="poll",
        precision=TimePrecision.MILLISECOND,
        context_type=_str(context.get("type")),
        context_uri=_str(context.get("uri")),
    )
