"""``GET /api/v1/recommendations``: suggestions from the person's own history, each explained.

The choosing is pure (``echostats.domain.recommend``); this route takes the last two years of
counted plays from the ledger (canonical tracks and artists, as arrays), asks Spotify's
withdrawn ``/recommendations`` only where it still answers, and shapes the answer: every
suggestion links to its track, artists and album.

Development-mode apps get ``SpotifyWithdrawn`` from that endpoint on every call; asking again on
every request would spend rate limit and quota for a certain refusal, so a refusal is
remembered for a day per process. Any other Spotify failure also just leaves Spotify out: the
history-based answer never depends on Spotify being up.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from echostats.api.analytics_source import AnalyticsDep, shown_track
from echostats.api.passthrough import SpotifyDep, StoreDep
from echostats.api.timestamps import Timestamp
from echostats.domain.identity import Kind
from echostats.domain.plays import ARTIST_KEY_PREFIX, NAME_KEY_PREFIX, TRACK_URI_PREFIX, track_key
from echostats.domain.recommend import (
    Candidate,
    History,
    Options,
    Reason,
    Recommendation,
    SeedType,
    recommend,
    seeds_for,
)
from echostats.errors import SpotifyError, SpotifyWithdrawn
from echostats.spotify import SpotifyClient
from echostats.store.catalog import Catalog

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/recommendations", tags=["recommendations"])

LOOKBACK = timedelta(days=730)
WITHDRAWN_MEMORY = 86_400.0  # seconds a "withdrawn" answer is believed
SPOTIFY_SEEDS = 5


class RecommendedTrackOut(BaseModel):
    spotify_id: str | None
    id: str  # what ``/tracks/{id}`` takes: the Spotify id, else the name key
    name: str
    artists: list[str]
    artist_ids: list[str]  # parallel to ``artists`` (empty for Spotify's own suggestions)
    album: str | None
    album_id: str | None
    uri: str | None
    image_url: str | None


class RecommendationOut(BaseModel):
    rank: int
    track: RecommendedTrackOut
    reason: Reason
    detail: str
    score: float
    play_count: int
    last_played_at: Timestamp | None
    seeds: list[str]


class SeedOut(BaseModel):
    type: str
    key: str
    name: str


class RecommendationsOut(BaseModel):
    items: list[RecommendationOut]
    seed_type: SeedType
    seeds: list[SeedOut]
    sources: list[str]
    notes: list[str]
    plays_considered: int
    since: Timestamp


class _SpotifyMemo:
    """When Spotify last said its recommendations are withdrawn for this app (monotonic s)."""

    def __init__(self) -> None:
        self.withdrawn_at: float | None = None

    def withdrawn(self) -> bool:
        return (
            self.withdrawn_at is not None
            and time.monotonic() - self.withdrawn_at < WITHDRAWN_MEMORY
        )


def _memo(request: Request) -> _SpotifyMemo:
    memo = getattr(request.app.state, "spotify_recommendations", None)
    if not isinstance(memo, _SpotifyMemo):
        memo = _SpotifyMemo()
        request.app.state.spotify_recommendations = memo
    return memo


async def _from_spotify(
    *,
    spotify: SpotifyClient,
    memo: _SpotifyMemo,
    user_id: str,
    history: History,
    now: datetime,
    seed_type: SeedType,
    limit: int,
) -> list[Candidate]:
    if memo.withdrawn() or seed_type == "genres":
        return []
    seeds = seeds_for(history, now, seed_type)
    # Only seeds with Spotify ids can be sent (name-keyed imports have none).
    tracks = [
        s.key.removeprefix(TRACK_URI_PREFIX) for s in seeds if s.key.startswith(TRACK_URI_PREFIX)
    ]
    artists = [
        s.key.removeprefix(ARTIST_KEY_PREFIX) for s in seeds if s.key.startswith(ARTIST_KEY_PREFIX)
    ]
    if not tracks and not artists:
        return []
    try:
        answer = await spotify.recommendations(
            user_id,
            seed_tracks=tracks[:SPOTIFY_SEEDS],
            seed_artists=artists[: max(0, SPOTIFY_SEEDS - len(tracks))],
            limit=limit,
        )
    except SpotifyWithdrawn:
        memo.withdrawn_at = time.monotonic()
        return []
    except SpotifyError as exc:
        log.info(
            "Spotify recommendations unavailable; history only",
            extra={"user_id": user_id, "error": type(exc).__name__},
        )
        return []
    return [
        Candidate(
            track_key(t.id, t.artists[0].name if t.artists else "", t.name),
            t.id,
            t.name,
            tuple(a.name for a in t.artists),
            t.album.name if t.album is not None else None,
        )
        for t in answer
        if t.id
    ]


async def _genres(store: StoreDep) -> dict[str, list[str]]:
    """Artist key → genres, for the catalog's artists that have any."""
    found = await Catalog(store).artist_genres()
    return {ARTIST_KEY_PREFIX + i: genres for i, genres in found.items()}


