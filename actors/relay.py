"""The relay: forwards each user's new plays to a ListenBrainz-compatible server of their choice.

Two halves, joined by the durable queue in the store (``store/relay.py``):

* ``RelayIntake`` is the aggregator's ``before_write`` hook: a batch's new, counted, live plays
  (polled or scrobbled; imported history is not forwarded) of a relaying user are queued before
  the batch is written. Queued first, a crash cannot lose a play the queue has not heard of;
  the queue entry of a batch that was never written finds no play and is dropped later.
* ``run`` (the ``relay`` actor) sends what is due, at most ``BATCH`` listens a request, and
  marks it sent; one replica at a time (a lease). A server that does not answer or fails is
  retried with backoff, doubling from 1 s up to ``max_wait``; a 429 is waited out as the
  server says; a refused token pauses the user's relay until their settings change; a listen
  the server refuses (400) is marked rejected with the server's sentence. Everything waiting
  survives restarts: it is in the store.

A listen whose answer was lost is sent again; the receiver's dedup (ListenBrainz keys a listen
by time and recording, EchoStats by its start) keeps it once there.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import anyio
import httpx
from anyio.abc import TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from echostats.domain.listens import play_to_listen
from echostats.domain.plays import from_document
from echostats.errors import StoreUnavailable
from echostats.store.leases import Leases
from echostats.store.relay import Entry, RelayQueue, RelayTargets, Target

log = logging.getLogger(__name__)

NUDGE_BUFFER = 1  # one pending nudge wakes the sender; more say nothing new
LEASE = "relay:sender"
LEASE_TTL = 60.0
LEASE_RELEASE_PATIENCE = 2.0
BATCH = 100
DUE_PER_ROUND = 1_000
IDLE_WAIT = 30.0  # longest sleep without a nudge (due entries of another replica, clocks)
PAUSED_RECHECK = timedelta(hours=1)  # a paused user's entries are looked at again after this
MISSING_GRACE = timedelta(minutes=10)  # a queued play not stored by then never will be
# Plays are queued (and the sender nudged) just before their batch is written, so a round can
# find one not stored yet: look again in a moment, not a minute later.
MISSING_RETRY = timedelta(seconds=2)
REQUEST_TIMEOUT = httpx.Timeout(20.0, connect=5.0)


@dataclass(frozen=True)
class RelayConfig:
    max_wait: float = 3600.0  # seconds: the longest backoff between tries of a failing server


class RelayIntake:
    """The aggregator's ``before_write``: queue a relaying user's new live plays."""

    def __init__(
        self,
        targets: RelayTargets,
        queue: RelayQueue,
        now: Callable[[], datetime],
        nudge: MemoryObjectSendStream[None],
    ) -> None:
        self._targets = targets
        self._queue = queue
        self._now = now
        self._nudge = nudge

    async def __call__(self, user_id: str, inserted: Sequence[Mapping[str, Any]]) -> None:
        live = [doc for doc in inserted if doc["counted"] and doc["source"] != "import"]
        if not live or not await self._targets.relaying(user_id):
            return
        await self._queue.enqueue(live, self._now())
        nudge(self._nudge)


def nudge(send: MemoryObjectSendStream[None]) -> None:
    """Wake the sender now (it also wakes on its own, so a full stream loses nothing)."""
    with contextlib.suppress(anyio.WouldBlock, anyio.BrokenResourceError):
        send.send_nowait(None)


Verdict = Literal["sent", "refused_token", "bad_listen", "rate_limited", "failed"]


@dataclass(frozen=True)
class Answer:
    verdict: Verdict
    error: str = ""
    wait: float = 0.0  # seconds the server asked us to wait (429, or its window is spent)


def _seconds(headers: httpx.Headers, *names: str) -> float:
    for name in names:
        value = headers.get(name, "")
        if value.replace(".", "", 1).isdigit():
            return float(value)
    return 0.0


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    said = body.get("error") if isinstance(body, dict) else None
    return f"The server answered {response.status_code}" + (f": {str(said)[:200]}" if said else ".")


async def submit(http: httpx.AsyncClient, target: Target, listens: list[dict[str, Any]]) -> Answer:
    """One ``submit-listens`` request to the user's server, judged."""
    body = {"listen_type": "single" if len(listens) == 1 else "import", "payload": listens}
    try:
        response = await http.post(
            f"{target.url}/submit-listens",
            json=body,
            headers={"Authorization": f"Token {target.token}"},
            timeout=REQUEST_TIMEOUT,
            follow_redirects=False,
        )
    except httpx.HTTPError as exc:
        return Answer("failed", f"{target.url} did not answer ({type(exc).__name__}).")
    status = response.status_code
    if status == 429:
        wait = _seconds(response.headers, "Retry-After", "X-RateLimit-Reset-In") or 60.0
        return Answer("rate_limited", _reason(response), wait)
    if 200 <= status < 300:
        spent = response.headers.get("X-RateLimit-Remaining") == "0"
        wait = _seconds(response.headers, "X-RateLimit-Reset-In") if spent else 0.0
        return Answer("sent", wait=wait)
    if status in (401, 403):
        return Answer("refused_token", _reason(response))
    if status == 400:
        return Answer("bad_listen", _reason(response))
    return Answer("failed", _reason(response))


