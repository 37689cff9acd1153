"""Jobs on a database shared by replicas: only a job whose owner stopped beating is abandoned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from actors.job_keeper import JOB_HEARTBEAT, JOB_STALE_AFTER, JobKeeper
from echostats.store import Store
from echostats.store.sync_jobs import INTERRUPTED_SENTENCE, SyncJobs

pytestmark = pytest.mark.anyio

START = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> datetime:
        return self.at


async def status(store: Store, job_id: str) -> str:
    doc = await store["sync_jobs"].find_one({"_id": job_id})
    assert doc is not None
    return str(doc["status"])


async def test_a_starting_replica_leaves_running_jobs_alone_until_their_owner_stops(
    store: Store,
) -> None:
    clock = Clock()
    a_jobs, b_jobs = SyncJobs(store, "replica-a"), SyncJobs(store, "replica-b")
    a, b = JobKeeper(a_jobs, clock), JobKeeper(b_jobs, clock)
    await a.start_up()
    imported = await a_jobs.create("u1", "import", clock(), status="running")

    await b.start_up()  # a rolling deploy starts replica b while a imports
    synced = await b_jobs.create("u2", "manual", clock(), status="running")
    assert await status(store, imported) == "running"

    for _ in range(20):  # both beat for ten minutes: nothing is failed
        clock.at += timedelta(seconds=JOB_HEARTBEAT)
        await a.beat()
        await b.beat()
    assert (await status(store, imported), await status(store, synced)) == ("running", "running")

    # Replica a is killed: its heartbeat stops. Within the stale time b leaves the job alone...
    clock.at += JOB_STALE_AFTER - timedelta(seconds=1)
    await b.beat()
    assert await status(store, imported) == "running"
    # ...and then says the job can never finish. b's own job goes on.
    clock.at += timedelta(seconds=2)
    await b.beat()
    doc = await store["sync_jobs"].find_one({"_id": imported})
    assert doc is not None
    assert (doc["status"], doc["error_message"]) == ("failed", INTERRUPTED_SENTENCE)
    assert doc["completed_at"] == clock()
    assert await status(store, synced) == "running"


async def test_at_start_a_previous_run_of_the_same_owner_and_legacy_jobs_are_abandoned(
    store: Store,
) -> None:
    clock = Clock()
    before = SyncJobs(store, "replica-a")
    left = await before.create("u1", "import", clock(), status="running")
    other = await SyncJobs(store, "replica-b").create("u1", "manual", clock())
    legacy = "legacy-job"  # written before jobs had an owner and a heartbeat
    await store["sync_jobs"].insert_one(
        {"_id": legacy, "user_id": "u1", "job_type": "manual", "status": "running",
         "created_at": clock(), "steps": []}
    )  # fmt: skip
    keeper = JobKeeper(SyncJobs(store, "replica-a"), clock)  # the same instance id, restarted
    await keeper.start_up()
    assert [await status(store, j) for j in (left, other, legacy)] == [
        "failed", "pending", "failed"
    ]  # fmt: skip

    # A restarted keeper actor (same process) must not fail this process's own jobs.
    mine = await keeper.jobs.create("u2", "import", clock(), status="running")
    await keeper.start_up()
    await keeper.beat()
    assert await status(store, mine) == "running"


async def test_the_only_instance_fails_every_unfinished_job_at_start_without_waiting(
    store: Store,
) -> None:
    clock = Clock()
    crashed = await SyncJobs(store, "echostats-1").create("u1", "import", clock(), status="running")
    finished = await SyncJobs(store, "echostats-1").create("u1", "manual", clock())
    await SyncJobs(store, "echostats-1").finish(finished, "completed", clock())
    keeper = JobKeeper(SyncJobs(store, "echostats-2"), clock, sole_instance=True)
    await keeper.start_up()  # the embedded store: no other instance can run that import
    assert (await status(store, crashed), await status(store, finished)) == (
        "failed", "completed"
    )  # fmt: skip
