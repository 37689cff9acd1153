"""ListenBrainz listens: checking a submission, and a listen to and from a ``Play``.

The submission rules follow ListenBrainz's published API (``/1/submit-listens``, "JSON
Documentation"): the same limits, the same checks and sentences close to theirs, so a scrobbler
that works against ListenBrainz works here unchanged.

A listen's ``listened_at`` is when playback STARTED (ListenBrainz asks clients for the start
time), so a listen becomes a play stamped at its start (``TimePrecision.START``). Its end is
start + the listened time when the client sent one (``duration_played``), else start + the
track length (``duration_ms``/``duration``: a scrobbled track is usually heard to its end),
else the start itself: then nothing is known of its length and its listened time is 0. The
end never lies more than ``dedup.MAX_SPAN`` after the start, so dedup can find it.

The Spotify track id comes from ``additional_info.spotify_id`` (or a Spotify ``origin_url``),
as ListenBrainz documents it (a track URL), and the key is then the Spotify one; otherwise the
name key, exactly as for export rows without an id.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit, urlunsplit

from echostats.domain.dedup import MAX_SPAN
from echostats.domain.plays import (
    Play,
    Skip,
    SkipReason,
    Source,
    TimePrecision,
    track_key,
)
from echostats.domain.polling import NowPlaying

ListenType = Literal["single", "import", "playing_now"]
LISTEN_TYPES: tuple[ListenType, ...] = ("single", "import", "playing_now")

# ListenBrainz's limits (listenbrainz/webserver/views/api_tools.py).
MAX_LISTEN_SIZE = 10_240  # bytes per listen, on average over a request
MAX_LISTENS_PER_REQUEST = 1_000
MAX_LISTEN_PAYLOAD_SIZE = MAX_LISTEN_SIZE * MAX_LISTENS_PER_REQUEST
MAX_ITEMS_PER_GET = 1_000  # listens one read returns
MAX_TAGS_PER_LISTEN = 50
MAX_TAG_SIZE = 64
MAX_DURATION = 24 * 24 * 60 * 60  # seconds: 24 days
MAX_DURATION_MS = MAX_DURATION * 1000
LISTEN_MINIMUM_TS = int(datetime(2002, 10, 1, tzinfo=UTC).timestamp())
LISTENED_AT_ALLOWED_SKEW = timedelta(hours=1)  # a client's clock may run ahead this much

_SINGLE_MBIDS = ("release_mbid", "recording_mbid", "release_group_mbid", "track_mbid")
_LIST_MBIDS = ("artist_mbids", "work_mbids")
_SPOTIFY = re.compile(
    r"(?:https?://open\.spotify\.com/(?:intl-[a-z-]+/)?(?P<kind>track|artist|album)/"
    r"|spotify:(?P<uri_kind>track|artist|album):)?(?P<id>[0-9A-Za-z]{22})(?:[?#].*)?"
)
_SUBMITTED_BY = "EchoStats"


class ListenError(ValueError):
    """A submission ListenBrainz would refuse with 400; the message is its sentence."""


@dataclass(frozen=True)
class Submission:
    listen_type: ListenType
    listens: list[dict[str, Any]]  # checked and cleaned, as ListenBrainz would store them


# --- checking a submission -----------------------------------------------------------------


def parse_submission(raw: bytes, now: datetime) -> Submission:
    """The body of ``POST /1/submit-listens``, checked; raises ``ListenError``."""
    if len(raw) > MAX_LISTEN_PAYLOAD_SIZE:
        raise ListenError(
            f"Payload too large. Payload cannot exceed {MAX_LISTEN_PAYLOAD_SIZE} bytes"
        )
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ListenError(f"Cannot parse JSON document: {exc}") from None
    if not isinstance(data, dict):
        raise ListenError(
            "Invalid JSON document submitted. Top level of JSON document should be a json object."
        )
    if "payload" not in data or "listen_type" not in data:
        raise ListenError("Invalid JSON document submitted.")
    payload = data["payload"]
    if not isinstance(payload, list):
        raise ListenError("The payload in the JSON document should be a list of listens.")
    if not payload:
        raise ListenError("JSON document does not contain any listens")
    if len(payload) > MAX_LISTENS_PER_REQUEST:
        raise ListenError(
            "Too many listens. You may not submit more than "
            f"{MAX_LISTENS_PER_REQUEST} listens at once."
        )
    if len(raw) > len(payload) * MAX_LISTEN_SIZE:
        raise ListenError(
            f"JSON document is too large. Each listens may not be larger than {MAX_LISTEN_SIZE} "
            "bytes."
        )
    listen_type = data["listen_type"]
    if listen_type not in LISTEN_TYPES:
        raise ListenError("JSON document requires a valid listen_type key.")
    if listen_type != "import" and len(payload) > 1:
        raise ListenError(
            "JSON document contains more than listen for a single/playing_now. "
            "It should contain only one."
        )
    return Submission(listen_type, [check_listen(item, listen_type, now) for item in payload])


def check_listen(listen: object, listen_type: ListenType, now: datetime) -> dict[str, Any]:
    """One listen as ListenBrainz checks it, cleaned in place (strings stripped, empty MBIDs
    dropped, durations made integers) and returned; raises ``ListenError``."""
    if not isinstance(listen, dict):
        raise ListenError("Listen is empty and cannot be validated.")
    if listen_type == "playing_now":
        if "listened_at" in listen:
            raise ListenError(
                "JSON document must not contain listened_at while submitting playing_now."
            )
        if "track_metadata" not in listen:
            raise ListenError("JSON document must contain the key track_metadata at the top level.")
        if len(listen) > 1:
            raise ListenError(
                "JSON document may only contain track_metadata as top level key when "
                "submitting playing_now."
            )
    else:
        _check_listened_at(listen, now)
        if "track_metadata" not in listen:
            raise ListenError("JSON document must contain the key track_metadata at the top level.")
        if len(listen) > 2:
            raise ListenError(
                "JSON document may only contain listened_at and track_metadata top level keys"
            )
    metadata = listen["track_metadata"]
    if not isinstance(metadata, dict):
        raise ListenError("JSON document may not have track_metadata with null value.")
    _check_name(metadata, "track_name")
    _check_name(metadata, "artist_name")
    _check_name(metadata, "release_name", required=False)
    info = metadata.get("additional_info")
    if info is not None:
        if not isinstance(info, dict):
            raise ListenError("track_metadata.additional_info must be a JSON object.")
        _check_additional_info(info)
    _check_no_nul(listen)
    return listen


def _check_listened_at(listen: dict[str, Any], now: datetime) -> None:
    if "listened_at" not in listen:
        raise ListenError("JSON document must contain the key listened_at at the top level.")
    value = listen["listened_at"]
    not_int = ListenError("JSON document must contain an int value for listened_at.")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise not_int
    try:
        listen["listened_at"] = int(value)
    except (ValueError, OverflowError):
        raise not_int from None
    if listen["listened_at"] >= int((now + LISTENED_AT_ALLOWED_SKEW).timestamp()):
        raise ListenError("Value for key listened_at is too high.")
    if listen["listened_at"] < LISTEN_MINIMUM_TS:
        raise ListenError(
            "Value for key listened_at is too low. listened_at timestamp should be greater "
            f"than {LISTEN_MINIMUM_TS} (2002-10-01 00:00:00 UTC)."
        )


def _check_name(metadata: dict[str, Any], key: str, *, required: bool = True) -> None:
    if key not in metadata:
        if required:
            raise ListenError(
                f"JSON document does not contain required field track_metadata.{key}."
            )
        return
    if not isinstance(metadata[key], str):
        raise ListenError(f"track_metadata.{key} must be a single string.")
    metadata[key] = metadata[key].strip()
    if not metadata[key]:
        if required:
            raise ListenError(f"field track_metadata.{key} is empty.")
        del metadata[key]


def _check_additional_info(info: dict[str, Any]) -> None:
    _check_tags(info.get("tags"))
    if "duration" in info and "duration_ms" in info:
        raise ListenError("JSON document should not contain both duration and duration_ms.")
    for key, limit in (("duration", MAX_DURATION), ("duration_ms", MAX_DURATION_MS)):
        if key in info:
            info[key] = _positive_int(info[key], key, limit)
    _check_mbids(info)


def _check_tags(tags: object) -> None:
    if tags is not None:
        if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
            raise ListenError("track_metadata.additional_info.tags must be a list of strings.")
        if len(tags) > MAX_TAGS_PER_LISTEN:
            raise ListenError(
                f"JSON document may not contain more than {MAX_TAGS_PER_LISTEN} items in "
                "track_metadata.additional_info.tags."
            )
        if any(len(tag) > MAX_TAG_SIZE for tag in tags):
            raise ListenError(
                "JSON document may not contain track_metadata.additional_info.tags longer "
                f"than {MAX_TAG_SIZE} characters."
            )


def _check_mbids(info: dict[str, Any]) -> None:
    for key in _SINGLE_MBIDS:
        if key in info:
            if not info[key]:
                del info[key]
            elif not _is_uuid(info[key]):
                raise ListenError(f"{key} MBID format invalid.")
    for key in _LIST_MBIDS:
        if key in info:
            mbids = info[key]
            if not mbids:
                del info[key]
                continue
            if not isinstance(mbids, list):
                raise ListenError(f"{key} MBID format invalid.")
            mbids = [mbid for mbid in mbids if mbid]
            if not all(_is_uuid(mbid) for mbid in mbids):
                raise ListenError(f"{key} MBID format invalid.")
            info[key] = mbids


def _positive_int(value: Any, key: str, limit: int) -> int:
    # ListenBrainz also takes numeric strings here ("work around api_compat quirks").
    invalid = ListenError(f"Value for {key} is invalid, should be a positive integer.")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise invalid
    try:
        number = int(float(value))
    except (ValueError, OverflowError):
        raise invalid from None
    if number <= 0:
        raise invalid
    if number > limit:
        raise ListenError(f"Value for {key} is too large, max permitted value is {limit}")
    return number


def _is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _check_no_nul(value: object) -> None:
    # ListenBrainz refuses U+0000 anywhere (PostgreSQL cannot store it); so do we (BSON keys).
    if isinstance(value, str):
        if "\x00" in value:
            raise ListenError(f"{value} contains a unicode null")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_no_nul(key)
            _check_no_nul(item)
    elif isinstance(value, list):
        for item in value:
            _check_no_nul(item)


# --- a listen to a play --------------------------------------------------------------------


def spotify_id(value: object, kind: str = "track") -> str | None:
    """The Spotify id in a track/artist/album URL, URI or bare id; None when it is none."""
    if not isinstance(value, str):
        return None
    match = _SPOTIFY.fullmatch(value.strip())
    if match is None:
        return None
    found_kind = match.group("kind") or match.group("uri_kind")
    if found_kind is not None and found_kind != kind:
        return None
    return match.group("id")


def _text(value: object) -> str | None:
    if isinstance(value, str) and value.strip() and "\x00" not in value:
        return value.strip()
    return None


def _seconds_to_ms(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return int(seconds * 1000) if 0 < seconds <= MAX_DURATION else None


def _length_ms(info: Mapping[str, Any]) -> int | None:
    raw = info.get("duration_ms")
    if raw is not None:
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            return None
        try:
            ms = int(float(raw))
        except ValueError:
            return None
        return ms if 0 < ms <= MAX_DURATION_MS else None
    return _seconds_to_ms(info.get("duration"))


def _artists(metadata: Mapping[str, Any], info: Mapping[str, Any]) -> tuple[str, ...]:
    # multi-scrobbler and others send every credited artist in ``artist_names``; the joined
    # ``artist_name`` ("A, B") would make a name key no other source spells.
    names = info.get("artist_names")
    if isinstance(names, list):
        cleaned = tuple(name for name in (_text(n) for n in names) if name)
        if cleaned and len(cleaned) == len(names):
            return cleaned
    artist = _text(metadata.get("artist_name"))
    return (artist,) if artist else ()


def _artist_ids(info: Mapping[str, Any], count: int) -> tuple[str, ...]:
    raw = info.get("spotify_artist_ids")
    if not isinstance(raw, list) or len(raw) != count:
        return ()
    ids = tuple(spotify_id(value, "artist") for value in raw)
    return tuple(i for i in ids if i) if all(ids) else ()


def listened_at(listen: Mapping[str, Any]) -> datetime | None:
    """The listen's start, as an aware UTC datetime (exports may carry a float)."""
    value = listen.get("listened_at")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not LISTEN_MINIMUM_TS <= value < 1 << 40:
        return None
    return datetime.fromtimestamp(int(value), UTC)


