"""Building plays for tests: every field has a sensible default, overrides name what matters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from echostats.domain.plays import Play, TimePrecision, track_key

T0 = datetime(2024, 3, 30, 12, 0, tzinfo=UTC)


def make_play(**overrides: Any) -> Play:
    track_id = overrides.pop("track_id", "4uLU6hMCjMI75M1A2tKUQC")
    artist = overrides.pop("artist", "Rick Astley")
    name = overrides.pop("track_name", "Never Gonna Give You Up")
    ended_at = overrides.pop("ended_at", T0)
    ms_played = overrides.pop("ms_played", 200_000)
    values: dict[str, Any] = {
        "user_id": "u1",
        "track_key": track_key(track_id, artist, name),
        "track_id": track_id,
        "track_name": name,
        "artist_names": (artist,),
        "artist_ids": (),
        "album_name": "Whenever You Need Somebody",
        "album_id": None,
        "ended_at": ended_at,
        "started_at": ended_at - timedelta(milliseconds=ms_played),
        "ms_played": ms_played,
        "ms_played_estimated": False,
        "duration_ms": None,
        "source": "import",
        "precision": TimePrecision.SECOND,
    }
    values.update(overrides)
    return Play(**values)
