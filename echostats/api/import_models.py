"""Response shape of an import job's ``report`` (shown on ``GET /api/v1/sync-jobs/{id}``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SkippedOut(BaseModel):
    """Rows that did not become a new or improved play."""

    podcast: int = 0
    audiobook: int = 0
    no_track: int = 0
    malformed: int = 0
    duplicate_in_upload: int = 0
    duplicate_stored: int = 0


class NotCountedOut(BaseModel):
    """Plays stored but left out of the statistics by the counting rules."""

    too_short: int = 0
    incognito: int = 0
    video: int = 0


class ImportCountsOut(BaseModel):
    rows: int = Field(description="Rows read.")
    stored: int = Field(description="New plays written.")
    merged: int = Field(description="Stored (polled) plays improved by an export row.")
    counted: int = Field(description="Of the stored and merged plays, how many count.")
    skipped: SkippedOut
    not_counted: NotCountedOut


class ImportFileOut(ImportCountsOut):
    name: str
    kind: str = Field(description='"extended/audio", "account/music", ... or "ignored".')
    error: str | None = None


class ImportReportOut(ImportCountsOut):
    dry_run: bool
    files: list[ImportFileOut]
