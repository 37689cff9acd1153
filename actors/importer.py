"""The importer: reads uploaded Spotify exports and hands their plays to the aggregator.

``ImportQueue.submit`` (the facade's, called once the route has checked the upload) creates
the pending job and queues the request; ``run`` serves the queue with an ``Importer`` built for
that run. One import runs at a time (the
store is the bottleneck, and two would only interleave); queued ones stay ``pending`` and can be
cancelled. Parsing runs in a worker thread one batch ahead of the store, so the event loop stays
free and the parse overlaps the writes. Memory is bounded by two batches, whatever the file size.

The importer makes no Spotify call: names-only rows are keyed by name and linked to ids only
from the upload itself (``import_source.NameLinks``). Whatever happens, the upload's private
directory is removed.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from actors.asking import NoAnswer, Pending, send_request
from actors.events import Event
from actors.import_source import Batch, Upload, file_reports, read_batches
from actors.job_events import JobReporter
from actors.jobs import JobControl
from actors.messages import AggregatorMessage, BatchOutcome, PlayBatch
from echostats.domain.counting import DEFAULT_RULES, CountingRules
from echostats.domain.import_report import FileReport, ImportReport, record_outcome
from echostats.errors import EchoStatsError, RateLimited, StoreUnavailable
from echostats.store.sync_jobs import INTERRUPTED_SENTENCE, JobStatus, SyncJobs

log = logging.getLogger(__name__)

BATCH_SIZE = 2_000
IN_FLIGHT = 2  # batches at the aggregator at once (see _import)
PROGRESS_TICK = 0.5  # seconds between progress events: a browser hears at least once a second
QUEUE = 16  # imports waiting their turn; more than that is refused (429)
ANSWER_GRACE = 5.0
# How long the end of a job (its report and final status) waits for a database that does not
# answer: at most STOP_PATIENCE while the service stops, FINISH_PATIENCE otherwise.
FINISH_PATIENCE = 120.0
STOP_PATIENCE = 5.0
FINISH_RETRY = 1.0


class BatchUnanswered(StoreUnavailable):
    """The aggregator stopped (the database failed under it) before answering for a batch."""

    def __init__(self) -> None:
        super().__init__(
            "The database stopped answering during the import. The plays stored so far are "
            "kept; import the same files again to add the rest."
        )


@dataclass(frozen=True)
class ImportRequest:
    reporter: JobReporter
    upload: Upload
    workdir: Path  # the upload's private directory, removed when the job ends
    dry_run: bool

    @property
    def job_id(self) -> str:
        return self.reporter.job_id


class ImportQueue:
    """The facade's side: creates each import's pending job and queues it for the importer.
    It owns the queue's send end (``close``)."""

    def __init__(
        self,
        jobs: SyncJobs,
        publish: Callable[[Event], object],
        now: Callable[[], datetime],
        queue: MemoryObjectSendStream[ImportRequest],
    ) -> None:
        self._jobs = jobs
        self._publish = publish
        self._now = now
        self._queue = queue

    async def submit(self, user_id: str, upload: Upload, workdir: Path, dry_run: bool) -> str:
        """Create the pending import job and queue it; returns the job id."""
        reporter = await JobReporter.create(user_id, "import", self._jobs, self._publish, self._now)
        report = ImportReport(dry_run, file_reports(upload))
        await self._jobs.save_report(reporter.job_id, report.to_document())
        try:
            self._queue.send_nowait(ImportRequest(reporter, upload, workdir, dry_run))
        except anyio.WouldBlock:
            await reporter.finished("failed", "Too many imports are waiting; try again later.")
            raise RateLimited(
                "Too many imports are waiting to run; try again in a minute.", retry_after=60
            ) from None
        return reporter.job_id

    def close(self) -> None:
        self._queue.close()


