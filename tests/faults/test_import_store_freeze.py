"""The database stops answering in the middle of an import: the job ends ``failed`` with a
sentence that says what to do (not "running" for ever, not "completed"), nothing is doubled, and
importing the same files again completes the history exactly."""

from __future__ import annotations

import logging
import os
import signal
from datetime import timedelta
from pathlib import Path

import anyio
import pytest

from actors.importer import BatchUnanswered
from bench.export_generator import write_export
from echostats.settings import Settings
from echostats.store.boundary import is_unavailable
from echostats.store.embedded import running_embedded_server
from tests.api.test_history_import import (
    _files,
    import_under_way,
    next_job_event,
    run_import,
    stored_plays,
)
from tests.ingest.test_replicas_and_outages import impatient_store
from tests.ledger_views import assert_ledger_matches_plays
from tests.signin import signin_world

pytestmark = [pytest.mark.anyio, pytest.mark.faults]

# A store that gives up after 2 s (a 2,000-play insert takes under a second here), frozen for
# longer than the driver's attempt and its one retry of a write.
STORE_TIMEOUT_MS = 2_000
FROZEN_SECONDS = 15.0


async def test_an_import_whose_database_freezes_fails_clearly_and_reruns_exactly(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    paths, truth = write_export(tmp_path / "export", 10_000, "extended", span=timedelta(days=100))
    expected = BatchUnanswered().detail
    async with (
        running_embedded_server(tmp_path / "db") as server,
        impatient_store(server, STORE_TIMEOUT_MS) as store,
    ):
        assert server.pid is not None
        async with signin_world(settings, store) as world:
            async with import_under_way(world, _files(paths)) as underway:
                os.kill(server.pid, signal.SIGSTOP)
                try:
                    await anyio.sleep(FROZEN_SECONDS)
                finally:
                    os.kill(server.pid, signal.SIGCONT)
                event = await next_job_event(underway.events, underway.job_id, "finished")
            assert (event.data["status"], event.data["error_message"]) == ("failed", expected)
            job = await store["sync_jobs"].find_one({"_id": underway.job_id})
            assert job is not None
            assert (job["status"], job["error_message"]) == ("failed", expected)
            assert job["report"]["rows"] < truth.rows
            # The aggregator came back (its journal redone): the same files complete the history.
            again, _ = await run_import(world, _files(paths))
            assert again["status"] == "completed", (again["error_message"], again["report"])
            docs = await stored_plays(store, underway.uid)
            assert len({(d["track_key"], d["ended_at"]) for d in docs}) == len(docs)
            assert sum(d["counted"] for d in docs) == truth.counted
            await assert_ledger_matches_plays(store, underway.uid)
    # The log says the database did not answer in one line: no driver traceback (the demo's
    # log once showed pymongo's AutoReconnect stack when its import outran the store).
    errors = [r.exc_info[1] for r in caplog.records if r.exc_info]
    traces = [e for e in errors if e is not None and is_unavailable(e)]
    assert not traces, [repr(e) for e in traces]
