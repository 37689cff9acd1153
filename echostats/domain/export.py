"""Normalising Spotify privacy-export rows (SPOTIFY.md §5) into ``Play``s.

Two formats exist. *Extended streaming history* (``Streaming_History_Audio_*``,
``Streaming_History_Video_*``, older ``endsong_*``): one object per stream, ``ts`` is the END of
the stream (second precision), ``ms_played`` the real listened time, plus URIs and playback
fields. *Account data* (``StreamingHistory*.json``): ``endTime`` to the minute (UTC), names only.

``classify_export_file`` also recognises the scrobble histories the importer reads (a
ListenBrainz export's ``listens/<year>/<month>.jsonl``, Last.fm ``.csv``); their rows are
normalised by ``listens.py`` and ``lastfm.py``.

Normalisation decides only what a row *is*: rows that cannot be a music play (podcast, audiobook,
no track, malformed) become ``Skip``s. Whether a play *counts* (too short, incognito, music
video) is ``counting.decide``'s job, so every play is stored and the rules can change later.
Nothing here raises on a bad row: the importer must survive any file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from echostats.domain.plays import (
    TRACK_URI_PREFIX,
    Play,
    Skip,
    SkipReason,
    TimePrecision,
    name_key,
)


class ExportFormat(StrEnum):
    EXTENDED = "extended"
    ACCOUNT = "account"
    # Scrobble histories from elsewhere (``listens.py``, ``lastfm.py``).
    LISTENBRAINZ = "listenbrainz"  # a ListenBrainz export's listens: JSON Lines or a JSON array
    LASTFM_CSV = "lastfm-csv"
    LASTFM_JSON = "lastfm-json"  # pages of Last.fm's user.getRecentTracks


class ExportContent(StrEnum):
    AUDIO = "audio"  # music, podcasts and audiobooks mixed; told apart per row
    VIDEO = "video"
    MUSIC = "music"
    PODCAST = "podcast"
    AUDIOBOOK = "audiobook"


@dataclass(frozen=True, slots=True)
class ExportFile:
    format: ExportFormat
    content: ExportContent


# Zips nest files in varying folders, so only the basename decides. A prefix ending in a
# separator is tolerated ("extended_endsong_0.json", "2_StreamingHistory0.json": renamed copies).
_PREFIX = r"(?:.*[_\-\s.])?"
_EXTENDED = re.compile(_PREFIX + r"streaming_history_(audio|video)_[0-9][0-9_-]*\.json")
_ENDSONG = re.compile(_PREFIX + r"endsong(?:_[0-9]+)?\.json")
_ACCOUNT_MIXED = re.compile(_PREFIX + r"streaminghistory[0-9]*\.json")
_ACCOUNT_TYPED = re.compile(_PREFIX + r"streaminghistory_(music|podcast|audiobook)_[0-9]+\.json")
_SPLIT_PATH = re.compile(r"[\\/]")
# A ListenBrainz export zip: listens/<year>/<month>.jsonl beside feedback.jsonl and the like.
_LISTENBRAINZ = re.compile(r"(?:.*/)?listens/[0-9]{4}/[0-9]{1,2}\.jsonl")
_CSV = re.compile(r".*\.csv")


def classify_export_file(path: str) -> ExportFile | None:
    """Which export file this is, from its name alone; ``None`` means "not an export file"."""
    name = _SPLIT_PATH.split(path)[-1].casefold()
    if _LISTENBRAINZ.fullmatch(path.replace("\\", "/").casefold()):
        return ExportFile(ExportFormat.LISTENBRAINZ, ExportContent.MUSIC)
    if _CSV.fullmatch(name):
        return ExportFile(ExportFormat.LASTFM_CSV, ExportContent.MUSIC)
    return _spotify_file(name)


def _spotify_file(name: str) -> ExportFile | None:
    if match := _EXTENDED.fullmatch(name):
        return ExportFile(ExportFormat.EXTENDED, ExportContent(match.group(1)))
    if _ENDSONG.fullmatch(name):
        return ExportFile(ExportFormat.EXTENDED, ExportContent.AUDIO)
    if match := _ACCOUNT_TYPED.fullmatch(name):
        return ExportFile(ExportFormat.ACCOUNT, ExportContent(match.group(1)))
    if _ACCOUNT_MIXED.fullmatch(name):
        # Older account data mixes podcasts in as artistName = show, trackName = episode; they
        # cannot be told apart by shape and are read as music (SPOTIFY.md §5.3).
        return ExportFile(ExportFormat.ACCOUNT, ExportContent.MUSIC)
    return None


class _Malformed(Exception):
    """Internal: a field has the wrong type; turned into ``Skip(MALFORMED)`` at the boundary."""


_MALFORMED = Skip(SkipReason.MALFORMED)
_PODCAST = Skip(SkipReason.PODCAST)
_AUDIOBOOK = Skip(SkipReason.AUDIOBOOK)
_NO_TRACK = Skip(SkipReason.NO_TRACK)

# Spotify launched on 7 Oct 2008: an offline_timestamp before that is noise, not a start time.
_SPOTIFY_EPOCH = datetime(2008, 10, 1, tzinfo=UTC)
_OFFLINE_MS_THRESHOLD = 100_000_000_000  # above this the value is in ms (1e11 s is year 5138)
_OFFLINE_MIN_DIFFERENCE = timedelta(seconds=10)
_END_SLACK = timedelta(seconds=1)  # offline_timestamp has whole seconds; ts too
_PLACEHOLDER_ARTIST = "Unknown Artist"
_PLACEHOLDER_TRACK = "Unknown Track"


def _opt_str(value: Any) -> str | None:
    """A string field; "" means absent. Lone surrogates (valid JSON, invalid BSON) are bad."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Malformed
    if not value:
        return None
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _Malformed from None
    return value


