"""Rollup rebuilds: recompute a user's rollups from raw plays, as a job with progress.

The aggregator is the only writer of rollups, so the rebuild itself runs on the aggregator's
task (it receives ``RebuildRollups`` like any batch): no batch can interleave with it, and a
rebuild therefore equals the incremental result by construction (both apply
``domain.rollups.change`` to the same plays in the same zone). The price is that
ingest waits while a rebuild runs (≈ the time to read every play once).

``RollupBuilder`` is also what the API starts rebuilds through (via ``Pipeline``): it answers
``already_running`` for a user whose rebuild is queued or running in this process, and marks
a job that a crash left "running" as failed before starting a new one.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import anyio
from anyio.streams.memory import MemoryObjectSendStream

from actors import topics
from actors.events import Event
from actors.jobs import JobControl
from actors.messages import AggregatorMessage
from echostats.domain.periods import parse_tz
from echostats.store.database import Store
from echostats.store.rollup_builds import RollupBuildJobs
from echostats.store.rollups import RollupWriter, build_rollups
from echostats.store.users import Users

log = logging.getLogger(__name__)

PROGRESS_EVERY = 5_000


@dataclass(frozen=True)
class RebuildRollups(AggregatorMessage):
    """Recompute every rollup of ``user_id`` from its stored plays."""

    job_id: str


class RollupBuilder:
    def __init__(
        self,
        store: Store,
        control: JobControl,
        publish: Callable[[Event], Event],
        now: Callable[[], datetime],
        owner: str = "",
    ) -> None:
        self._jobs = RollupBuildJobs(store, owner)
        self._writer = RollupWriter(store)
        self._users = Users(store)
        self._control = control
        self._publish = publish
        self._now = now
        self._queued: dict[str, str] = {}  # job id → user id, queued or running here
        self._lock = anyio.Lock()

    def is_building(self, user_id: str) -> bool:
        return user_id in self._queued.values()

    async def start(
        self, user_id: str, to_aggregator: MemoryObjectSendStream[AggregatorMessage]
    ) -> tuple[str, bool]:
        """Queue a rebuild; returns (job id, True) or the running job's (id, False)."""
        async with self._lock:
            active = await self._jobs.active(user_id)
            if active is not None and active in self._queued:
                return active, False
            if active is not None:
                await self._jobs.finished(
                    active, "failed", 0, self._now(), "interrupted: the service restarted"
                )
            job_id = await self._jobs.create(user_id, self._now())
            self._queued[job_id] = user_id
        await to_aggregator.send(RebuildRollups(user_id, job_id))
        return job_id, True

    async def rebuild(self, message: RebuildRollups) -> None:
        """Run on the aggregator's task. Cancelling the job leaves the old rollups in place."""
        processed = 0
        try:
            with self._control.running(message.job_id) as scope:
                processed = await self._rebuild(message)
            if scope.cancelled_caught:
                await self._jobs.finished(message.job_id, "cancelled", processed, self._now())
        except Exception as exc:
            # Record the failure truthfully, then let the supervisor restart the aggregator.
            await self._jobs.finished(
                message.job_id, "failed", processed, self._now(), f"rebuild failed: {exc}"
            )
            raise
        finally:
            self._queued.pop(message.job_id, None)

    async def _rebuild(self, message: RebuildRollups) -> int:
        user = await self._users.get(message.user_id)
        tz = parse_tz(user.time_zone if user else "UTC")
        total = await self._writer.count(message.user_id)
        await self._jobs.started(message.job_id, total, self._now())

        async def progress(processed: int) -> None:
            await self._jobs.progress(message.job_id, processed)

        rollups, processed = await build_rollups(
            self._writer, message.user_id, tz, progress, PROGRESS_EVERY
        )
        # Past this point the new rollups are being written: finish even if cancelled.
        with anyio.CancelScope(shield=True):
            await self._writer.replace(message.user_id, rollups, uuid.uuid4().hex)
            await self._jobs.finished(message.job_id, "completed", processed, self._now())
        log.info(
            "rollups rebuilt",
            extra={"user_id": message.user_id, "job_id": message.job_id, "plays": processed},
        )
        self._publish(
            Event(
                topics.stats(message.user_id),
                "stats_updated",
                {"periods": ["week", "month", "quarter", "year", "all_time"], "rebuilt": True},
            )
        )
        return processed
