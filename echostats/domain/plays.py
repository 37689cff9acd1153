"""The ``Play`` record every source (poller, privacy export) is normalised to, and its keys.

A play is identified by user, ``track_key`` and ``ended_at`` (the store's unique index). The
track key is the Spotify track id when known; account-data exports carry only names, so those
plays get a name key. Name keys are deliberately *exact-ish*: Unicode-normalised, case- and
accent-insensitive, whitespace-collapsed, nothing more. Suffixes such as " - Remastered 2011"
or "(feat. X)" are kept, because a remaster is a different recording with its own track id, and
both export formats copy Spotify's own metadata verbatim, so the same play carries the same
spelling in both; stripping or fuzzy matching could only add false merges, never fix real ones.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

# poll: the Spotify poller; import: an uploaded history (Spotify, ListenBrainz, Last.fm);
# scrobble: a listen a player sent to the ListenBrainz-compatible API.
Source = Literal["poll", "import", "scrobble"]
SOURCES: tuple[Source, ...] = ("poll", "import", "scrobble")

TRACK_URI_PREFIX = "spotify:track:"
ARTIST_KEY_PREFIX = "spotify:artist:"
ALBUM_KEY_PREFIX = "spotify:album:"
NAME_KEY_PREFIX = "name:"


class SkipReason(StrEnum):
    """Why a row or play is not counted (a closed set: the importer reports counts per reason)."""

    PODCAST = "podcast"
    AUDIOBOOK = "audiobook"
    VIDEO = "video"
    TOO_SHORT = "too_short"
    INCOGNITO = "incognito"
    NO_TRACK = "no_track"
    MALFORMED = "malformed"
    # Assigned later by the importer (same row twice in one upload) and the aggregator (already
    # stored); listed here so every report uses one vocabulary.
    DUPLICATE_IN_UPLOAD = "duplicate_in_upload"
    DUPLICATE_STORED = "duplicate_stored"


@dataclass(frozen=True, slots=True)
class Skip:
    """A source row that does not become a play, and why."""

    reason: SkipReason


class TimePrecision(StrEnum):
    """Which stamp the source gave and how precise it is; the dedup tolerance depends on it.

    The first three stamp the END of a play. Scrobbles stamp its START (ListenBrainz's
    ``listened_at``, Last.fm's scrobble time): ``started_at`` is then the source's stamp and
    ``ended_at`` only an estimate (start + the track length the client sent).
    """

    MILLISECOND = "ms"  # recently-played ``played_at``
    SECOND = "s"  # extended export ``ts``
    MINUTE = "min"  # account-data ``endTime``
    START = "start_s"  # a scrobble's start, to the second
    START_MINUTE = "start_min"  # a scrobble's start, to the minute (Last.fm's CSV exports)


SCROBBLE_PRECISIONS = frozenset({TimePrecision.START, TimePrecision.START_MINUTE})


@dataclass(frozen=True, slots=True)
class Play:
    user_id: str
    track_key: str
    track_id: str | None
    track_name: str
    artist_names: tuple[str, ...]
    artist_ids: tuple[str, ...]  # parallel to artist_names when known, else empty
    album_name: str | None
    album_id: str | None
    ended_at: datetime  # aware, UTC
    started_at: datetime  # aware, UTC
    ms_played: int  # real listened time (or the poller's estimate)
    ms_played_estimated: bool
    duration_ms: int | None
    source: Source
    precision: TimePrecision
    context_type: str | None = None
    context_uri: str | None = None
    platform: str | None = None
    shuffle: bool | None = None
    skipped: bool | None = None
    offline: bool | None = None
    incognito: bool | None = None
    reason_start: str | None = None
    reason_end: str | None = None
    conn_country: str | None = None
    video: bool = False  # from a Streaming_History_Video file (a music video)

    @property
    def name_key(self) -> str:
        """The name key of the primary artist and track, whatever the track key is."""
        artist = self.artist_names[0] if self.artist_names else ""
        return name_key(artist, self.track_name)


def normalise_name(text: str) -> str:
    """Case-, accent- and width-insensitive form of a name, with whitespace collapsed."""
    if text.isascii():
        # The common case: skip the Unicode tables entirely.
        return " ".join(text.casefold().split())
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # NFKC afterwards recomposes what remains (Hangul, compatibility forms) into one spelling.
    return " ".join(unicodedata.normalize("NFKC", stripped).casefold().split())


def name_key(artist: str, track: str) -> str:
    """``name:<artist>|<track>`` from the primary artist. (An artist name containing '|' could
    in theory meet a track name containing one; accepted, as no real catalogue pair does.)"""
    return f"{NAME_KEY_PREFIX}{normalise_name(artist)}|{normalise_name(track)}"


def track_key(track_id: str | None, artist: str, track: str) -> str:
    if track_id:
        return TRACK_URI_PREFIX + track_id
    return name_key(artist, track)


def artist_key(artist_id: str | None, name: str) -> str:
    """Counter key of an artist: the Spotify id when known, else the normalised name."""
    if artist_id:
        return ARTIST_KEY_PREFIX + artist_id
    return NAME_KEY_PREFIX + normalise_name(name)


def album_key(album_id: str | None, album_name: str, artist: str) -> str:
    """Counter key of an album. Name keys include the artist: "Greatest Hits" is not one album."""
    if album_id:
        return ALBUM_KEY_PREFIX + album_id
    return f"{NAME_KEY_PREFIX}{normalise_name(artist)}|{normalise_name(album_name)}"


# --- MongoDB documents -------------------------------------------------------------------------

_FIELD_NAMES: tuple[str, ...] = tuple(field.name for field in fields(Play))
_TUPLE_FIELDS = frozenset({"artist_names", "artist_ids"})


def to_document(play: Play) -> dict[str, Any]:
    """The stored form: the dataclass field names, lists for tuples, datetimes as datetimes."""
    document: dict[str, Any] = {name: getattr(play, name) for name in _FIELD_NAMES}
    document["artist_names"] = list(play.artist_names)
    document["artist_ids"] = list(play.artist_ids)
    document["precision"] = play.precision.value
    return document


def _utc(value: Any, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"Stored play field {name!r} is not a datetime.")
    # A client without tz_aware=True hands back naive UTC datetimes; never guess another zone.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def from_document(document: Mapping[str, Any]) -> Play:
    """Inverse of ``to_document``; extra keys (``_id``) are ignored, optional ones may be absent."""
    values: dict[str, Any] = {}
    for name in _FIELD_NAMES:
        if name in document:
            values[name] = document[name]
    for name in _TUPLE_FIELDS:
        values[name] = tuple(values.get(name) or ())
    values["ended_at"] = _utc(document.get("ended_at"), "ended_at")
    values["started_at"] = _utc(document.get("started_at"), "started_at")
    values["precision"] = TimePrecision(values.get("precision", TimePrecision.SECOND))
    return Play(**values)
