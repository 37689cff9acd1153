"""``POST /api/v1/history/import``: upload a Spotify privacy export; the importer does the rest.

The route only receives the files to disk (under the data directory, never whole in memory),
checks that they are an export (422 naming the file otherwise, 413 over the size limit) and
queues the import job; it answers 202 with the job id at once. Progress and the final report
come on the sync-job stream and from ``GET /api/v1/sync-jobs/{id}``.
"""

from __future__ import annotations

import logging
import shutil
import time
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from actors.facade import Pipeline
from actors.import_source import inspect_upload
from echostats.api.auth import CurrentUser
from echostats.api.ratelimit import RateLimiter, client_address
from echostats.api.uploads import no_room, receive_files
from echostats.errors import Unprocessable
from echostats.settings import Settings

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/history", tags=["history"])

UPLOADS_DIR = "imports"
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
# Shared data directory (external database): an upload folder untouched this long is stale.
STALE_UPLOAD_SECONDS = 24 * 3600.0


class ImportAccepted(BaseModel):
    job_id: str
    status: Literal["pending"]


_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "One or more export files: the whole .zip, or "
                            "Streaming_History_Audio_*/Video_*, endsong_*, StreamingHistory*"
                            " .json files.",
                        },
                        "dry_run": {"type": "boolean", "default": False},
                    },
                }
            }
        },
    }
}


def _limiter(request: Request, settings: Settings) -> RateLimiter:
    # One limiter per app, made on first use, so the composition root needs no change for it.
    state = request.app.state
    limiter: RateLimiter | None = getattr(state, "import_limiter", None)
    if limiter is None:
        limiter = RateLimiter(settings.import_rate_limit)
        state.import_limiter = limiter
    return limiter


def _require_files(files: list[tuple[str, Path]]) -> None:
    if not files:
        raise Unprocessable("Attach at least one export file in the form field 'file'.")


def uploads_root(settings: Settings) -> Path:
    return settings.data_dir / UPLOADS_DIR


def sweep_stale_uploads(settings: Settings, *, older_than: float | None = None) -> int:
    """At start-up: remove upload folders a crash left behind (their jobs were marked failed,
    and nothing will read them again); returns how many.

    ``older_than`` (seconds) spares recent folders: with an external database several replicas
    may share one data directory and another may be receiving an upload right now. With the
    embedded store the data directory is locked to this process, so every folder is stale.
    """
    root = uploads_root(settings)
    if not root.is_dir():
        return 0
    cutoff = time.time() - older_than if older_than is not None else None
    stale = [
        path
        for path in root.iterdir()
        if path.is_dir() and (cutoff is None or path.stat().st_mtime < cutoff)
    ]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    if stale:
        log.warning("removed uploads left by an interrupted run", extra={"count": len(stale)})
    return len(stale)


@router.post(
    "/import",
    status_code=202,
    response_model=ImportAccepted,
    summary="Import a Spotify privacy export (JSON files or the whole ZIP)",
    openapi_extra=_BODY,
    responses={
        413: {"description": "The upload, or the ZIP unpacked, is over the size limit."},
        422: {"description": "A file is not a Spotify streaming-history export."},
        429: {"description": "Too many imports from this client."},
        507: {"description": "The server's disk is full; nothing of the upload was kept."},
    },
)
async def import_history(
    request: Request,
    user: CurrentUser,
    dry_run: Annotated[
        bool, Query(description="Report what would be imported; write nothing.")
    ] = False,
) -> ImportAccepted:
    settings: Settings = request.app.state.settings
    pipeline: Pipeline = request.app.state.pipeline
    _limiter(request, settings).hit(
        client_address(request, settings.trusted_proxy_networks), "history imports"
    )
    workdir = uploads_root(settings) / uuid.uuid4().hex
    try:
        await anyio.Path(workdir).mkdir(parents=True, mode=0o700)
    except OSError as exc:
        if (full := no_room(exc)) is not None:
            raise full from None
        raise
    try:
        received = await receive_files(request, workdir, max_bytes=settings.import_max_bytes)
        _require_files(received.files)
        upload = await anyio.to_thread.run_sync(inspect_upload, received.files)
        dry = dry_run or received.fields.get("dry_run", "").strip().lower() in TRUE_WORDS
        job_id = await pipeline.submit_import(user.id, upload, workdir, dry_run=dry)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(lambda: shutil.rmtree(workdir, ignore_errors=True))
        raise
    return ImportAccepted(job_id=job_id, status="pending")