def listen_to_play(listen: object, user_id: str, source: Source) -> Play | Skip:
    """A listen (checked, or a row of a ListenBrainz export) as a play; never raises."""
    if not isinstance(listen, Mapping):
        return Skip(SkipReason.MALFORMED)
    metadata = listen.get("track_metadata")
    start = listened_at(listen)
    if not isinstance(metadata, Mapping) or start is None:
        return Skip(SkipReason.MALFORMED)
    info = metadata.get("additional_info")
    if not isinstance(info, Mapping):
        info = {}
    track_name = _text(metadata.get("track_name"))
    artists = _artists(metadata, info)
    if track_name is None or not artists:
        return Skip(SkipReason.NO_TRACK)
    track_id = spotify_id(info.get("spotify_id")) or spotify_id(info.get("origin_url"))
    length = _length_ms(info)
    played = _seconds_to_ms(info.get("duration_played"))
    span = played if played is not None else (length or 0)
    return Play(
        user_id=user_id,
        track_key=track_key(track_id, artists[0], track_name),
        track_id=track_id,
        track_name=track_name,
        artist_names=artists,
        artist_ids=_artist_ids(info, len(artists)),
        album_name=_text(metadata.get("release_name")),
        album_id=spotify_id(info.get("spotify_album_id"), "album"),
        ended_at=start + min(timedelta(milliseconds=span), MAX_SPAN),
        started_at=start,
        ms_played=span,
        ms_played_estimated=played is None,
        duration_ms=length,
        source=source,
        precision=TimePrecision.START,
        platform=_text(info.get("media_player")) or _text(info.get("submission_client")),
    )


