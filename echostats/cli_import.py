"""``echostats import PATH... [--user ID] [--dry-run]``: the web import, without the web server.

Opens the store, starts the same pipeline the app runs (importer + aggregator) in-process,
queues the files exactly as the upload route does, and follows the job's events to draw a
progress bar. The files are read where they are; nothing is copied.
"""

from __future__ import annotations

import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import anyio
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from actors import topics
from actors.hub import Hub
from actors.import_source import inspect_upload
from actors.job_events import JobFinished, JobProgress, read_job_event
from actors.pipeline import PipelineStreams, start_pipeline
from echostats.errors import EchoStatsError
from echostats.settings import Settings
from echostats.store import open_store
from echostats.store.ledger_cache import Ledger
from echostats.store.sync_jobs import SyncJob, SyncJobs
from echostats.store.users import Users


def _now() -> datetime:
    return datetime.now(UTC)


async def import_paths(
    settings: Settings, paths: list[Path], user: str | None, dry_run: bool
) -> SyncJob:
    """Run one import to its end; returns the finished job (with its report)."""
    files = [(path.name, path) for path in paths]
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        raise EchoStatsError(f"no such file: {', '.join(missing)}")
    upload = await anyio.to_thread.run_sync(inspect_upload, files)
    async with open_store(settings) as store:
        if user is None:
            only = await Users(store).only_user()
            if only is None:
                raise EchoStatsError("several (or no) users exist: say which with --user ID")
            user = only.id
        elif await Users(store).get(user) is None:
            raise EchoStatsError(f"no user with id {user}")
        root = settings.data_dir / "imports"
        root.mkdir(parents=True, exist_ok=True)
        workdir = Path(tempfile.mkdtemp(prefix=uuid.uuid4().hex[:8], dir=root))
        async with Hub() as hub:
            # An owner of its own: a service sharing the database must not count this import's
            # job as its own (or the service's as this one's).
            streams = PipelineStreams.create()
            pipeline = await start_pipeline(
                hub, streams, store, Ledger(store), _now, owner=f"cli-{uuid.uuid4().hex[:12]}"
            )
            # This process runs no poller, scheduler or relay: nothing would read those streams.
            for unread in (streams.signed_in, streams.sync_requests, streams.relay_nudges):
                unread.receive.close()
            # Nor a Spotify client: the logger's stream has no producer, so the logger finishes.
            streams.api_calls.send.close()
            async with pipeline.subscribe([topics.sync_jobs(user)]) as events:
                job_id = await pipeline.submit_import(user, upload, workdir, dry_run=dry_run)
                with Progress(
                    TextColumn("{task.description}"),
                    BarColumn(),
                    TextColumn("{task.completed:,.0f} rows"),
                    TimeElapsedColumn(),
                    transient=False,
                ) as bar:
                    task = bar.add_task("importing", total=None)
                    async for event in events:
                        job_event = read_job_event(event)
                        if job_event is None or job_event.job_id != job_id:
                            continue
                        if isinstance(job_event, JobProgress):
                            bar.update(
                                task,
                                completed=job_event.items_processed,
                                total=job_event.items_total,
                                description=(job_event.step or "importing")[-50:],
                            )
                        elif isinstance(job_event, JobFinished):
                            break
            job = await SyncJobs(store).get(user, job_id)
    assert job is not None
    return job


def summary(job: SyncJob) -> str:
    report = job.report or {}
    skipped = ", ".join(f"{k} {v}" for k, v in (report.get("skipped") or {}).items() if v)
    not_counted = ", ".join(f"{k} {v}" for k, v in (report.get("not_counted") or {}).items() if v)
    lines = [
        f"import {job.status}{' (dry run)' if report.get('dry_run') else ''}: "
        f"{report.get('rows', 0):,} rows, {report.get('stored', 0):,} plays stored, "
        f"{report.get('merged', 0):,} merged, {report.get('counted', 0):,} counted",
    ]
    if skipped:
        lines.append(f"skipped: {skipped}")
    if not_counted:
        lines.append(f"stored but not counted: {not_counted}")
    if job.error_message:
        lines.append(job.error_message)
    return "\n".join(lines)