def _opt_bool(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise _Malformed


def _ms(value: Any) -> int:
    # bool is an int subclass; True milliseconds is a broken row, not one ms.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _Malformed
    return value


def _parse_utc(value: Any) -> datetime:
    # At least "YYYY-MM-DD HH:MM": fromisoformat would also take a bare date.
    if not isinstance(value, str) or len(value) < 16:
        raise _Malformed
    text = value.removesuffix("[UTC]")  # a low-confidence DSAR variant: "...Z[UTC]"
    try:
        parsed = datetime.fromisoformat(text)  # C-speed; accepts "Z" and "YYYY-MM-DD HH:MM"
    except ValueError:
        raise _Malformed from None
    if parsed.tzinfo is None:
        # Both formats document UTC; account data simply omits the zone.
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _offline_start(value: Any, ended_at: datetime, computed_start: datetime) -> datetime | None:
    """``offline_timestamp`` as a start time when it is plausible and disagrees with ts - ms.

    Units vary (ms in older exports, s since 2023); 0/1/null are meaningless. Empirically it is
    the stream's start, and it is the better start when ``ts`` is late (an offline play reported
    when the app next came online, ``unexpected-exit`` rows). Following kellnerd/listenbrainz-ts,
    it wins only when it differs from ts - ms_played by more than 10 s.
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 1:
        return None
    seconds = value / 1000 if value > _OFFLINE_MS_THRESHOLD else float(value)
    try:
        start = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    if start < _SPOTIFY_EPOCH or start > ended_at + _END_SLACK:
        return None
    if abs(start - computed_start) <= _OFFLINE_MIN_DIFFERENCE:
        return None
    return min(start, ended_at)


def normalise_extended(row: Any, user_id: str, *, video: bool = False) -> Play | Skip:
    """One extended-streaming-history row → ``Play`` or ``Skip`` (never raises).

    ``video`` marks rows from a ``Streaming_History_Video`` file (music videos); they become
    plays flagged ``video`` so the counting rules decide. The artist is the *album* artist, the
    only one the export names. Rows without a Spotify track URI (local files) are kept under a
    name key when they carry track and artist names.
    """
    if not isinstance(row, Mapping):
        return _MALFORMED
    try:
        return _extended(row, user_id, video)
    except _Malformed:
        return _MALFORMED


def _extended(row: Mapping[str, Any], user_id: str, video: bool) -> Play | Skip:
    ended_at = _parse_utc(row.get("ts"))
    ms_played = _ms(row.get("ms_played"))
    uri = _opt_str(row.get("spotify_track_uri"))
    track_name = _opt_str(row.get("master_metadata_track_name"))
    artist = _opt_str(row.get("master_metadata_album_artist_name"))
    album = _opt_str(row.get("master_metadata_album_album_name"))
    episode = _opt_str(row.get("spotify_episode_uri")) or _opt_str(row.get("episode_name"))
    audiobook = (
        _opt_str(row.get("audiobook_uri"))
        or _opt_str(row.get("audiobook_chapter_uri"))
        or _opt_str(row.get("audiobook_title"))
    )
    if uri is None and track_name is None:
        if episode is not None or _opt_str(row.get("episode_show_name")) is not None:
            return _PODCAST
        if audiobook is not None:
            return _AUDIOBOOK
    track_id = uri[len(TRACK_URI_PREFIX) :] if uri and uri.startswith(TRACK_URI_PREFIX) else None
    if track_id is None and (track_name is None or artist is None):
        return _NO_TRACK
    computed_start = ended_at - timedelta(milliseconds=ms_played)
    started_at = (
        _offline_start(row.get("offline_timestamp"), ended_at, computed_start) or computed_start
    )
    return Play(
        user_id=user_id,
        track_key=TRACK_URI_PREFIX + track_id
        if track_id
        else name_key(artist or "", track_name or ""),
        track_id=track_id,
        track_name=track_name or "",
        artist_names=(artist,) if artist else (),
        artist_ids=(),
        album_name=album,
        album_id=None,
        ended_at=ended_at,
        started_at=started_at,
        ms_played=ms_played,
        ms_played_estimated=False,
        duration_ms=None,
        source="import",
        precision=TimePrecision.SECOND,
        platform=_opt_str(row.get("platform")),
        shuffle=_opt_bool(row.get("shuffle")),
        skipped=_opt_bool(row.get("skipped")),
        offline=_opt_bool(row.get("offline")),
        incognito=_opt_bool(row.get("incognito_mode")),
        reason_start=_opt_str(row.get("reason_start")),
        reason_end=_opt_str(row.get("reason_end")),
        conn_country=_opt_str(row.get("conn_country")),
        video=video,
    )


def _name(value: Any) -> str | None:
    # Some account-data schemas allow numeric names (a band called 311); keep them as text.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return _opt_str(value)


def normalise_account(row: Any, user_id: str) -> Play | Skip:
    """One account-data row → ``Play`` or ``Skip`` (never raises).

    The variant is told by its keys, not the file name: podcast rows carry
    ``podcastName``/``episodeName``, audiobook rows ``audiobookName``/``chapterName``.
    ``endTime`` is the end to the minute, in UTC; the start is end - msPlayed.
    """
    if not isinstance(row, Mapping):
        return _MALFORMED
    try:
        return _account(row, user_id)
    except _Malformed:
        return _MALFORMED


def _account(row: Mapping[str, Any], user_id: str) -> Play | Skip:
    ended_at = _parse_utc(row.get("endTime"))
    ms_played = _ms(row.get("msPlayed"))
    if "podcastName" in row or "episodeName" in row:
        return _PODCAST
    if "audiobookName" in row or "chapterName" in row:
        return _AUDIOBOOK
    artist = _name(row.get("artistName"))
    track_name = _name(row.get("trackName"))
    if artist is None or track_name is None:
        return _NO_TRACK
    if artist == _PLACEHOLDER_ARTIST and track_name == _PLACEHOLDER_TRACK:
        # Local files and unavailable tracks: nothing identifies them.
        return _NO_TRACK
    return Play(
        user_id=user_id,
        track_key=name_key(artist, track_name),
        track_id=None,
        track_name=track_name,
        artist_names=(artist,),
        artist_ids=(),
        album_name=None,
        album_id=None,
        ended_at=ended_at,
        started_at=ended_at - timedelta(milliseconds=ms_played),
        ms_played=ms_played,
        ms_played_estimated=False,
        duration_ms=None,
        source="import",
        precision=TimePrecision.MINUTE,
    )
