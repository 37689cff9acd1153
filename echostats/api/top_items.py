"""Top tracks/artists/albums (paginated), one track or artist with the user's stats, genres."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from echostats.api.analytics import genre_counts
from echostats.api.analytics_models import RangeOut, TopItem, TopPage, range_out
from echostats.api.analytics_source import AnalyticsDep, Range
from echostats.api.item_stats import (
    UserStats,
    artist_top_tracks,
    stats_from_rollups,
    stats_of_plays,
)
from echostats.domain.analytics import page_of
from echostats.domain.periods import PeriodError, parse_tz
from echostats.domain.plays import (
    NAME_KEY_PREFIX,
    TRACK_URI_PREFIX,
    Play,
    artist_key,
    play_artist_keys,
)
from echostats.domain.ranking import Ranked
from echostats.errors import NotFound, Unprocessable
from echostats.store.analytics import image_url

router = APIRouter(prefix="/api/v1", tags=["tracks, artists, albums, genres"])

Page = Annotated[int, Query(ge=1, le=100_000, description="1-based page")]
Limit = Annotated[int, Query(ge=1, le=100, description="items per page (at most 100)")]
ItemId = Annotated[str, Path(min_length=1, max_length=300)]


async def _top(a: AnalyticsDep, params: Range, section: str, page: int, limit: int) -> TopPage:
    rng = await a.resolve(params)
    summary = await a.summary(rng, (section,))
    ranked = summary.ranked(section)
    chunk, pages = page_of(ranked, page, limit)
    items = await a.top_items(section, chunk, (page - 1) * limit + 1)
    return TopPage(
        items=[TopItem(**item) for item in items],
        total=len(ranked),
        page=page,
        limit=limit,
        pages=pages,
        period=rng.period,
        range=range_out(rng),
    )


@router.get("/tracks/top", response_model=TopPage, summary="Your top tracks")
async def top_tracks(a: AnalyticsDep, params: Range, page: Page = 1, limit: Limit = 20) -> TopPage:
    return await _top(a, params, "t", page, limit)


@router.get("/artists/top", response_model=TopPage, summary="Your top artists")
async def top_artists(a: AnalyticsDep, params: Range, page: Page = 1, limit: Limit = 20) -> TopPage:
    return await _top(a, params, "a", page, limit)


@router.get("/albums/top", response_model=TopPage, summary="Your top albums")
async def top_albums(a: AnalyticsDep, params: Range, page: Page = 1, limit: Limit = 20) -> TopPage:
    return await _top(a, params, "al", page, limit)


class GenreOut(BaseModel):
    name: str
    play_count: int
    total_ms: int
    percentage: float


class GenresOut(BaseModel):
    genres: list[GenreOut]
    period: str
    range: RangeOut
    total_genres: int  # known genres ("unknown" is listed but not counted)


@router.get("/genres/distribution", response_model=GenresOut, summary="Plays per genre")
async def genres(a: AnalyticsDep, params: Range) -> GenresOut:
    """Genres of the played artists from the catalog (filled by the enricher where Spotify still
    provides them). Artists with no genres known are reported as ``unknown``, never guessed;
    an artist's plays count for each of its genres, so percentages are of all genre credits."""
    rng = await a.resolve(params)
    summary = await a.summary(rng, ("a",))
    counts = await genre_counts(a, summary)
    whole = sum(g.play_count for g in counts)
    return GenresOut(
        genres=[
            GenreOut(
                name=g.name,
                play_count=g.play_count,
                total_ms=g.total_ms,
                percentage=round(g.play_count / whole * 100, 2) if whole else 0.0,
            )
            for g in counts
        ],
        period=rng.period,
        range=range_out(rng),
        total_genres=sum(1 for g in counts if g.name != "unknown"),
    )


def _zone(a: AnalyticsDep, tz: str | None) -> ZoneInfo:
    try:
        return parse_tz(tz or a.user.time_zone)
    except PeriodError as exc:
        raise Unprocessable(str(exc)) from None


class TrackOut(BaseModel):
    spotify_id: str
    name: str
    artists: list[str]
    album: str | None
    duration_ms: int | None
    external_url: str | None
    image_url: str | None
    stats: UserStats


