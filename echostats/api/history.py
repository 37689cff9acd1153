"""``/api/v1/history``: the user's plays, newest first, filtered; export; delete one play.

The unfiltered page reads only the days holding it (the history timeline says which); a track id
reads that track's plays through the dedup index; other filters are checked in the app on every
play from the range start on (a walk in bounded windows, ``store.walk``), so such a page costs
a read of that range. ``start``/``end`` select by ``played_at`` (the start); ``ended_at >=
start`` bounds the walk exactly, since a play ends after it starts.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from actors.facade import Pipeline
from echostats.api.auth import CurrentUser
from echostats.api.timestamps import Timestamp
from echostats.domain.history import HistoryFilter
from echostats.domain.listens import play_to_listen
from echostats.domain.periods import PeriodError, resolve_range
from echostats.domain.plays import Source, from_document
from echostats.domain.timestamps import iso_utc
from echostats.errors import NotFound, Unprocessable
from echostats.store.analytics import AnalyticsStore, image_url
from echostats.store.walk import walk_plays

router = APIRouter(prefix="/api/v1/history", tags=["history"])

SPOTIFY_ID = re.compile(r"[0-9A-Za-z]{22}")


class TrackOut(BaseModel):
    spotify_id: str | None
    name: str
    artists: list[str]
    album: str | None
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
    by_id = {
        "artist": artist and SPOTIFY_ID.fullmatch(artist),
        "track": track and SPOTIFY_ID.fullmatch(track),
    }
    return HistoryFilter(
        start=since,
        end=until,
        artist_id=artist if by_id["artist"] else None,
        artist_name=artist if artist and not by_id["artist"] else None,
        track_id=track if by_id["track"] else None,
        track_name=track if track and not by_id["track"] else None,
        source=source,
        q=q or None,
    )


def _play_out(doc: Mapping[str, Any], catalog: Mapping[str, Any]) -> PlayOut:
    context = None
    if doc.get("context_type") or doc.get("context_uri"):
        context = ContextOut(type=doc.get("context_type"), uri=doc.get("context_uri"))
    return PlayOut(
        id=str(doc["_id"]),
        played_at=doc["started_at"],
        ended_at=doc["ended_at"],
        ms_played=int(doc["ms_played"]),
        ms_played_estimated=bool(doc.get("ms_played_estimated")),
        track=TrackOut(
            spotify_id=doc.get("track_id"),
            name=doc.get("track_name") or "",
            artists=list(doc.get("artist_names") or []),
            album=doc.get("album_name"),
            image_url=image_url(catalog.get(doc.get("track_id") or "")),
            duration_ms=doc.get("duration_ms"),
        ),
        source=str(doc.get("source")),
        context=context,
        platform=doc.get("platform"),
        shuffle=doc.get("shuffle"),
        skipped=doc.get("skipped"),
    )


Text = Annotated[str | None, Query(max_length=200)]


@router.get("", response_model=HistoryPage, summary="Your plays, newest first")
async def history(
    request: Request,
    user: CurrentUser,
    *,
    page: Annotated[int, Query(ge=1, le=100_000, description="1-based page")] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    start: Annotated[str | None, Query(description="ISO date or datetime")] = None,
    end: Annotated[str | None, Query(description="ISO date (inclusive) or datetime")] = None,
    artist: Annotated[str | None, Query(max_length=200, description="Spotify id or name")] = None,
    track: Annotated[str | None, Query(max_length=200, description="Spotify id or name")] = None,
    source: Source | None = None,
    q: Annotated[
        str | None, Query(max_length=200, description="case-insensitive substring")
    ] = None,
) -> HistoryPage:
    wanted = _filter(
        request,
        time_zone=user.time_zone,
        start=start,
        end=end,
        artist=artist,
        track=track,
        source=source,
        q=q,
    )
    store = AnalyticsStore(request.app.state.store)
    docs, total = await store.history_page(user.id, wanted, (page - 1) * limit, limit)
    catalog = await store.catalog("tracks", [d.get("track_id") or "" for d in docs])
    return HistoryPage(
        items=[_play_out(doc, catalog) for doc in docs],
        total=total,
        page=page,
        limit=limit,
        pages=(total + limit - 1) // limit,
    )


# --- export --------------------------------------------------------------------------------------

CSV_FIELDS = (
    "id", "played_at", "ended_at", "ms_played", "ms_played_estimated", "track_id", "track_name",
    "artists", "album", "source", "platform", "shuffle", "skipped", "reason_start", "reason_end",
)  # fmt: skip


def _flat(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": str(doc["_id"]),
        "played_at": iso_utc(doc["started_at"]),
        "ended_at": iso_utc(doc["ended_at"]),
        "ms_played": int(doc["ms_played"]),
        "ms_played_estimated": bool(doc.get("ms_played_estimated")),
        "track_id": doc.get("track_id"),
        "track_name": doc.get("track_name"),
        "artists": list(doc.get("artist_names") or []),
        "album": doc.get("album_name"),
        "source": doc.get("source"),
        "platform": doc.get("platform"),
        "shuffle": doc.get("shuffle"),
        "skipped": doc.get("skipped"),
        "reason_start": doc.get("reason_start"),
        "reason_end": doc.get("reason_end"),
    }


def _listenbrainz(doc: Mapping[str, Any]) -> dict[str, Any]:
    """One ListenBrainz listen (the JSON Lines their importer reads, and ours)."""
    return play_to_listen(from_document(doc))


async def _lines(docs: AsyncIterator[dict[str, Any]], fmt: str) -> AsyncIterator[str]:
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS)
        writer.writeheader()
        async for doc in docs:
            row = _flat(doc)
            row["artists"] = "; ".join(row["artists"])
            writer.writerow(row)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()
        return
    if fmt == "listenbrainz":
        async for doc in docs:
            yield json.dumps(_listenbrainz(doc), ensure_ascii=False) + "\n"
        return
    yield "["
    first = True
    async for doc in docs:
        yield ("\n" if first else ",\n") + json.dumps(_flat(doc), ensure_ascii=False)
        first = False
    yield "\n]\n"


MEDIA = {"json": "application/json", "csv": "text/csv", "listenbrainz": "application/x-ndjson"}
SUFFIX = {"json": "json", "csv": "csv", "listenbrainz": "jsonl"}


@router.get(
    "/export",
    summary="Download your plays (streamed)",
    response_class=StreamingResponse,
    responses={200: {"content": {m: {} for m in MEDIA.values()}}},
)
async def export(
    request: Request,
    user: CurrentUser,
    format: Literal["json", "csv", "listenbrainz"] = "json",  # noqa: A002 - the API's name
) -> StreamingResponse:
    """Every stored play, oldest first, written as it is read (never built whole in memory)."""
    docs = walk_plays(request.app.state.store, user.id, newest_first=False)
    return StreamingResponse(
        _lines(docs, format),
        media_type=MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="echostats-plays.{SUFFIX[format]}"'},
    )


@router.delete("/{play_id}", status_code=204, response_class=Response, summary="Delete one play")
async def delete_play(
    request: Request, user: CurrentUser, play_id: Annotated[str, Path(max_length=64)]
) -> Response:
    pipeline: Pipeline = request.app.state.pipeline
    if not await pipeline.delete_play(user.id, play_id):
        raise NotFound("You have no play with that id.")
    return Response(status_code=204)