class Importer:
    """The actor's side: runs queued imports, one at a time. Built anew for every run."""

    def __init__(
        self,
        jobs: SyncJobs,
        publish: Callable[[Event], object],
        now: Callable[[], datetime],
        *,
        to_aggregator: MemoryObjectSendStream[AggregatorMessage],
        control: JobControl,
        rules: CountingRules = DEFAULT_RULES,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self._jobs = jobs
        self._publish = publish
        self._now = now
        self._to_aggregator = to_aggregator
        self._control = control
        self._rules = rules
        self._batch_size = batch_size
        self._one_at_a_time = anyio.Lock()

    async def run_job(self, request: ImportRequest) -> None:
        reporter = request.reporter
        report = ImportReport(request.dry_run, file_reports(request.upload))
        status: JobStatus = "completed"
        error: str | None = None
        started = stopping = False
        try:
            with self._control.running(request.job_id) as scope:
                async with self._one_at_a_time:
                    if not await reporter.started():
                        return  # closed (cancelled) while it waited
                    started = True
                    await self._import(request, report)
            if scope.cancelled_caught:
                status, error = "cancelled", "The import was cancelled on request."
        except anyio.get_cancelled_exc_class():
            # The service is stopping (not a cancel of this job): what was stored stays, and
            # importing the same files again adds only the rest.
            status, error, stopping = "failed", INTERRUPTED_SENTENCE, True
            raise
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
                    patience = STOP_PATIENCE if stopping else FINISH_PATIENCE
                    await self._record_end(request, report, status, error, patience)

    async def _record_end(
        self,
        request: ImportRequest,
        report: ImportReport,
        status: JobStatus,
        error: str | None,
        patience: float,
    ) -> None:
        """Save the report and close the job, waiting out a database that does not answer:
        a job must not stay "running" because its last write met a database outage."""
        with anyio.move_on_after(patience):
            while True:
                try:
                    await self._jobs.save_report(request.job_id, report.to_document())
                    await request.reporter.finished(status, error)
                except StoreUnavailable:
                    await anyio.sleep(FINISH_RETRY)
                else:
                    return
        log.error(
            "import job left open: the database did not answer", extra={"job_id": request.job_id}
        )

    async def _import(self, request: ImportRequest, report: ImportReport) -> None:
        reporter = request.reporter
        upload = request.upload
        batches = read_batches(upload, reporter.user_id, self._rules, self._batch_size)
        send, receive = anyio.create_memory_object_stream[Batch](1)
        total_bytes = max(upload.total_bytes, 1)
        progress = _Progress()
        current: int | None = None
        sent: deque[_Sent] = deque()

        async def settle(done: _Sent) -> None:
            await done.answered()
            file = done.file
            progress.advance(done.batch, total_bytes, file.name)
            await reporter.progress(progress.rows, progress.total, progress.step, force=True)
            if done.batch.file_done:
                await self._jobs.save_report(request.job_id, report.to_document())
                reporter.steps[-1]["items"] = file.tally.rows
                await reporter.step_finished(f"read {file.name}", items=file.tally.rows)

        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(_produce, batches, send)
                tg.start_soon(_tick, reporter, progress)
                async with receive:
                    async for batch in receive:
                        file = report.files[batch.file_index]
                        if current != batch.file_index:
                            current = batch.file_index
                            await reporter.step_started(f"read {file.name}", file.kind)
                        sent.append(
                            await self._send(reporter.user_id, batch, file, request.dry_run)
                        )
                        # Two batches at the aggregator: it plans one while it writes the other.
                        while len(sent) >= IN_FLIGHT:
                            await settle(sent.popleft())
                while sent:
                    await settle(sent.popleft())
                tg.cancel_scope.cancel()  # stops the ticker
        except BaseExceptionGroup as group:
            # The reader stops quietly when this loop fails, so one failure arrives alone:
            # raised as itself, run_job reports its own sentence.
            if len(group.exceptions) == 1:
                raise group.exceptions[0] from None
            raise
        except anyio.get_cancelled_exc_class():
            # The aggregator writes a batch it has whole: when the job is cancelled, still take
            # the answers it owes so the report counts those plays. Bounded: at shutdown the
            # aggregator is gone too and never answers.
            with (
                anyio.CancelScope(shield=True),
                anyio.move_on_after(ANSWER_GRACE),
                contextlib.suppress(BatchUnanswered),  # the aggregator is stopping too
            ):
                while sent:
                    await sent.popleft().answered()
            raise
        finally:
            for unanswered in sent:
                unanswered.answer.discard()
        await reporter.progress(progress.rows, progress.rows, None, force=True)

    async def _send(self, user_id: str, batch: Batch, file: FileReport, dry_run: bool) -> _Sent:
        file.tally.add(batch.tally)
        reply, answer = Pending.open(BatchOutcome, "The import")
        sent = _Sent(batch, file, answer)
        if not batch.plays:
            reply.close()
            return sent
        # A dry run is planned by the aggregator like any batch (so plays already stored are
        # reported as duplicates) but nothing is written.
        try:
            await send_request(
                self._to_aggregator,
                PlayBatch(user_id, tuple(batch.plays), reply=reply, dry_run=dry_run),
                "The import",
            )
        except NoAnswer:
            raise BatchUnanswered from None
        return sent


@dataclass
class _Sent:
    """A batch handed to the aggregator, and the stream its answer comes on."""

    batch: Batch
    file: FileReport
    answer: Pending[BatchOutcome]

    async def answered(self) -> None:
        """Wait for the aggregator's answer and fold it into the file's report. No deadline:
        a batch waits its turn behind the others, and a database that stops answering fails
        the aggregator's write (the driver's timeout), which ends the wait."""
        if not self.batch.plays:
            self.answer.discard()
            return
        try:
            outcome = await self.answer.result()
        except NoAnswer:
            raise BatchUnanswered from None
        record_outcome(
            self.file.tally,
            sent=len(self.batch.plays),
            stored=outcome.stored,
            merged=outcome.merged,
            duplicates=outcome.duplicates,
            counted=outcome.counted,
        )


@dataclass
class _Progress:
    """Rows the store has answered for, the estimated total, and the file being read."""

    rows: int = 0
    total: int | None = None
    step: str | None = None

    def advance(self, batch: Batch, total_bytes: int, file_name: str) -> None:
        self.rows += batch.tally.rows
        # Rows per byte so far, times the upload's bytes (never below what is done).
        share = max(batch.bytes_done, 1) / total_bytes
        self.total = max(self.rows, round(self.rows / share))
        self.step = file_name


async def _tick(reporter: JobReporter, progress: _Progress) -> None:
    """A progress event every ``PROGRESS_TICK`` while the import runs, whatever the batches do
    (a slow batch or a file's report save must not leave a browser a second without news).
    Each answered batch records its progress in the job document; the ticks only announce, so
    they never wait behind the store's current write."""
    while True:
        await anyio.sleep(PROGRESS_TICK)
        await reporter.progress(progress.rows, progress.total, progress.step, persist=False)


_END: Any = object()


async def _produce(batches: Iterator[Batch], send: MemoryObjectSendStream[Batch]) -> None:
    """Parse in a worker thread, one batch ahead of the store."""
    try:
        async with send:
            while (batch := await anyio.to_thread.run_sync(next, batches, _END)) is not _END:
                try:
                    await send.send(batch)
                except anyio.BrokenResourceError:
                    return  # the import loop stopped (its own error says why)
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(batches.close)  # type: ignore[attr-defined]


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
