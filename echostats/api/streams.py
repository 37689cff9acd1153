"""Live streams (Server-Sent Events) of the signed-in user: now playing and stats changes.

Each route streams the user's own topic through ``event_stream_response`` (heartbeats, event
ids, ``Last-Event-ID`` replay, clean end on shutdown). Events produced on another app instance
arrive through the event bridge, so it does not matter which replica a browser is connected to.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import anyio
from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse

from actors import topics
from actors.events import event_of, now_playing_payload
from actors.facade import Pipeline
from actors.poller import snapshot
from echostats.api.auth import CurrentUser
from echostats.api.sse import event_stream_response
from echostats.errors import EchoStatsError
from echostats.spotify import SpotifyClient

router = APIRouter(prefix="/api/v1/stream", tags=["streams"])
LEARN_STATE_WITHIN = 1.0  # seconds a new now-playing stream waits for Spotify's answer

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
    description="Events: first the current state, then `now_playing` (track, progress_ms, "
    "duration_ms, is_playing, device, at) when the track, play/pause state or device changes, "
    "or a scrobbler sends `playing_now`; "
    "`idle` when nothing plays; `play_recorded` when a finished play was stored.",
    response_class=EventSourceResponse,
    responses=_SSE,
)
async def now_playing(request: Request, user: CurrentUser) -> EventSourceResponse:
    pipeline, topic = _pipeline(request), topics.now_playing(user.id)
    if pipeline.current_state(topic) is None:
        await _learn_state(request, pipeline, user.id, topic)
    return event_stream_response(request, pipeline, [topic])


async def _learn_state(request: Request, pipeline: Pipeline, user_id: str, topic: str) -> None:
    """Nobody knows what plays yet (the poller has not seen a change since this process started,
    or polls on another replica): ask Spotify once, so the stream opens with the current state
    within a second. Without an answer in time the stream starts with the next change."""
    spotify: SpotifyClient = request.app.state.auth.spotify
    with anyio.move_on_after(LEARN_STATE_WITHIN):
        try:
            state = await spotify.playback_state(user_id)
        except EchoStatsError:  # Spotify refuses or is down: the poller will say what it sees
            return
        pipeline.offer_state(
            event_of(topic, now_playing_payload(snapshot(state, datetime.now(UTC))))
        )


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
