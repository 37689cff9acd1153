"""Response shapes shared by the analytics, library and history routes."""

from __future__ import annotations

from pydantic import BaseModel

from echostats.api.timestamps import Timestamp
from echostats.domain.periods import ResolvedRange


class RangeOut(BaseModel):
    start: Timestamp  # UTC, inclusive
    end: Timestamp  # UTC, exclusive


def range_out(rng: ResolvedRange) -> RangeOut:
    return RangeOut(start=rng.start, end=rng.end)


class TopItem(BaseModel):
    rank: int
    spotify_id: str  # the Spotify id, or the normalised name key when Spotify gave no id
    name: str
    artists: list[str]  # for tracks and albums
    artist_ids: list[str]  # parallel to ``artists``: what ``/artists/{id}`` takes
    album: str | None = None  # tracks only
    album_id: str | None = None  # tracks only: what ``/albums/{id}`` takes
    play_count: int
    total_ms: int
    image_url: str | None


class TopPage(BaseModel):
    items: list[TopItem]
    total: int
    page: int
    limit: int
    pages: int
    period: str
    range: RangeOut
