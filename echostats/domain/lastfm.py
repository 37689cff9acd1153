"""Last.fm scrobble history: rows of the common CSV exports and tracks of Last.fm's JSON pages.

Last.fm stamps a scrobble with the time the track STARTED, so these rows become plays stamped
at their start, like ListenBrainz listens (``listens.py``). Last.fm keeps no length: the end is
the start and the listened time 0 (``counting`` counts such a scrobble, the player having
applied the scrobble rule).

* CSV: the widely used exporter (benjaminbenben's lastfm-to-csv) writes rows without a header,
  ``artist,album,track,date`` with dates like ``31 Jan 2021 12:34`` (UTC, to the minute).
  Files with a header naming the columns (``artist``, ``album``, ``track``/``title``/``name``,
  and ``uts``/``date``/``utc_time``/``timestamp``) are read by those names.
* JSON: the pages of ``user.getRecentTracks`` (``{"recenttracks": {"track": [...]}}``), plain
  or ``extended=1``; ``date.uts`` is the start to the second. The entry marked
  ``@attr.nowplaying`` is not a scrobble yet and is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from echostats.domain.plays import Play, Skip, SkipReason, TimePrecision, track_key

_MALFORMED = Skip(SkipReason.MALFORMED)
_NO_TRACK = Skip(SkipReason.NO_TRACK)
# Last.fm's dates, to the minute; ISO texts and unix seconds are also taken.
_MINUTE_FORMATS = ("%d %b %Y %H:%M", "%d %b %Y, %H:%M")
_FIRST_SCROBBLE = datetime(2002, 3, 20, tzinfo=UTC)  # Audioscrobbler's first; earlier is noise
_TRACK_HEADERS = ("track", "title", "name", "track_name")
_DATE_HEADERS = ("uts", "timestamp", "utc_time", "date", "time")


@dataclass(frozen=True)
class CsvColumns:
    """Where each field is in a CSV row."""

    artist: int
    album: int | None
    track: int
    date: int


HEADERLESS = CsvColumns(artist=0, album=1, track=2, date=3)


def csv_header(row: Sequence[str]) -> CsvColumns | None:
    """The columns a header row names, or None when ``row`` is not a header (a data row)."""
    names = [cell.strip().casefold() for cell in row]

    def find(*candidates: str) -> int | None:
        return next((names.index(c) for c in candidates if c in names), None)

    artist = find("artist", "artist_name")
    track = find(*_TRACK_HEADERS)
    date = find(*_DATE_HEADERS)
    if artist is None or track is None or date is None:
        return None
    return CsvColumns(artist=artist, album=find("album", "album_name"), track=track, date=date)


def _when(text: str) -> tuple[datetime, TimePrecision] | None:
    text = text.strip()
    if text.isdigit():
        try:
            moment = datetime.fromtimestamp(int(text), UTC)
        except (OverflowError, OSError, ValueError):
            return None
        return moment, TimePrecision.START
    for fmt in _MINUTE_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC), TimePrecision.START_MINUTE
        except ValueError:
            continue
    if len(text) < 16:  # at least "YYYY-MM-DD HH:MM": a bare date is no scrobble time
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    # "2021-02-03 09:41" carries no seconds: the minute is all it says.
    precise = len(text) > 16
    return parsed, TimePrecision.START if precise else TimePrecision.START_MINUTE


def _play(
    user_id: str,
    *,
    artist: str,
    track: str,
    album: str | None,
    start: datetime,
    precision: TimePrecision,
) -> Play:
    return Play(
        user_id=user_id,
        track_key=track_key(None, artist, track),
        track_id=None,
        track_name=track,
        artist_names=(artist,),
        artist_ids=(),
        album_name=album or None,
        album_id=None,
        ended_at=start,
        started_at=start,
        ms_played=0,
        ms_played_estimated=True,
        duration_ms=None,
        source="import",
        precision=precision,
    )


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or "\x00" in text:
        return None
    return text


def _dated(
    user_id: str, artist: str | None, track: str | None, album: str | None, when: str | None
) -> Play | Skip:
    moment = _when(when) if when is not None else None
    if moment is None or moment[0] < _FIRST_SCROBBLE:
        return _MALFORMED
    if artist is None or track is None:
        return _NO_TRACK
    return _play(
        user_id, artist=artist, track=track, album=album, start=moment[0], precision=moment[1]
    )


def csv_row_to_play(row: Sequence[str], columns: CsvColumns, user_id: str) -> Play | Skip:
    """One CSV row → ``Play`` or ``Skip`` (never raises)."""
    if len(row) <= max(columns.artist, columns.track, columns.date):
        return _MALFORMED
    album = _clean(row[columns.album]) if columns.album is not None else None
    return _dated(
        user_id,
        _clean(row[columns.artist]),
        _clean(row[columns.track]),
        album,
        _clean(row[columns.date]),
    )


def page_tracks(page: object) -> list[Any] | None:
    """The track entries of one ``user.getRecentTracks`` page; None when it is not one."""
    if not isinstance(page, Mapping):
        return None
    recent = page.get("recenttracks")
    if not isinstance(recent, Mapping):
        return None
    tracks = recent.get("track", [])
    if isinstance(tracks, Mapping):  # a page of one: Last.fm's XML-to-JSON drops the list
        return [tracks]
    return tracks if isinstance(tracks, list) else None


def _named(value: object) -> str | None:
    # {"#text": "Name", "mbid": ...}, or with extended=1 {"name": "Name", "url": ...}
    if isinstance(value, Mapping):
        return _clean(value.get("#text")) or _clean(value.get("name"))
    return _clean(value)


def page_track_to_play(entry: object, user_id: str) -> Play | Skip:
    """One track entry of a JSON page → ``Play`` or ``Skip`` (never raises)."""
    if not isinstance(entry, Mapping):
        return _MALFORMED
    attributes = entry.get("@attr")
    if isinstance(attributes, Mapping) and str(attributes.get("nowplaying")).lower() == "true":
        return _NO_TRACK  # playing when the page was read: not a scrobble (yet)
    date = entry.get("date")
    uts = date.get("uts") if isinstance(date, Mapping) else None
    return _dated(
        user_id,
        _named(entry.get("artist")),
        _clean(entry.get("name")),
        _named(entry.get("album")),
        str(uts) if isinstance(uts, str | int) and not isinstance(uts, bool) else None,
    )
