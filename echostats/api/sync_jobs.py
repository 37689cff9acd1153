"""Sync jobs: ``/api/v1/sync-jobs`` (list, stats, trigger, one job, cancel) and their SSE streams.

Jobs of every type (syncs, imports, ledger builds) are listed here; the streams carry the
events ``actors.job_events.JobReporter`` publishes (``job``, ``progress``, ``finished``).
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sse_starlette import ServerSentEvent

from actors import topics
from actors.events import Event, encode_data, event_data
from actors.facade import Pipeline
from actors.job_events import JobChanged, JobFinished, read_job_event
from echostats.api.auth import CurrentUser
from echostats.api.import_models import ImportReportOut
from echostats.api.sse import event_stream_response
from echostats.api.timestamps import Timestamp
from echostats.errors import Conflict, NotFound
from echostats.settings import Settings
from echostats.store.database import Store
from echostats.store.sync_jobs import JobStatus, JobType, SyncJob, SyncJobs

router = APIRouter(prefix="/api/v1/sync-jobs", tags=["sync jobs"])
streams = APIRouter(prefix="/api/v1", tags=["streams"])

JobId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class StepOut(BaseModel):
    action: str
    status: str
    detail: str | None
    items: int
    error: str | None
    started_at: Timestamp | None
    completed_at: Timestamp | None


class SyncJobOut(BaseModel):
    id: str
    job_type: JobType
    status: JobStatus
    items_processed: int
    items_total: int | None
    error_message: str | None
    started_at: Timestamp | None
    completed_at: Timestamp | None
    created_at: Timestamp
    steps: list[StepOut]
    report: ImportReportOut | None = None  # imports only


class SyncJobPage(BaseModel):
    items: list[SyncJobOut]
    total: int
    page: int
    limit: int
    pages: int


class SyncStatsOut(BaseModel):
    total_jobs: int
    completed: int
    failed: int
    running: int
    total_items_synced: int
    last_sync_at: Timestamp | None
    next_sync_at: Timestamp | None


class TriggerOut(BaseModel):
    status: Literal["started", "already_running"]
    job_id: str


class CancelOut(BaseModel):
    status: Literal["cancelling", "cancelled"]
    job_id: str


def _jobs(request: Request) -> SyncJobs:
    store: Store = request.app.state.store
    return SyncJobs(store)


def _pipeline(request: Request) -> Pipeline:
    pipeline: Pipeline = request.app.state.pipeline
    return pipeline


def _job(job: SyncJob) -> SyncJobOut:
    return SyncJobOut.model_validate(job.public())


async def _owned_job(request: Request, user_id: str, job_id: str) -> SyncJob:
    job = await _jobs(request).get(user_id, job_id)
    if job is None:
        raise NotFound(f"You have no sync job with the id {job_id}.")
    return job


@router.get("", response_model=SyncJobPage, summary="Your jobs, newest first")
async def list_jobs(
    request: Request,
    user: CurrentUser,
    *,
    # Bounded: the skip goes to MongoDB, which takes no integer past 8 bytes.
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    status: JobStatus | None = None,
    job_type: JobType | None = None,
) -> SyncJobPage:
    found, total = await _jobs(request).page(
        user.id, skip=(page - 1) * limit, limit=limit, status=status, job_type=job_type
    )
    return SyncJobPage(
        items=[_job(job) for job in found],
        total=total,
        page=page,
        limit=limit,
        pages=math.ceil(total / limit),
    )


@router.get("/stats", response_model=SyncStatsOut, summary="Counts and sync times")
async def job_stats(request: Request, user: CurrentUser) -> SyncStatsOut:
    jobs = _jobs(request)
    stats = await jobs.stats(user.id)
    settings: Settings = request.app.state.settings
    last = await jobs.last_of(user.id)
    # The scheduler starts the next periodic sync one interval after the last sync began.
    next_at = last.created_at + timedelta(seconds=settings.sync_interval) if last else None
    return SyncStatsOut(**stats, next_sync_at=next_at)


@router.post(
    "/trigger",
    response_model=TriggerOut,
    status_code=202,
    responses={200: {"model": TriggerOut, "description": "A sync was already running"}},
    summary="Sync now (or name the sync already running)",
)
async def trigger(request: Request, user: CurrentUser) -> Response:
    ticket = await _pipeline(request).request_sync(user.id, "manual")
    body = TriggerOut(status=ticket.status, job_id=ticket.job_id).model_dump()
    return JSONResponse(body, status_code=202 if ticket.status == "started" else 200)


@router.get("/{job_id}", response_model=SyncJobOut, summary="One job")
async def get_job(request: Request, user: CurrentUser, job_id: JobId) -> SyncJobOut:
    return _job(await _owned_job(request, user.id, job_id))


@router.post(
    "/{job_id}/cancel",
    response_model=CancelOut,
    status_code=202,
    responses={409: {"description": "The job is not running"}},
    summary="Cancel a running job",
)
async def cancel_job(request: Request, user: CurrentUser, job_id: JobId) -> CancelOut:
    job = await _owned_job(request, user.id, job_id)
    if job.final:
        raise Conflict(f"This job is already {job.status}; only a running job can be cancelled.")
    if _pipeline(request).cancel_job(job_id):
        return CancelOut(status="cancelling", job_id=job_id)
    if job.status == "pending":
        # Not picked up by any worker yet: closing the document is the whole cancellation.
        jobs = _jobs(request)
        if await jobs.cancel(job_id, request.app.state.auth.now()) is not None:
            return CancelOut(status="cancelled", job_id=job_id)
    raise Conflict(
        "This job is not running in this service (it may be finishing on another replica); "
        "try again in a moment."
    )


# --- streams ---------------------------------------------------------------------------------


@streams.get(
    "/stream/sync-jobs",
    response_class=Response,
    responses={200: {"content": {"text/event-stream": {}}}},
    summary="Live job events: job, progress, finished",
)
async def stream_jobs(request: Request, user: CurrentUser) -> Response:
    return event_stream_response(request, _pipeline(request), [topics.sync_jobs(user.id)])


def _final_frames(closed: SyncJob) -> list[ServerSentEvent]:
    """The last two events the job's reporter sent, for a job that finished before the
    stream was subscribed."""
    return [
        ServerSentEvent(encode_data(event_data(payload)), event=payload.NAME, sep="\n")
        for payload in (JobChanged.of(closed, "updated"), JobFinished.of(closed))
    ]


@router.get(
    "/{job_id}/stream",
    response_class=Response,
    responses={200: {"content": {"text/event-stream": {}}}, 404: {"description": "No such job"}},
    summary="Live events of one job; ends after its finished event",
)
async def stream_job(request: Request, user: CurrentUser, job_id: JobId) -> Response:
    await _owned_job(request, user.id, job_id)

    def mine(event: Event) -> bool:
        job_event = read_job_event(event)
        return job_event is not None and job_event.job_id == job_id

    def last(event: Event) -> bool:
        job_event = read_job_event(event)
        return isinstance(job_event, JobFinished) and job_event.job_id == job_id

    response = event_stream_response(
        request, _pipeline(request), [topics.sync_jobs(user.id)], include=mine, close_after=last
    )
    frames = response.body_iterator

    async def checked() -> AsyncIterator[Any]:
        # Look at the job only once subscribed (the first frame says so): a job that finished
        # before that gets its final state sent, and one finishing later is seen live.
        async for frame in frames:
            yield frame
            if isinstance(frame, ServerSentEvent) and frame.comment == "subscribed":
                job = await _jobs(request).get(user.id, job_id)
                if job is not None and job.final:
                    for final in _final_frames(job):
                        yield final
                    await frames.aclose()  # type: ignore[attr-defined]
                    return

    response.body_iterator = checked()
    return response
