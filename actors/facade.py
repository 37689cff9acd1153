"""``Pipeline``: the only part of the actor pipeline the API touches.

Routes get this object (from the app state), never the hub, its streams or an actor. Commands
for new actors (trigger a sync, submit an import) are added here as methods by whoever writes
those actors, sending a message on a send end the wiring (``actors/pipeline.py``) hands to the
constructor. The facade owns those ends: ``close`` (called when the hub has stopped the actors)
closes them, which ends the streams whose other producers are gone too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import anyio
from anyio.streams.memory import MemoryObjectSendStream

from actors import relay, scheduler, scrobbled_now, topics
from actors.asking import ask
from actors.broadcaster import BroadcastStats, Subscription
from actors.events import Event, event_of, now_playing_payload
from actors.hub import Hub
from actors.import_source import Upload
from actors.importer import ImportQueue
from actors.jobs import JobControl
from actors.ledger_build import LedgerBuilder
from actors.messages import AggregatorMessage, BatchOutcome, DeletePlay, PlayBatch
from actors.scheduler import SyncRequest, SyncTicket, SyncUnavailable, request_sync
from actors.supervisor import ActorStatus
from echostats.domain.plays import Play
from echostats.domain.polling import NowPlaying
from echostats.store.sync_jobs import JobType as SyncJobType

# How long a caller waits for the aggregator. It answers in well under a second; these bound
# the wait when the database stops answering (a frozen server holds a write until the driver's
# own socket timeout, ``store/database.py``), so a route answers 503 instead of hanging.
STORE_PLAYS_TIMEOUT = 60.0  # a sync's recent plays queue behind an import's batches
DELETE_TIMEOUT = 10.0


class Pipeline:
    """The pipeline's commands and events. A send end left out (``None``) is a command this
    facade was built without (a test's facade that only publishes, say)."""

    def __init__(
        self,
        hub: Hub,
        *,
        to_aggregator: MemoryObjectSendStream[AggregatorMessage] | None = None,
        jobs: JobControl | None = None,
        ledger_builder: LedgerBuilder | None = None,
        imports: ImportQueue | None = None,
        expiries: MemoryObjectSendStream[scrobbled_now.Expiry] | None = None,
        relay_nudges: MemoryObjectSendStream[None] | None = None,
        signed_in: MemoryObjectSendStream[str] | None = None,
        sync_requests: MemoryObjectSendStream[SyncRequest] | None = None,
    ) -> None:
        self._hub = hub
        self._to_aggregator = to_aggregator
        self.jobs = jobs or JobControl()
        self._ledger_builder = ledger_builder
        self._imports = imports
        self._expiries = expiries
        self._relay_nudges = relay_nudges
        self._signed_in = signed_in
        self._sync_requests = sync_requests

    def close(self) -> None:
        """Close every send end this facade owns (its import queue's and builder's too)."""
        for send in (
            self._to_aggregator,
            self._expiries,
            self._relay_nudges,
            self._signed_in,
            self._sync_requests,
        ):
            if send is not None:
                send.close()
        for owner in (self._imports, self._ledger_builder):
            if owner is not None:
                owner.close()

    def cancel_job(self, job_id: str) -> bool:
        """Cancel a running job (import, rebuild, sync) in this process."""
        return self.jobs.cancel(job_id)

    def _aggregator(self) -> MemoryObjectSendStream[AggregatorMessage]:
        if self._to_aggregator is None:
            raise RuntimeError("this pipeline was built without an aggregator")
        return self._to_aggregator

    async def submit_plays(self, user_id: str, plays: Sequence[Play]) -> BatchOutcome:
        """Store plays (deduplicated, the ledger updated) and wait for the aggregator's answer."""
        return await ask(
            self._aggregator(),
            lambda reply: PlayBatch(user_id, tuple(plays), reply=reply),
            BatchOutcome,
            what="Storing the plays",
            timeout=STORE_PLAYS_TIMEOUT,
        )

    async def delete_play(self, user_id: str, play_id: str) -> bool:
        """Delete one play (the ledger follows); False when the user has no such play."""
        return await ask(
            self._aggregator(),
            lambda reply: DeletePlay(user_id, play_id, reply=reply),
            bool,
            what="Deleting the play",
            timeout=DELETE_TIMEOUT,
        )

    async def rebuild_ledger(self, user_id: str) -> tuple[str, bool]:
        """Start a ledger build job: (job id, True), or (the running job's id, False)."""
        if self._ledger_builder is None:
            raise RuntimeError("this pipeline was built without a ledger builder")
        return await self._ledger_builder.start(user_id)

    def ledger_building(self, user_id: str) -> bool:
        return self._ledger_builder is not None and self._ledger_builder.is_building(user_id)

    async def submit_import(
        self, user_id: str, upload: Upload, workdir: Path, *, dry_run: bool = False
    ) -> str:
        """Queue a checked upload for the importer; returns the pending job's id. The importer
        removes ``workdir`` when the job ends."""
        if self._imports is None:
            raise RuntimeError("this pipeline was built without an importer")
        return await self._imports.submit(user_id, upload, workdir, dry_run)

    def subscribe(
        self, topics: Iterable[str], last_event_id: int | None = None
    ) -> AbstractAsyncContextManager[Subscription]:
        """Events on ``topics``; buffered ones newer than ``last_event_id`` are replayed first."""
        return self._hub.broadcaster.subscribe(topics, last_event_id)

    def user_signed_in(self, user_id: str) -> None:
        """Start live ingestion (polling) for a user who just signed in; never waits."""
        if self._signed_in is None:
            return
        # When full (or polling is not running), the poll manager's periodic discovery finds
        # the user a little later.
        with contextlib.suppress(anyio.WouldBlock, anyio.BrokenResourceError):
            self._signed_in.send_nowait(user_id)

    async def request_sync(self, user_id: str, job_type: SyncJobType = "manual") -> SyncTicket:
        """Start a sync job now: ``started`` with its id, or ``already_running`` with the id of
        the user's running sync (one per user at a time)."""
        if self._sync_requests is None or scheduler.ACTOR_NAME not in self._hub.liveness():
            raise SyncUnavailable(
                "Syncing is not running in this service right now; try again soon."
            )
        return await request_sync(self._sync_requests, user_id, job_type)

    def publish(self, event: Event) -> Event:
        return self._hub.broadcaster.publish(event)

    def relay_changed(self) -> None:
        """A user's relay settings changed: the sender looks at their queue now."""
        if self._relay_nudges is not None:
            relay.nudge(self._relay_nudges)

    def playing_now(self, user_id: str, state: NowPlaying) -> Event:
        """A scrobbler's ``playing_now``: the user's now-playing state at once, and ``idle``
        when the track's length (or 10 minutes) has passed without news (``scrobbled_now``)."""
        topic = topics.now_playing(user_id)
        event = self._hub.broadcaster.publish(event_of(topic, now_playing_payload(state)))
        seconds = state.duration_ms / 1000 if state.duration_ms else scrobbled_now.DEFAULT_SECONDS
        if self._expiries is not None:
            with contextlib.suppress(anyio.WouldBlock, anyio.BrokenResourceError):
                self._expiries.send_nowait(
                    scrobbled_now.Expiry(event.topic, event.id, anyio.current_time() + seconds)
                )
        return event

    def current_state(self, topic: str) -> Event | None:
        """The latest state event (now playing, idle) on ``topic``; new subscribers get it."""
        return self._hub.broadcaster.current_state(topic)

    def offer_state(self, event: Event) -> Event | None:
        """Make ``event`` the topic's state unless the producer published one meanwhile."""
        return self._hub.broadcaster.offer_state(event)

    def liveness(self) -> dict[str, ActorStatus]:
        return self._hub.liveness()

    def broadcast_stats(self) -> BroadcastStats:
        """Subscribers, events published and slow subscribers dropped, for ``/metrics``."""
        return self._hub.broadcaster.stats()
