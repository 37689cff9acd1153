"""Typed views of the player and listening-history answers (see ``models`` for the rules)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from echostats.spotify.models import (
    Context,
    CursorPaging,
    Playable,
    SpotifyModel,
    Track,
    drop_nulls,
)

# --- history and player ----------------------------------------------------------------------


class PlayHistory(SpotifyModel):
    track: Track
    played_at: datetime
    context: Context | None = None


class RecentlyPlayed(CursorPaging[PlayHistory]):
    """``GET /me/player/recently-played``: newest first, only the last 50 plays exist."""


class Disallows(SpotifyModel):
    """Which actions are not allowed right now (Spotify sends only the ``true`` keys)."""

    interrupting_playback: bool = False
    pausing: bool = False
    resuming: bool = False
    seeking: bool = False
    skipping_next: bool = False
    skipping_prev: bool = False
    toggling_repeat_context: bool = False
    toggling_shuffle: bool = False
    toggling_repeat_track: bool = False
    transferring_playback: bool = False


class Actions(SpotifyModel):
    disallows: Disallows = Field(default_factory=Disallows)

    @model_validator(mode="before")
    @classmethod
    def _accept_unwrapped(cls, value: Any) -> Any:
        # The wire wraps the flags in "disallows"; Spotify's spec models them directly.
        if isinstance(value, dict) and "disallows" not in value:
            return {"disallows": value}
        return value


class Device(SpotifyModel):
    id: str | None = None
    name: str = ""
    type: str = ""
    is_active: bool = False
    is_private_session: bool = False
    is_restricted: bool = False
    volume_percent: int | None = None
    supports_volume: bool | None = None


class Devices(SpotifyModel):
    devices: list[Device] = Field(default_factory=list)


class CurrentlyPlaying(SpotifyModel):
    """``GET /me/player/currently-playing`` (the client returns None for 204 idle answers).

    ``item`` is None during ads (``currently_playing_type == "ad"``) and for episodes when
    episodes were not requested.
    """

    timestamp: int | None = None
    context: Context | None = None
    progress_ms: int | None = None
    item: Playable | None = None
    currently_playing_type: str = "unknown"
    actions: Actions = Field(default_factory=Actions)
    is_playing: bool = False


class PlaybackState(CurrentlyPlaying):
    """``GET /me/player``: the above plus device, repeat and shuffle."""

    device: Device | None = None
    repeat_state: Literal["off", "track", "context"] | str = "off"
    shuffle_state: bool = False
    smart_shuffle: bool | None = None


class Queue(SpotifyModel):
    currently_playing: Playable | None = None
    queue: list[Playable] = Field(default_factory=list)

    _nulls = field_validator("queue", mode="before")(drop_nulls)
