"""``/api/v1/relay``: forward your plays to ListenBrainz or another ListenBrainz-compatible server.

``PUT`` sets the server and your token there (kept encrypted; never shown again), ``GET`` says
where the relay stands (what waits, what was sent, what failed and why), ``DELETE`` stops it,
and ``GET /listens`` lists queued listens with their state. Every new play recorded from then
on (polled or scrobbled; imported history is not forwarded) is sent once, through restarts and
outages of either side (``actors/relay.py``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from actors.facade import Pipeline
from echostats.api.auth import CurrentUser
from echostats.api.timestamps import Timestamp
from echostats.domain.listens import api_root
from echostats.errors import NotFound, Unprocessable
from echostats.store.relay import RelayQueue, RelayTargets, State

router = APIRouter(prefix="/api/v1/relay", tags=["scrobbling"])


class RelayIn(BaseModel):
    url: str = Field(
        max_length=500,
        description="The server's API address, e.g. https://api.listenbrainz.org or "
        "http://other-echostats:8000/apis/listenbrainz",
    )
    token: str = Field(min_length=1, max_length=200, description="Your token on that server")


class QueueCounts(BaseModel):
    pending: int
    sent: int
    rejected: int
    dropped: int


class RelayOut(BaseModel):
    configured: bool
    url: str | None
    problem: str | None = Field(description="Why sending is paused until the settings change")
    queue: QueueCounts


class QueuedListen(BaseModel):
    play_id: str
    track_name: str
    artists: list[str]
    listened_at: Timestamp
    state: State
    attempts: int
    queued_at: Timestamp
    next_attempt_at: Timestamp | None
    sent_at: Timestamp | None
    last_error: str | None


def _targets(request: Request) -> RelayTargets:
    targets: RelayTargets = request.app.state.relay_targets
    return targets


async def _status(request: Request, user_id: str) -> RelayOut:
    target = await _targets(request).get(user_id)
    counts = await RelayQueue(request.app.state.store).counts(user_id)
    return RelayOut(
        configured=target is not None,
        url=target.url if target else None,
        problem=target.problem if target else None,
        queue=QueueCounts(**counts),
    )


@router.get("", response_model=RelayOut, summary="Where your relay stands")
async def relay_status(request: Request, user: CurrentUser) -> RelayOut:
    return await _status(request, user.id)


@router.put(
    "",
    response_model=RelayOut,
    summary="Relay your new plays to a ListenBrainz-compatible server",
    responses={422: {"description": "The address is not an http(s) URL."}},
)
async def set_relay(request: Request, user: CurrentUser, body: RelayIn) -> RelayOut:
    root = api_root(body.url)
    if root is None:
        raise Unprocessable(
            "The relay address must be an http(s) URL, such as https://api.listenbrainz.org."
        )
    now = request.app.state.auth.now()
    await _targets(request).save(user.id, root, body.token.strip(), now)
    # Listens paused by an earlier problem go out now.
    await RelayQueue(request.app.state.store).release_user(user.id, now)
    pipeline: Pipeline = request.app.state.pipeline
    pipeline.relay_changed()
    return await _status(request, user.id)


@router.delete(
    "",
    status_code=204,
    response_class=Response,
    summary="Stop relaying (what was not sent is forgotten)",
    responses={404: {"description": "You do not relay."}},
)
async def stop_relay(request: Request, user: CurrentUser) -> Response:
    if not await _targets(request).remove(user.id):
        raise NotFound("You do not relay your plays anywhere.")
    await RelayQueue(request.app.state.store).forget_user(user.id)
    return Response(status_code=204)


@router.get("/listens", response_model=list[QueuedListen], summary="Your relayed listens")
async def relayed_listens(
    request: Request,
    user: CurrentUser,
    state: State | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[QueuedListen]:
    entries = await RelayQueue(request.app.state.store).latest(user.id, state, limit)
    return [
        QueuedListen(
            play_id=e.play_id,
            track_name=e.track_name,
            artists=list(e.artist_names),
            listened_at=e.started_at,
            state=e.state,
            attempts=e.attempts,
            queued_at=e.queued_at,
            next_attempt_at=e.next_attempt_at,
            sent_at=e.sent_at,
            last_error=e.last_error,
        )
        for e in entries
    ]
