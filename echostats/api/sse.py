"""Turns a pipeline subscription into a Server-Sent Events response.

Built on sse-starlette's ``EventSourceResponse``: besides framing and a heartbeat task it watches
uvicorn's shutdown flag and ends open streams when the server stops. Without that, a shutdown
would wait on every connected browser (uvicorn drains requests before the lifespan ends), which a
plain ``StreamingResponse`` cannot notice; on that signal the subscription is ended so the
response finishes with a proper last chunk. It also answers HEAD without opening a stream.

Each event goes out as ``id:`` / ``event:`` / ``data:`` (one line of JSON). A browser reconnects
with ``Last-Event-ID`` (or ``?last_event_id=`` from clients that cannot set headers) and is first
sent the buffered events newer than that id. A client that disconnects cancels the response's
tasks, which leaves the subscription and so removes the subscriber.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable

import anyio
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request

from actors.broadcaster import Subscription
from actors.events import Event
from actors.facade import Pipeline

DEFAULT_HEARTBEAT_SECONDS = 15.0
# Shorter than uvicorn's graceful-shutdown wait; ending a stream takes milliseconds.
SHUTDOWN_GRACE_SECONDS = 2.0
LAST_EVENT_ID_HEADER = "last-event-id"
LAST_EVENT_ID_QUERY = "last_event_id"
_SEP = "\n"
_MAX_ID_DIGITS = 20

EventPredicate = Callable[[Event], bool]


def requested_last_event_id(request: Request) -> int | None:
    """The id the client last saw, from the header or the query; anything malformed is ignored
    (the client then simply gets live events, as on a first connection)."""
    raw = request.headers.get(LAST_EVENT_ID_HEADER) or request.query_params.get(LAST_EVENT_ID_QUERY)
    if raw is None:
        return None
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > _MAX_ID_DIGITS:
        return None
    return int(raw)


def _heartbeat() -> ServerSentEvent:
    return ServerSentEvent(comment="heartbeat", sep=_SEP)


class _Stream:
    """One response's frames, plus the hook that ends them cleanly when the server stops."""

    def __init__(
        self,
        pipeline: Pipeline,
        topics: frozenset[str],
        last_event_id: int | None,
        include: EventPredicate | None,
        close_after: EventPredicate | None,
    ) -> None:
        self._pipeline = pipeline
        self._topics = topics
        self._last_event_id = last_event_id
        self._include = include
        self._close_after = close_after
        self._subscription: Subscription | None = None
        self.shutdown = anyio.Event()

    async def frames(self) -> AsyncIterator[ServerSentEvent]:
        async with self._pipeline.subscribe(self._topics, self._last_event_id) as subscription:
            self._subscription = subscription
            if self.shutdown.is_set():
                return
            # Sent once the subscriber is registered: from here on the client misses nothing.
            yield ServerSentEvent(comment="subscribed", sep=_SEP)
            async for event in subscription:
                if self._include is not None and not self._include(event):
                    continue
                yield ServerSentEvent(event.json, event=event.name, id=str(event.id), sep=_SEP)
                if self._close_after is not None and self._close_after(event):
                    return

    async def end_on_shutdown(self) -> None:
        # Ending the subscription lets ``frames`` return, so the response ends with a proper
        # last chunk instead of being cut off (and logged as an error) by the server.
        await self.shutdown.wait()
        if self._subscription is not None:
            self._subscription.close()


def event_stream_response(
    request: Request,
    pipeline: Pipeline,
    topics: Iterable[str],
    *,
    include: EventPredicate | None = None,
    close_after: EventPredicate | None = None,
    heartbeat_seconds: float = DEFAULT_HEARTBEAT_SECONDS,
) -> EventSourceResponse:
    """Stream the events on ``topics`` (already authorised for the caller) to the client.

    ``include`` filters events (e.g. one job out of a user's sync-jobs topic); the stream ends
    after the first event for which ``close_after`` is true (e.g. that job's ``finished``).
    A comment heartbeat goes out every ``heartbeat_seconds`` so proxies keep the line open.
    """
    if heartbeat_seconds <= 0:
        raise ValueError("heartbeat_seconds must be positive")
    stream = _Stream(
        pipeline, frozenset(topics), requested_last_event_id(request), include, close_after
    )
    return EventSourceResponse(
        stream.frames(),
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        ping=heartbeat_seconds,
        ping_message_factory=_heartbeat,
        shutdown_event=stream.shutdown,
        shutdown_grace_period=SHUTDOWN_GRACE_SECONDS,
        data_sender_callable=stream.end_on_shutdown,
        sep=_SEP,
    )