async def _tracks(a: AnalyticsDep, items: tuple[Recommendation, ...]) -> list[dict[str, Any]]:
    """Each suggestion's links and artwork: identity's for tracks of the history, the
    suggestion's own (no links) for a track only Spotify named."""
    view = await a.view()
    entities = [view.identity.tracks.find(rec.track.track_key) for rec in items]
    known = [e for e in entities if e is not None]
    described = dict(zip(known, await a.describe(Kind.TRACK, known), strict=True))
    out = []
    for rec, entity in zip(items, entities, strict=True):
        track = rec.track
        if entity is not None:
            out.append(described[entity])
            continue
        out.append(
            {
                "spotify_id": track.track_id or track.track_key,
                "name": track.track_name,
                "artists": list(track.artist_names),
                "artist_ids": [],
                "album": track.album_name,
                "album_id": None,
                "image_url": None,
            }
        )
    return out


def _item(rank: int, rec: Recommendation, track: dict[str, Any]) -> RecommendationOut:
    public = str(track["spotify_id"])
    spotify_id = None if public.startswith(NAME_KEY_PREFIX) else public
    return RecommendationOut(
        rank=rank,
        track=RecommendedTrackOut(
            spotify_id=spotify_id,
            id=public,
            **shown_track(track),
            uri=TRACK_URI_PREFIX + spotify_id if spotify_id else None,
        ),
        reason=rec.reason,
        detail=rec.detail,
        score=rec.score,
        play_count=rec.play_count,
        last_played_at=rec.last_played_at,
        seeds=list(rec.seeds),
    )


@router.get(
    "",
    response_model=RecommendationsOut,
    summary="Suggestions from your own history: forgotten favourites, on repeat, co-listened",
)
async def recommendations(
    *,
    request: Request,
    a: AnalyticsDep,
    spotify: SpotifyDep,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    seed_type: SeedType = "mixed",
    include_recent: bool = False,
    recent_days: Annotated[
        int, Query(ge=1, le=365, description="Leave out what was played in these last days.")
    ] = 7,
) -> RecommendationsOut:
    now = datetime.now(UTC)
    since = now - LOOKBACK
    history = (await a.view()).history_since(since)
    genres = await _genres(store) if seed_type == "genres" else {}
    external = await _from_spotify(
        spotify=spotify,
        memo=_memo(request),
        user_id=a.user.id,
        history=history,
        now=now,
        seed_type=seed_type,
        limit=limit,
    )
    options = Options(
        limit=limit, seed_type=seed_type, include_recent=include_recent, recent_days=recent_days
    )
    result = recommend(history, now, options, genres_by_artist=genres, spotify=external)
    tracks = await _tracks(a, result.items)
    return RecommendationsOut(
        items=[
            _item(rank, rec, track)
            for rank, (rec, track) in enumerate(zip(result.items, tracks, strict=True), start=1)
        ],
        seed_type=seed_type,
        seeds=[SeedOut(type=s.kind, key=s.key, name=s.name) for s in result.seeds],
        sources=["history", "spotify"] if external else ["history"],
        notes=list(result.notes),
        plays_considered=len(history),
        since=since,
    )
