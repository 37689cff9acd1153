"""``sync_jobs`` has one writer, ``SyncJobs``, and every read is a frozen ``SyncJob``."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from echostats.store import Store
from echostats.store.sync_jobs import JobStep, SyncJob, SyncJobs

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


async def test_a_job_is_read_as_a_frozen_record(store: Store) -> None:
    jobs = SyncJobs(store, "replica-a")
    job_id = await jobs.create("u1", "import", T0)
    started = await jobs.start(job_id, T0 + timedelta(seconds=1))
    assert isinstance(started, SyncJob)
    assert (started.id, started.user_id, started.status, started.owner) == (
        job_id,
        "u1",
        "running",
        "replica-a",
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        started.status = "completed"  # type: ignore[misc]
    await jobs.set_steps(job_id, [{"action": "parse", "status": "running", "items": 3}])
    await jobs.save_report(job_id, {"rows": 10, "stored": 7})
    closed = await jobs.finish(job_id, "completed", T0 + timedelta(seconds=2), items_processed=7)
    assert closed is not None
    assert closed.final
    assert closed.steps == (JobStep("parse", "running", items=3),)
    assert closed.report == {"rows": 10, "stored": 7}
    assert await jobs.finish(job_id, "failed", T0) is None  # a job finishes once
    public = closed.public()
    assert public["id"] == job_id
    assert public["report"] == {"rows": 10, "stored": 7}
    assert public["steps"][0]["action"] == "parse"
    assert "user_id" not in public
    assert "owner" not in public
    assert await jobs.get("someone-else", job_id) is None


async def test_a_single_step_job_runs_and_closes(store: Store) -> None:
    """A ledger build's job: one step whose items follow the job's."""
    jobs = SyncJobs(store)
    job_id = await jobs.create("u1", "rollup_build", T0)
    assert (active := await jobs.active("u1", ("rollup_build",))) is not None
    assert active.id == job_id
    await jobs.start_single_step(job_id, "build_ledger", "month by month", T0, None)
    await jobs.single_step_progress(job_id, 40)
    running = await jobs.get("u1", job_id)
    assert running is not None
    assert (running.status, running.items_processed) == ("running", 40)
    assert [(s.action, s.status, s.items) for s in running.steps] == [
        ("build_ledger", "running", 40)
    ]
    done_at = T0 + timedelta(minutes=1)
    await jobs.close_single_step(job_id, "completed", 50, done_at)
    last = await jobs.last_completed("u1", ("rollup_build",))
    assert last is not None
    assert (last.status, last.items_processed, last.completed_at) == ("completed", 50, done_at)
    assert last.steps[0] == JobStep(
        "build_ledger", "completed", "month by month", 50, None, T0, done_at
    )
    assert await jobs.active("u1", ("rollup_build",)) is None
