"""``/api/v1/history``: the user's plays, newest first, filtered; export; delete one play.

Every page, filter, search and export reads the user's play ledger (``echostats.domain.history``
says how each filter is matched): a mask over the plays in memory, so a search over ten years
costs what a page of the last week costs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from actors.facade import Pipeline
from echostats.api.analytics_source import AnalyticsDep, shown_track
from echostats.api.timestamps import Timestamp
from echostats.domain.history import HistoryFilter, newest_page, select
from echostats.domain.identity import Kind
from echostats.domain.ledger_view import PlayRow
from echostats.domain.periods import PeriodError, resolve_range
from echostats.domain.play_export import Format, export_pieces
from echostats.domain.plays import Source
from echostats.errors import NotFound, Unprocessable

router = APIRouter(prefix="/api/v1/history", tags=["history"])


class TrackOut(BaseModel):
    spotify_id: str | None  # the canonical track's Spotify id (None: known by name only)
    id: str  # what ``/tracks/{id}`` takes: the Spotify id, else the name key
    name: str
    artists: list[str]
    artist_ids: list[str]  # parallel to ``artists``: what ``/artists/{id}`` takes
    album: str | None
    album_id: str | None  # what ``/albums/{id}`` takes
    image_url: str | None
    duration_ms: int | None


class ContextOut(BaseModel):
    type: str | None
    uri: str | None


class PlayOut(BaseModel):
    id: str
    played_at: Timestamp
    ended_at: Timestamp
    ms_played: int
    ms_played_estimated: bool
    track: TrackOut
    source: str
    context: ContextOut | None
    platform: str | None
    shuffle: bool | None
    skipped: bool | None
    counted: bool  # false: the counting rules leave it out (under 30 s, a private session...)


class HistoryPage(BaseModel):
    items: list[PlayOut]
    total: int
    page: int
    limit: int
    pages: int


def _filter(
    request: Request,
    *,
    time_zone: str,
    start: str | None,
    end: str | None,
    artist: str | None,
    track: str | None,
    source: str | None,
    q: str | None,
) -> HistoryFilter:
    """The request's filters; bad dates are a 422 with the reason."""
    since = until = None
    if start is not None or end is not None:
        now: datetime = request.app.state.auth.now()
        try:
            rng = resolve_range(tz=time_zone, now=now, start=start or "1970-01-01", end=end)
        except PeriodError as exc:
            raise Unprocessable(str(exc)) from None
        since, until = rng.start, rng.end
    return HistoryFilter(
        start=since, end=until, artist=artist, track=track, source=source, q=q or None
    )


def _play_out(row: PlayRow, track: dict[str, Any]) -> PlayOut:
    context = None
    context_type, context_uri = row.strings["context_type"], row.strings["context_uri"]
    if context_type or context_uri:
        context = ContextOut(type=context_type, uri=context_uri)
    public = track["spotify_id"]
    return PlayOut(
        id=row.id,
        played_at=row.started_at,
        ended_at=row.ended_at,
        ms_played=row.ms_played,
        ms_played_estimated=row.ms_played_estimated,
        track=TrackOut(
            spotify_id=None if public.startswith("name:") else public,
            id=public,
            **shown_track(track),
            duration_ms=row.duration_ms,
        ),
        source=row.source,
        context=context,
        platform=row.strings["platform"],
        shuffle=row.shuffle,
        skipped=row.skipped,
        counted=row.counted,
    )


Text = Annotated[str | None, Query(max_length=200)]


@router.get("", response_model=HistoryPage, summary="Your plays, newest first")
async def history(
    request: Request,
    a: AnalyticsDep,
    *,
    page: Annotated[int, Query(ge=1, le=100_000, description="1-based page")] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    start: Annotated[str | None, Query(description="ISO date or datetime")] = None,
    end: Annotated[str | None, Query(description="ISO date (inclusive) or datetime")] = None,
    artist: Annotated[str | None, Query(max_length=200, description="Spotify id or name")] = None,
    track: Annotated[str | None, Query(max_length=200, description="Spotify id or name")] = None,
    source: Source | None = None,
    q: Annotated[
        str | None,
        Query(max_length=200, description="substring of a track, artist or album name"),
    ] = None,
) -> HistoryPage:
    wanted = _filter(
        request,
        time_zone=a.user.time_zone,
        start=start,
        end=end,
        artist=artist,
        track=track,
        source=source,
        q=q,
    )
    view = await a.view()
    matching = select(view, wanted)
    rows = [view.row(int(i)) for i in newest_page(matching, (page - 1) * limit, limit)]
    entities = list(dict.fromkeys(r.track for r in rows))
    tracks = dict(zip(entities, await a.describe(Kind.TRACK, entities), strict=True))
    total = len(matching)
    return HistoryPage(
        items=[_play_out(r, tracks[r.track]) for r in rows],
        total=total,
        page=page,
        limit=limit,
        pages=(total + limit - 1) // limit,
    )


# --- export --------------------------------------------------------------------------------------

MEDIA = {"json": "application/json", "csv": "text/csv", "listenbrainz": "application/x-ndjson"}
SUFFIX = {"json": "json", "csv": "csv", "listenbrainz": "jsonl"}


@router.get(
    "/export",
    summary="Download your plays (streamed)",
    response_class=StreamingResponse,
    responses={200: {"content": {m: {} for m in MEDIA.values()}}},
)
async def export(
    a: AnalyticsDep,
    format: Format = "json",  # noqa: A002 - the API's name
) -> StreamingResponse:
    """Every stored play, oldest first, written as it goes (never built whole in memory)."""
    view = await a.view()
    return StreamingResponse(
        export_pieces(view, format),
        media_type=MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="echostats-plays.{SUFFIX[format]}"'},
    )


@router.delete("/{play_id}", status_code=204, response_class=Response, summary="Delete one play")
async def delete_play(
    request: Request, a: AnalyticsDep, play_id: Annotated[str, Path(max_length=64)]
) -> Response:
    pipeline: Pipeline = request.app.state.pipeline
    if not await pipeline.delete_play(a.user.id, play_id):
        raise NotFound("You have no play with that id.")
    return Response(status_code=204)