def playing_now(listen: Mapping[str, Any], at: datetime) -> NowPlaying:
    """A checked ``playing_now`` listen as the now-playing state the dashboard shows."""
    metadata = listen["track_metadata"]
    info = metadata.get("additional_info") or {}
    return NowPlaying(
        track_id=spotify_id(info.get("spotify_id")) or spotify_id(info.get("origin_url")),
        track_name=_text(metadata.get("track_name")),
        artists=_artists(metadata, info),
        album=_text(metadata.get("release_name")),
        image_url=None,
        progress_ms=None,
        duration_ms=_length_ms(info),
        is_playing=True,
        device=_text(info.get("media_player")) or _text(info.get("submission_client")),
        at=at,
    )


# --- a play to a listen --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListenedTrack:
    """What a listen says of its track: the same for every play of one spelling."""

    metadata: dict[str, Any]  # artist_name, track_name
    info: dict[str, Any]  # Spotify links, every artist's name
    release_name: str | None


class NamesATrack(Protocol):
    """What a play or a spelling says of its track."""

    @property
    def track_name(self) -> str: ...
    @property
    def artist_names(self) -> Sequence[str]: ...
    @property
    def artist_ids(self) -> Sequence[str]: ...
    @property
    def track_id(self) -> str | None: ...
    @property
    def album_name(self) -> str | None: ...
    @property
    def album_id(self) -> str | None: ...


