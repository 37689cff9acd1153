"""Live streams (Server-Sent Events) of the signed-in user: now playing and stats changes.

Each route streams the user's own topic through ``event_stream_response`` (heartbeats, event
ids, ``Last-Event-ID`` replay, clean end on shutdown). Events produced on another app instance
arrive through the event bridge, so it does not matter which replica a browser is connected to.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse

from actors import topics
from actors.facade import Pipeline
from echostats.api.auth import CurrentUser
from echostats.api.sse import event_stream_response

router = APIRouter(prefix="/api/v1/stream", tags=["streams"])

_SSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A text/event-stream of the events listed above.",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}


def _pipeline(request: Request) -> Pipeline:
    pipeline: Pipeline = request.app.state.pipeline
    return pipeline


@router.get(
    "/now-playing",
    summary="Live now-playing stream",
    description="Events: `now_playing` (track, progress_ms, duration_ms, is_playing, device, "
    "at) when the track, play/pause state or device changes; `idle` when nothing plays; "
    "`play_recorded` when a finished play was stored.",
    response_class=EventSourceResponse,
    responses=_SSE,
)
async def now_playing(request: Request, user: CurrentUser) -> EventSourceResponse:
    return event_stream_response(request, _pipeline(request), [topics.now_playing(user.id)])


@router.get(
    "/stats",
    summary="Live statistics changes",
    description="Events: `stats_updated` (`periods` and `days` that changed) so dashboards "
    "refetch only what changed.",
    response_class=EventSourceResponse,
    responses=_SSE,
)
async def stats(request: Request, user: CurrentUser) -> EventSourceResponse:
    return event_stream_response(request, _pipeline(request), [topics.stats(user.id)])
