"""The event type published to browsers, and its JSON encoding.

An ``Event`` is addressed to one topic (``"now-playing:<user_id>"``, ``"sync-jobs:<user_id>"``,
``"stats:<user_id>"``); ``name`` becomes the SSE ``event:`` field and ``id`` the SSE ``id:``.
The broadcaster assigns the id when the event is published, so producers leave it at 0.

Producers build an event from a typed, frozen payload (``event_of``): a dataclass whose
``NAME`` is the event name and whose fields, in order, are the JSON data (a field that is itself
a dataclass, such as ``NowPlayingChanged.track``, is a JSON object). The payloads of the stats
and now-playing topics are here; the job events' are in ``actors.job_events``. Consumers read a
now-playing state back with ``read_now_playing`` instead of picking the data apart by key.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, ClassVar, Protocol

from echostats.domain.polling import NowPlaying
from echostats.domain.timestamps import iso_utc


def _default(value: object) -> object:
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON serialisable in event data")


def encode_data(data: Mapping[str, Any]) -> str:
    """Compact JSON on one line; datetimes as ISO 8601 UTC with a ``Z`` (``...T12:00:00.000Z``)."""
    return json.dumps(
        data, default=_default, ensure_ascii=False, allow_nan=False, separators=(",", ":")
    )


@dataclasses.dataclass(frozen=True)
class Event:
    topic: str
    name: str
    data: Mapping[str, Any]
    id: int = 0

    @functools.cached_property
    def json(self) -> str:
        """``data`` encoded once, however many subscribers send it."""
        return encode_data(self.data)


# --- typed payloads ------------------------------------------------------------------------------


class Payload(Protocol):
    """A frozen dataclass naming its event."""

    NAME: ClassVar[str]
    __dataclass_fields__: ClassVar[dict[str, Any]]


def event_data(payload: Payload) -> dict[str, Any]:
    """The event's JSON data: the payload's fields, in order."""
    return {f.name: _data(getattr(payload, f.name)) for f in dataclasses.fields(payload)}


def _data(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def event_of(topic: str, payload: Payload) -> Event:
    return Event(topic, payload.NAME, event_data(payload))


@dataclasses.dataclass(frozen=True)
class PlayRecorded:
    """``play_recorded`` (now-playing topic): the poller's play was stored."""

    NAME: ClassVar[str] = "play_recorded"
    track_id: str | None
    track_name: str
    artists: tuple[str, ...]
    ended_at: datetime
    ms_played: int
    ms_played_estimated: bool


@dataclasses.dataclass(frozen=True)
class StatsUpdated:
    """``stats_updated`` (stats topic): plays of these local days changed these periods."""

    NAME: ClassVar[str] = "stats_updated"
    periods: tuple[str, ...]
    days: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class StatsRebuilt:
    """``stats_updated`` after a ledger build: every period may have changed."""

    NAME: ClassVar[str] = "stats_updated"
    periods: tuple[str, ...]
    rebuilt: bool = True


@dataclasses.dataclass(frozen=True)
class Idle:
    """``idle`` (now-playing topic): nothing plays since ``at``."""

    NAME: ClassVar[str] = "idle"
    at: datetime


@dataclasses.dataclass(frozen=True)
class PlayingTrack:
    """The track of a ``now_playing`` event (its ``track`` object)."""

    spotify_id: str | None
    name: str | None
    artists: tuple[str, ...]
    album: str | None
    image_url: str | None


@dataclasses.dataclass(frozen=True)
class NowPlayingChanged:
    """``now_playing`` (now-playing topic): what plays now, from the poller, a player command
    or a scrobbler's ``playing_now``."""

    NAME: ClassVar[str] = "now_playing"
    track: PlayingTrack
    progress_ms: int | None
    duration_ms: int | None
    is_playing: bool
    device: str | None
    at: datetime


def now_playing_payload(state: NowPlaying) -> NowPlayingChanged | Idle:
    """The now-playing topic's state event for ``state``: ``idle`` when nothing plays."""
    if state.idle:
        return Idle(state.at)
    track = PlayingTrack(
        state.track_id, state.track_name, state.artists, state.album, state.image_url
    )
    return NowPlayingChanged(
        track, state.progress_ms, state.duration_ms, state.is_playing, state.device, state.at
    )


def read_now_playing(event: Event) -> NowPlayingChanged | None:
    """The ``now_playing`` state ``event`` carries (one bridged from another replica too, whose
    data came back from JSON); None for any other event."""
    if event.name != NowPlayingChanged.NAME:
        return None
    data, track = event.data, event.data.get("track") or {}
    at = data["at"]
    return NowPlayingChanged(
        PlayingTrack(
            track.get("spotify_id"),
            track.get("name"),
            tuple(track.get("artists") or ()),
            track.get("album"),
            track.get("image_url"),
        ),
        data.get("progress_ms"),
        data.get("duration_ms"),
        bool(data.get("is_playing")),
        data.get("device"),
        at if isinstance(at, datetime) else datetime.fromisoformat(at),
    )