def listened_track(track: NamesATrack) -> ListenedTrack:
    info: dict[str, Any] = {}
    if track.track_id:
        url = f"https://open.spotify.com/track/{track.track_id}"
        info.update(spotify_id=url, origin_url=url, music_service="spotify.com")
    if len(track.artist_names) > 1:
        info["artist_names"] = list(track.artist_names)
    if track.artist_ids and len(track.artist_ids) == len(track.artist_names):
        info["spotify_artist_ids"] = [
            f"https://open.spotify.com/artist/{artist}" for artist in track.artist_ids
        ]
    if track.album_id:
        info["spotify_album_id"] = f"https://open.spotify.com/album/{track.album_id}"
    metadata = {"artist_name": ", ".join(track.artist_names), "track_name": track.track_name}
    return ListenedTrack(metadata, info, track.album_name or None)


def listen(
    listened_at: int,
    track: ListenedTrack,
    *,
    duration_ms: int | None,
    ms_played: int,
    ms_played_estimated: bool,
) -> dict[str, Any]:
    """One play as a ListenBrainz listen; ``listened_at`` in seconds since the epoch."""
    info: dict[str, Any] = {"submission_client": _SUBMITTED_BY}
    if duration_ms:
        info["duration_ms"] = duration_ms
    if not ms_played_estimated and ms_played >= 1000:
        info["duration_played"] = ms_played // 1000
    info |= track.info
    metadata: dict[str, Any] = {**track.metadata, "additional_info": info}
    if track.release_name:
        metadata["release_name"] = track.release_name
    return {"listened_at": listened_at, "track_metadata": metadata}


def play_to_listen(play: Play) -> dict[str, Any]:
    """A stored play as a ListenBrainz listen (relay, exports, reading back)."""
    return listen(
        int(play.started_at.timestamp()),
        listened_track(play),
        duration_ms=play.duration_ms,
        ms_played=play.ms_played,
        ms_played_estimated=play.ms_played_estimated,
    )


def api_root(url: str) -> str | None:
    """The ``…/1`` root of a ListenBrainz-compatible server from what a person typed
    (``https://api.listenbrainz.org``, ``http://host:8000/apis/listenbrainz/``, with or without
    the ``/1``); None when it is no http(s) URL."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        return None
    path = parts.path.rstrip("/")
    if not path.endswith("/1"):
        path += "/1"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))
