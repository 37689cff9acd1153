"""The aggregator: the only writer of plays and of the play ledger.

Each batch (one user's plays, from the poller or an import) is deduplicated against itself and
against stored plays in the batch's time window (one range query, not one per play), merged where
an export row improves a polled play, journalled, written, and folded into the user's ledger
(``echostats.store.ledger_cache``). Then ``play_recorded`` (polled plays) and ``stats_updated``
events go out. Unfinished journal entries from a crash are redone before anything else.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import anyio
from anyio.abc import TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream

from actors import topics
from actors.asking import Reply
from actors.events import Event, PlayRecorded, StatsUpdated, event_of
from actors.messages import AggregatorMessage, BatchOutcome, DeletePlay, PlayBatch
from echostats.domain.counting import DEFAULT_RULES, CountingRules, decide
from echostats.domain.dedup import candidate_range, merge, same_play
from echostats.domain.periods import local_day, parse_tz
from echostats.domain.plays import Play
from echostats.store.plays import Changes, PlayStore, StoredPlay, new_play_id, play_document
from echostats.store.users import Users

log = logging.getLogger(__name__)
T = TypeVar("T")
Document = dict[str, Any]

PERIOD_DAYS = {"week": 7, "month": 30, "quarter": 90, "year": 365}


def changed_periods(days: Iterable[str], today: date) -> list[str]:
    """Which named periods (relative to ``today``) include any of ``days``."""
    ages = [(today - date.fromisoformat(day)).days for day in days]
    if not ages:
        return []
    youngest = min(ages)
    named = [name for name, span in PERIOD_DAYS.items() if 0 <= youngest < span]
    return [*named, "all_time"]


@dataclass
class _Candidate:
    """A play a batch row may duplicate: stored (``original``) or new in this batch (``index``)."""

    play: Play
    original: StoredPlay | None = None
    index: int | None = None


@dataclass
class _Plan:
    inserts: dict[int, tuple[str, Play]] = field(default_factory=dict)
    replacements: dict[str, tuple[StoredPlay, Play]] = field(default_factory=dict)
    duplicates: int = 0


@dataclass(eq=False)  # identity: ``_writing.remove`` must not compare 2,000-play batches
class Prepared:
    """A planned batch: its answer, and (unless there is nothing to write) what to write."""

    batch: PlayBatch
    outcome: BatchOutcome
    entry: Document | None = None  # the journal entry; None: nothing to write
    changes: Changes = field(default_factory=Changes)
    will_store: list[StoredPlay] = field(default_factory=list)  # the plays as they will be stored
    new_plays: list[Play] = field(default_factory=list)
    changed: list[Play] = field(default_factory=list)
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))


class Aggregator:
    def __init__(
        self,
        plays: PlayStore,
        users: Users,
        publish: Callable[[Event], Event],
        now: Callable[[], datetime],
        rules: CountingRules = DEFAULT_RULES,
        *,
        before_write: Callable[[str, Sequence[Document]], Awaitable[None]] | None = None,
    ) -> None:
        self._plays = plays
        # Told a batch's new play documents before they are written (the relay queues them:
        # a crash after this leaves a journal entry that ``recover`` redoes).
        self._before_write = before_write
        self._users = users
        self._publish = publish
        self._now = now
        self._rules = rules
        # Batches planned but not yet written: the next batch is planned while one is written,
        # and must see its plays as stored.
        self._writing: list[Prepared] = []

    def counts(self, play: Play) -> bool:
        return decide(play, self._rules) is None

    async def _zone(self, user_id: str) -> ZoneInfo:
        user = await self._users.get(user_id)
        return parse_tz(user.time_zone if user else "UTC")

    async def recover(self) -> int:
        """Redo what a crash interrupted; returns how many journal entries were redone."""
        entries = await self._plays.unfinished()
        for entry in entries:
            log.warning("redoing an interrupted batch", extra={"batch": entry["_id"]})
            await self._plays.apply(entry)
        return len(entries)

    def _plan(self, batch: PlayBatch, stored: list[StoredPlay]) -> _Plan:
        plan = _Plan()
        # Candidates indexed by track key and by name key (a names-only export row matches a
        # play with an id by name), so each row is compared with a handful, not the batch.
        by_key: dict[str, list[_Candidate]] = defaultdict(list)

        def remember(candidate: _Candidate) -> None:
            by_key[candidate.play.track_key].append(candidate)
            by_key[candidate.play.name_key].append(candidate)

        for s in stored:
            remember(_Candidate(s.play, original=s))
        for index, play in enumerate(sorted(batch.plays, key=lambda p: p.ended_at)):
            near = by_key.get(play.track_key, []) + by_key.get(play.name_key, [])
            match = next((c for c in near if same_play(c.play, play)), None)
            if match is None:
                plan.inserts[index] = (new_play_id(play), play)
                remember(_Candidate(play, index=index))
                continue
            merged = merge(match.play, play)
            if merged == match.play:
                plan.duplicates += 1
                continue
            match.play = merged
            if match.original is not None:
                plan.replacements[match.original.id] = (match.original, merged)
            elif match.index is not None:  # improving a play that is itself new in this batch
                play_id, _ = plan.inserts[match.index]
                plan.inserts[match.index] = (play_id, merged)
        return plan

    async def ingest(self, batch: PlayBatch) -> BatchOutcome:
        """Store one batch (plan, then write): what ``run`` does, one batch at a time."""
        prepared = await self.prepare(batch)
        await self.commit(prepared)
        return prepared.outcome

    async def prepare(self, batch: PlayBatch) -> Prepared:
        """Plan a batch against the stored plays and the batches still being written, and work
        out its documents. Only reads; the plan's CPU work runs in a worker thread, so a batch
        being written meanwhile keeps the store busy."""
        if not batch.plays:
            return Prepared(batch, BatchOutcome(stored=0, merged=0, duplicates=0, counted=0))
        ranges = [candidate_range(p) for p in batch.plays]
        lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
        stored = {s.id: s for s in await self._plays.in_window(batch.user_id, lo, hi)}
        for earlier in self._writing:  # oldest first: a later batch's version of a play wins
            if earlier.batch.user_id == batch.user_id:
                stored.update((s.id, s) for s in earlier.will_store if lo <= s.play.ended_at <= hi)
        tz = await self._zone(batch.user_id)
        prepared = await anyio.to_thread.run_sync(
            self._work, batch, list(stored.values()), tz, self._now()
        )
        if prepared.entry is not None:
            self._writing.append(prepared)
        return prepared

    def _work(
        self, batch: PlayBatch, stored: list[StoredPlay], tz: ZoneInfo, now: datetime
    ) -> Prepared:
        plan = self._plan(batch, stored)
        batch_id = uuid.uuid4().hex
        inserts: list[Document] = []
        will_store: list[StoredPlay] = []
        changed: list[Play] = []  # counted plays added or removed: whose days' figures move
        for play_id, play in plan.inserts.values():
            is_counted = self.counts(play)
            inserts.append(play_document(play_id, play, counted=is_counted, batch=batch_id))
            will_store.append(StoredPlay(play_id, play, is_counted))
            if is_counted:
                changed.append(play)
        replacements = []
        for original, merged in plan.replacements.values():
            is_counted = self.counts(merged)
            old = play_document(original.id, original.play, counted=original.counted, batch="")
            replacements.append(
                (old, play_document(original.id, merged, counted=is_counted, batch=batch_id))
            )
            will_store.append(StoredPlay(original.id, merged, is_counted))
            changed.extend(
                p for p, c in ((original.play, original.counted), (merged, is_counted)) if c
            )
        outcome = BatchOutcome(
            stored=len(inserts),
            merged=len(replacements),
            duplicates=plan.duplicates,
            counted=sum(1 for s in will_store if s.counted),
        )
        if batch.dry_run or not will_store:
            return Prepared(batch, outcome)
        changes = Changes(inserts, replacements)
        return Prepared(
            batch,
            outcome,
            entry=changes.entry(batch_id, batch.user_id, now=now),
            changes=changes,
            will_store=will_store,
            new_plays=[p for _, p in plan.inserts.values()],
            changed=changed,
            tz=tz,
        )

    async def commit(self, prepared: Prepared) -> None:
        """Write a prepared batch (journal, plays, ledger) and announce it."""
        if prepared.entry is None:
            return
        try:
            if self._before_write is not None and prepared.changes.inserts:
                await self._before_write(prepared.batch.user_id, prepared.changes.inserts)
            await self._plays.write(prepared.entry, prepared.changes)
        finally:
            self._writing.remove(prepared)
        self._announce(prepared.batch.user_id, prepared.new_plays, prepared.changed, prepared.tz)

    async def delete(self, message: DeletePlay) -> bool:
        stored = await self._plays.get(message.user_id, message.play_id)
        if stored is None:
            return False
        tz = await self._zone(message.user_id)
        doc = play_document(stored.id, stored.play, counted=stored.counted, batch="")
        changes = Changes(deletions=[doc])
        entry = changes.entry(uuid.uuid4().hex, message.user_id, now=self._now())
        await self._plays.write(entry, changes)
        self._announce(message.user_id, [], [stored.play] if stored.counted else [], tz)
        return True

    def _announce(
        self, user_id: str, new_plays: list[Play], changed: list[Play], tz: ZoneInfo
    ) -> None:
        for play in new_plays:
            if play.source == "poll":
                recorded = PlayRecorded(
                    play.track_id,
                    play.track_name,
                    tuple(play.artist_names),
                    play.ended_at,
                    play.ms_played,
                    play.ms_played_estimated,
                )
                self._publish(event_of(topics.now_playing(user_id), recorded))
        if changed:
            today = local_day(self._now(), tz)
            days = sorted({local_day(p.started_at, tz).isoformat() for p in changed})
            periods = tuple(changed_periods(days, today))
            self._publish(event_of(topics.stats(user_id), StatsUpdated(periods, tuple(days))))


async def run(
    receive: MemoryObjectReceiveStream[AggregatorMessage],
    aggregator: Aggregator,
    *,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Serve the aggregator's stream until it closes.

    Batches are pipelined two deep: while one is written (the store busy), the next is planned
    (the app busy), so neither waits on the other. Writes stay one at a time and in order, and
    anything else (a deletion) waits until no write is under way.

    Every reply is closed however its request ends (``actors/asking.py``). A write that fails
    ends this run: the supervisor restarts the actor with a new ``Aggregator`` (its factory in
    ``actors/pipeline.py`` builds one per run), whose ``recover`` redoes what was journalled,
    so no batch planned by the failed run is taken for stored by the next one."""
    await aggregator.recover()
    task_status.started()
    writing = anyio.Semaphore(1)
    async with receive, anyio.create_task_group() as tg:
        async for message in receive:
            if isinstance(message, PlayBatch):
                try:
                    prepared = await aggregator.prepare(message)
                    await writing.acquire()
                except BaseException:
                    _close(message.reply)
                    raise
                tg.start_soon(_write, aggregator, prepared, writing)
                continue
            async with writing:
                if isinstance(message, DeletePlay):
                    # No batch is in flight here, so a failure (the run restarts and redoes the
                    # journal) abandons nothing; the asker hears "no answer" at once.
                    with _closing(message.reply):
                        _answer(message.reply, await aggregator.delete(message))


async def _write(aggregator: Aggregator, prepared: Prepared, writing: anyio.Semaphore) -> None:
    with _closing(prepared.batch.reply):
        try:
            await aggregator.commit(prepared)
        finally:
            writing.release()
        _answer(prepared.batch.reply, prepared.outcome)


def _closing(reply: Reply[Any] | None) -> contextlib.AbstractContextManager[object]:
    """Close ``reply`` when the block ends, however it ends: its asker never waits for ever."""
    return reply if reply is not None else contextlib.nullcontext()


def _close(reply: Reply[Any] | None) -> None:
    if reply is not None:
        reply.close()


def _answer(reply: Reply[T] | None, answer: T) -> None:
    if reply is not None:
        reply.send(answer)