Tz = Annotated[str | None, Query(description="IANA time zone; default: your setting")]


@router.get("/tracks/{track_id}", response_model=TrackOut, summary="A track and your stats")
async def track(a: AnalyticsDep, track_id: ItemId, tz: Tz = None) -> TrackOut:
    zone = _zone(a, tz)
    key = track_id if track_id.startswith(NAME_KEY_PREFIX) else TRACK_URI_PREFIX + track_id
    catalog = (await a.store.catalog("tracks", [track_id])).get(track_id)
    latest: Play | None
    if zone.key == a.user.time_zone:
        stats, latest = await stats_from_rollups(a, "t", key, lambda p: p.track_key == key)
    else:
        plays = await a.store.track_plays(a.user.id, key)
        stats = stats_of_plays(plays, zone)
        latest = max(plays, key=lambda p: p.ended_at) if plays else None
    if catalog is None and not stats.plays:
        raise NotFound("No track with that id is known here.")
    doc: dict[str, Any] = catalog or {}
    artists = [a_["name"] if isinstance(a_, dict) else str(a_) for a_ in doc.get("artists") or []]
    album = doc.get("album")
    return TrackOut(
        spotify_id=track_id,
        name=doc.get("name") or (latest.track_name if latest else track_id),
        artists=artists or (list(latest.artist_names) if latest else []),
        album=(album.get("name") if isinstance(album, dict) else album)
        or (latest.album_name if latest else None),
        duration_ms=doc.get("duration_ms") or (latest.duration_ms if latest else None),
        external_url=doc.get("external_url")
        or (f"https://open.spotify.com/track/{track_id}" if key.startswith("spotify:") else None),
        image_url=image_url(catalog),
        stats=stats,
    )


class ArtistOut(BaseModel):
    spotify_id: str
    name: str
    genres: list[str]
    image_url: str | None
    external_url: str | None
    stats: UserStats
    top_tracks: list[TopItem]


@router.get("/artists/{artist_id}", response_model=ArtistOut, summary="An artist and your stats")
async def artist(a: AnalyticsDep, artist_id: ItemId, tz: Tz = None) -> ArtistOut:
    """``artist_id`` is a Spotify id, or the ``name:`` key top lists give artists without one."""
    zone = _zone(a, tz)
    by_name = artist_id.startswith(NAME_KEY_PREFIX)
    catalog = None if by_name else (await a.store.catalog("artists", [artist_id])).get(artist_id)
    key = artist_id if by_name else artist_key(artist_id, "")
    latest: Play | None
    if zone.key == a.user.time_zone:
        stats, latest = await stats_from_rollups(a, "a", key, lambda p: key in play_artist_keys(p))
        ranked = await artist_top_tracks(a, key, 10)
    else:
        if by_name:
            plays = await a.store.artist_plays(a.user.id, None, artist_id[len(NAME_KEY_PREFIX) :])
        else:
            plays = await a.store.artist_plays(a.user.id, artist_id, None)
        stats = stats_of_plays(plays, zone)
        latest = max(plays, key=lambda p: p.ended_at) if plays else None
        by_track: dict[str, list[int]] = {}
        for play in plays:
            slot = by_track.setdefault(play.track_key, [0, 0])
            slot[0] += 1
            slot[1] += play.ms_played
        ranked = sorted(
            (Ranked(k, p, m) for k, (p, m) in by_track.items()),
            key=lambda r: (-r.plays, -r.ms, r.key),
        )[:10]
    if catalog is None and not stats.plays:
        raise NotFound("No artist with that id is known here.")
    name = (catalog or {}).get("name")
    if not name and latest is not None:
        name = next(
            (
                n
                for i, n in enumerate(latest.artist_names)
                if artist_id in latest.artist_ids[i : i + 1]
            ),
            latest.artist_names[0] if latest.artist_names else artist_id,
        )
    return ArtistOut(
        spotify_id=artist_id,
        name=name or artist_id,
        genres=[str(g) for g in (catalog or {}).get("genres") or []],
        image_url=image_url(catalog),
        external_url=None if by_name else f"https://open.spotify.com/artist/{artist_id}",
        stats=stats,
        top_tracks=[TopItem(**item) for item in await a.top_items("t", ranked, 1)],
    )
