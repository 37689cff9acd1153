"""The importer: reads uploaded Spotify exports and hands their plays to the aggregator.

``Importer.submit`` (called through the facade once the route has checked the upload) creates
the pending job and queues the request; ``run`` serves the queue. One import runs at a time (the
store is the bottleneck, and two would only interleave); queued ones stay ``pending`` and can be
cancelled. Parsing runs in a worker thread one batch ahead of the store, so the event loop stays
free and the parse overlaps the writes. Memory is bounded by two batches, whatever the file size.

The importer makes no Spotify call: names-only rows are keyed by name and linked to ids only
from the upload itself (``import_source.NameLinks``). Whatever happens, the upload's private
directory is removed.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from actors.events import Event
from actors.import_source import Batch, Upload, file_reports, read_batches
from actors.job_events import JobReporter
from actors.jobs import JobControl
from actors.messages import AggregatorMessage, BatchOutcome, PlayBatch
from echostats.domain.counting import DEFAULT_RULES, CountingRules
from echostats.domain.import_report import FileReport, ImportReport, record_outcome
from echostats.errors import EchoStatsError, RateLimited
from echostats.store.import_reports import ImportReports
from echostats.store.sync_jobs import SyncJobs

log = logging.getLogger(__name__)

BATCH_SIZE = 2_000
QUEUE = 16  # imports waiting their turn; more than that is refused (429)
STALE_UPLOAD_SECONDS = 3_600
ANSWER_GRACE = 5.0


@dataclass(frozen=True)
class ImportRequest:
    reporter: JobReporter
    upload: Upload
    workdir: Path  # the upload's private directory, removed when the job ends
    dry_run: bool

    @property
    def job_id(self) -> str:
        return self.reporter.job_id


class Importer:
    def __init__(
        self,
        jobs: SyncJobs,
        reports: ImportReports,
        publish: Callable[[Event], object],
        now: Callable[[], datetime],
        *,
        to_aggregator: MemoryObjectSendStream[AggregatorMessage],
        control: JobControl,
        queue: MemoryObjectSendStream[ImportRequest],
        rules: CountingRules = DEFAULT_RULES,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self._jobs = jobs
        self._reports = reports
        self._publish = publish
        self._now = now
        self._to_aggregator = to_aggregator
        self._control = control
        self._queue = queue
        self._rules = rules
        self._batch_size = batch_size
        self._one_at_a_time = anyio.Lock()

    async def submit(self, user_id: str, upload: Upload, workdir: Path, dry_run: bool) -> str:
        """Create the pending import job and queue it; returns the job id."""
        reporter = await JobReporter.create(user_id, "import", self._jobs, self._publish, self._now)
        report = ImportReport(dry_run, file_reports(upload))
        await self._reports.save(reporter.job_id, report.to_document())
        try:
            self._queue.send_nowait(ImportRequest(reporter, upload, workdir, dry_run))
        except anyio.WouldBlock:
            await reporter.finished("failed", "Too many imports are waiting; try again later.")
            raise RateLimited(
                "Too many imports are waiting to run; try again in a minute.", retry_after=60
            ) from None
        return reporter.job_id

    async def run_job(self, request: ImportRequest) -> None:
        reporter = request.reporter
        report = ImportReport(request.dry_run, file_reports(request.upload))
        status, error = "completed", None
        started = False
        try:
            with self._control.running(request.job_id) as scope:
                async with self._one_at_a_time:
                    if not await reporter.started():
                        return  # closed (cancelled) while it waited
                    started = True
                    await self._import(request, report)
            if scope.cancelled_caught:
                status, error = "cancelled", "The import was cancelled on request."
        except EchoStatsError as exc:
            status, error = "failed", exc.detail
        except Exception:
            log.exception("import failed", extra={"job_id": request.job_id})
            status, error = "failed", "The import failed unexpectedly; it has been logged."
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(
                    lambda: shutil.rmtree(request.workdir, ignore_errors=True)
                )
                if started or status != "completed":
                    await self._reports.save(request.job_id, report.to_document())
                    await reporter.finished(status, error)  # type: ignore[arg-type]

    async def _import(self, request: ImportRequest, report: ImportReport) -> None:
        reporter = request.reporter
        upload = request.upload
        batches = read_batches(upload, reporter.user_id, self._rules, self._batch_size)
        send, receive = anyio.create_memory_object_stream[Batch](1)
        total_bytes = max(upload.total_bytes, 1)
        rows_done = 0
        current: int | None = None
        async with anyio.create_task_group() as tg:
            tg.start_soon(_produce, batches, send)
            async with receive:
                async for batch in receive:
                    file = report.files[batch.file_index]
                    if current != batch.file_index:
                        current = batch.file_index
                        await reporter.step_started(f"read {file.name}", file.kind)
                    await self._store(reporter.user_id, batch, file, request.dry_run)
                    rows_done += batch.tally.rows
                    estimate = max(
                        rows_done, round(rows_done * total_bytes / max(batch.bytes_done, 1))
                    )
                    if batch.file_done:
                        await self._reports.save(request.job_id, report.to_document())
                        reporter.steps[-1]["items"] = file.tally.rows
                        await reporter.step_finished(f"read {file.name}", items=file.tally.rows)
                    await reporter.progress(rows_done, estimate, file.name)
        await reporter.progress(rows_done, rows_done, None, force=True)

    async def _store(self, user_id: str, batch: Batch, file: FileReport, dry_run: bool) -> None:
        file.tally.add(batch.tally)
        if not batch.plays:
            return

        def record(outcome: BatchOutcome) -> None:
            record_outcome(
                file.tally,
                sent=len(batch.plays),
                stored=outcome.stored,
                merged=outcome.merged,
                duplicates=outcome.duplicates,
                counted=outcome.counted,
            )

        reply, answer = anyio.create_memory_object_stream[BatchOutcome](1)
        async with answer:
            # A dry run is planned by the aggregator like any batch (so plays already stored are
            # reported as duplicates) but nothing is written.
            await self._to_aggregator.send(
                PlayBatch(user_id, tuple(batch.plays), reply=reply, dry_run=dry_run)
            )
            try:
                record(await answer.receive())
            except anyio.get_cancelled_exc_class():
                # The aggregator writes a batch it has whole: when the job is cancelled, still
                # take its answer so the report counts those plays. Bounded: at shutdown the
                # aggregator is gone too and never answers.
                with anyio.CancelScope(shield=True), anyio.move_on_after(ANSWER_GRACE):
                    record(await answer.receive())
                raise


_END: Any = object()


async def _produce(batches: Iterator[Batch], send: MemoryObjectSendStream[Batch]) -> None:
    """Parse in a worker thread, one batch ahead of the store."""
    try:
        async with send:
            while (batch := await anyio.to_thread.run_sync(next, batches, _END)) is not _END:
                await send.send(batch)
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(batches.close)  # type: ignore[attr-defined]


def remove_stale_uploads(root: Path, now: float, older_than: float = STALE_UPLOAD_SECONDS) -> int:
    """Upload directories a crash left behind (their jobs were marked failed at start-up)."""
    removed = 0
    if not root.is_dir():
        return 0
    for child in root.iterdir():
        try:
            if now - child.stat().st_mtime > older_than:
                shutil.rmtree(child, ignore_errors=True)
                removed += 1
        except FileNotFoundError:
            continue
    return removed


async def run(
    queue: MemoryObjectReceiveStream[ImportRequest],
    importer: Importer,
    *,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Serve queued imports until the stream closes; each job runs in its own task."""
    task_status.started()
    async with anyio.create_task_group() as tg, queue:
        async for request in queue:
            tg.start_soon(importer.run_job, request)