@dataclass
class RelaySender:
    targets: RelayTargets
    queue: RelayQueue
    leases: Leases
    http: httpx.AsyncClient
    now: Callable[[], datetime]
    config: RelayConfig = field(default_factory=RelayConfig)
    _held: dict[str, float] = field(default_factory=dict)  # server url -> anyio time to wait for

    def _backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.config.max_wait, 2.0 ** min(attempts, 30)))

    async def round(self) -> float:
        """Send what is due; seconds until the sender should look again."""
        now = self.now()
        if not await self.leases.acquire(LEASE, now, LEASE_TTL):
            return LEASE_TTL / 3  # another replica sends
        by_user: dict[str, list[Entry]] = defaultdict(list)
        for entry in await self.queue.due(now, DUE_PER_ROUND):
            by_user[entry.user_id].append(entry)
        for user_id, entries in by_user.items():
            await self._send_user(user_id, entries)
        due = await self.queue.next_due()
        wait = IDLE_WAIT if due is None else (due - self.now()).total_seconds()
        return min(IDLE_WAIT, max(0.05, wait))

    async def _send_user(self, user_id: str, entries: list[Entry]) -> None:
        now = self.now()
        ids = [e.play_id for e in entries]
        target = await self.targets.get(user_id)
        if target is None:
            await self.queue.finish(ids, "dropped", "Relaying was turned off before it was sent.")
            return
        problem = target.problem
        if problem is None and target.token is None:
            problem = (
                "The relay token no longer opens with the configured encryption keys; "
                "enter it again in Settings."
            )
            await self.targets.set_problem(user_id, problem)
        if problem is not None:  # paused until the settings change (which releases them)
            later = dict.fromkeys(ids, now + PAUSED_RECHECK)
            await self.queue.retry_later(later, problem, count_attempt=False)
            return
        if self._held.get(target.url, 0.0) > anyio.current_time():
            return  # the server asked for a pause; a later round tries again
        for start in range(0, len(entries), BATCH):
            if not await self._send(target, entries[start : start + BATCH]):
                break

    async def _send(self, target: Target, entries: list[Entry]) -> bool:
        """Send one batch; False when the rest of the user's entries should wait."""
        now = self.now()
        plays = await self.queue.plays([e.play_id for e in entries])
        missing = [e for e in entries if e.play_id not in plays]
        if missing:
            gone = [e.play_id for e in missing if e.queued_at <= now - MISSING_GRACE]
            await self.queue.finish(gone, "dropped", "The play was deleted before it was sent.")
            young = [e.play_id for e in missing if e.queued_at > now - MISSING_GRACE]
            await self.queue.retry_later(
                dict.fromkeys(young, now + MISSING_RETRY),
                "Waiting for the play to be stored.",
                count_attempt=False,
            )
        present = [e for e in entries if e.play_id in plays]
        if not present:
            return True
        listens = [play_to_listen(from_document(plays[e.play_id])) for e in present]
        return await self._settle(target, present, await submit(self.http, target, listens))

    async def _settle(self, target: Target, present: list[Entry], answer: Answer) -> bool:
        """Record what the server said about ``present``; False: the rest should wait."""
        now = self.now()
        ids = [e.play_id for e in present]
        if answer.wait:
            self._held[target.url] = anyio.current_time() + answer.wait
        if answer.verdict == "sent":
            await self.queue.sent(ids, self.now())
            return not answer.wait
        if answer.verdict == "bad_listen":
            if len(present) == 1:
                await self.queue.finish(ids, "rejected", answer.error)
                return True
            # One listen spoils the request: send them one by one to find it.
            for entry in present:
                await self._send(target, [entry])
            return True
        if answer.verdict == "refused_token":
            await self.targets.set_problem(target.user_id, answer.error)
            await self.queue.retry_later(
                dict.fromkeys(ids, now + PAUSED_RECHECK), answer.error, count_attempt=False
            )
            return False
        if answer.verdict == "rate_limited":
            later = now + timedelta(seconds=answer.wait)
            await self.queue.retry_later(
                dict.fromkeys(ids, later), answer.error, count_attempt=False
            )
            return False
        retries = {e.play_id: now + self._backoff(e.attempts) for e in present}
        await self.queue.retry_later(retries, answer.error)
        log.info("relay failed; will retry", extra={"user_id": target.user_id, "listens": len(ids)})
        return False


async def run(
    nudges: MemoryObjectReceiveStream[None],
    sender: RelaySender,
    *,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Send whenever something is due or a nudge says a play was queued."""
    task_status.started()
    try:
        async with nudges:
            while True:
                try:
                    wait = await sender.round()
                except StoreUnavailable:
                    wait = StoreUnavailable.retry_after  # the database is away: soon again
                with anyio.move_on_after(wait if math.isfinite(wait) else IDLE_WAIT):
                    try:
                        await nudges.receive()
                    except anyio.EndOfStream:
                        return
    finally:
        # Stopping (a restart, a rolling deploy): the next sender need not wait out the lease.
        with (
            anyio.CancelScope(shield=True),
            anyio.move_on_after(LEASE_RELEASE_PATIENCE),
            contextlib.suppress(StoreUnavailable),
        ):
            await sender.leases.release(LEASE)
