"""Job events are typed: the reporter publishes JobChanged / JobProgress / JobFinished and every
consumer reads them back with read_job_event, also after a trip through JSON (the bridge)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from actors import topics
from actors.events import Event, event_of
from actors.job_events import (
    JobChanged,
    JobFinished,
    JobProgress,
    JobReporter,
    read_job_event,
)
from echostats.store import Store
from echostats.store.sync_jobs import SyncJobs

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


async def test_the_reporter_publishes_typed_events(store: Store) -> None:
    published: list[Event] = []
    reporter = await JobReporter.create(
        "u1", "import", SyncJobs(store), published.append, lambda: T0, min_interval=0
    )
    assert await reporter.started()
    await reporter.progress(5, 10, "parse")
    assert await reporter.finished("completed")
    read = [read_job_event(event) for event in published]
    assert [type(e) for e in read] == [
        JobChanged,
        JobChanged,
        JobProgress,
        JobChanged,
        JobFinished,
    ]
    assert read[2] == JobProgress(reporter.job_id, 5, 10, "parse")
    finished = read[-1]
    assert isinstance(finished, JobFinished)
    assert (finished.status, finished.items_processed) == ("completed", 5)
    assert finished.job["status"] == "completed"
    assert all(event.topic == topics.sync_jobs("u1") for event in published)
    # What a browser and another replica receive: the same fields, read back equal.
    bridged = [read_job_event(Event(e.topic, e.name, json.loads(e.json))) for e in published]
    assert [b.job_id if b else None for b in bridged] == [reporter.job_id] * 5
    assert bridged[2] == read[2]


def test_other_events_are_not_job_events() -> None:
    assert read_job_event(Event("now-playing:u1", "now_playing", {"is_playing": True})) is None
    assert read_job_event(Event("sync-jobs:u1", "progress", {"items_processed": 1})) is None


def test_a_finished_event_needs_only_its_job_and_status() -> None:
    event = event_of("sync-jobs:u1", JobFinished("j1", "failed", "it broke"))
    assert event.name == "finished"
    assert json.loads(event.json) == {
        "job_id": "j1",
        "status": "failed",
        "error_message": "it broke",
        "items_processed": 0,
        "job": {},
    }
    assert read_job_event(Event("t", "finished", {"job_id": "j1", "status": "completed"})) == (
        JobFinished("j1", "completed")
    )
