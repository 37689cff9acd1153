"""The end of a now-playing state that a scrobbler announced (``playing_now``).

A scrobbler says when a track starts, never when playback stops. ListenBrainz forgets a
playing-now listen once the track's length has passed (10 minutes without a length); so does
EchoStats: the facade publishes the state at once (the dashboard hears it within a second) and
hands this actor its expiry, and when that comes the actor publishes ``idle`` — unless the
user's now-playing state changed meanwhile (the next track, or the Spotify poller).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import anyio
from anyio.abc import TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream

from actors.broadcaster import Broadcaster
from actors.events import Idle, event_of

INBOX_SIZE = 256  # a full inbox drops an expiry: the state then lasts until the next change
DEFAULT_SECONDS = 600.0  # ListenBrainz's PLAYING_NOW_MAX_DURATION


@dataclass(frozen=True)
class Expiry:
    topic: str
    event_id: int  # the state event this expiry ends
    deadline: float  # on anyio's clock


async def run(
    inbox: MemoryObjectReceiveStream[Expiry],
    broadcaster: Broadcaster,
    now: Callable[[], datetime],
    *,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    pending: dict[str, Expiry] = {}  # the latest expiry per topic
    task_status.started()
    async with inbox:
        while True:
            soonest = min((e.deadline for e in pending.values()), default=math.inf)
            with anyio.move_on_after(max(0.0, soonest - anyio.current_time())):
                try:
                    expiry = await inbox.receive()
                except anyio.EndOfStream:
                    return
                pending[expiry.topic] = expiry
                continue
            for topic, expiry in list(pending.items()):
                if expiry.deadline > anyio.current_time():
                    continue
                del pending[topic]
                state = broadcaster.current_state(topic)
                if state is not None and state.id == expiry.event_id:
                    broadcaster.publish(event_of(topic, Idle(now())))
