"""The per-file and per-job report of a history import, and how rows are sorted into it.

Every row read lands in exactly one place, so ``rows == stored + merged + sum(skipped)``:

* ``skipped`` — rows that did not become a new or improved play: not a music play at all
  (podcast, audiobook, no_track, malformed), repeated inside the upload (duplicate_in_upload)
  or already stored (duplicate_stored).
* ``stored`` — new plays written; ``merged`` — stored plays the row improved (an export row
  replacing a polled play); ``counted`` — of those, how many count in the statistics.
* ``not_counted`` — a breakdown, over every play sent to the store, of the ones the counting
  rules leave out of the statistics (too_short, incognito, video). They are still stored, so a
  change of rules can count them later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from echostats.domain.counting import CountingRules, decide
from echostats.domain.dedup import UploadDuplicates
from echostats.domain.plays import Play, Skip, SkipReason

SKIP_REASONS: tuple[SkipReason, ...] = (
    SkipReason.PODCAST,
    SkipReason.AUDIOBOOK,
    SkipReason.NO_TRACK,
    SkipReason.MALFORMED,
    SkipReason.DUPLICATE_IN_UPLOAD,
    SkipReason.DUPLICATE_STORED,
)
NOT_COUNTED_REASONS: tuple[SkipReason, ...] = (
    SkipReason.TOO_SHORT,
    SkipReason.INCOGNITO,
    SkipReason.VIDEO,
)


@dataclass
class Tally:
    rows: int = 0
    stored: int = 0
    merged: int = 0
    counted: int = 0
    skipped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SKIP_REASONS, 0))
    not_counted: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(NOT_COUNTED_REASONS, 0)
    )

    def add(self, other: Tally) -> None:
        self.rows += other.rows
        self.stored += other.stored
        self.merged += other.merged
        self.counted += other.counted
        for reason, count in other.skipped.items():
            self.skipped[reason] = self.skipped.get(reason, 0) + count
        for reason, count in other.not_counted.items():
            self.not_counted[reason] = self.not_counted.get(reason, 0) + count

    def to_document(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "stored": self.stored,
            "merged": self.merged,
            "counted": self.counted,
            "skipped": {str(k): v for k, v in self.skipped.items()},
            "not_counted": {str(k): v for k, v in self.not_counted.items()},
        }


@dataclass
class FileReport:
    name: str  # as uploaded; inside a zip: "archive.zip/folder/file.json"
    kind: str  # "extended/audio", "account/music", ... or "ignored"
    tally: Tally = field(default_factory=Tally)
    error: str | None = None

    def to_document(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "error": self.error,
            **self.tally.to_document(),
        }


@dataclass
class ImportReport:
    dry_run: bool
    files: list[FileReport] = field(default_factory=list)

    @property
    def total(self) -> Tally:
        total = Tally()
        for report in self.files:
            total.add(report.tally)
        return total

    def to_document(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            **self.total.to_document(),
            "files": [report.to_document() for report in self.files],
        }


class RowSorter:
    """Sorts normalised rows of one upload: skips are tallied, plays are passed on.

    One sorter spans the whole upload (every file), so a row repeated in two files of the same
    export is a duplicate in the upload.
    """

    def __init__(self, rules: CountingRules) -> None:
        self._rules = rules
        self._seen = UploadDuplicates()

    def sort(self, result: Play | Skip, tally: Tally) -> Play | None:
        tally.rows += 1
        if isinstance(result, Skip):
            tally.skipped[result.reason] += 1
            return None
        if self._seen.seen(result):
            tally.skipped[SkipReason.DUPLICATE_IN_UPLOAD] += 1
            return None
        reason = decide(result, self._rules)
        if reason is not None:
            tally.not_counted[reason] += 1
        return result


def record_outcome(
    tally: Tally, *, sent: int, stored: int, merged: int, duplicates: int, counted: int
) -> None:
    """Fold the store's answer for ``sent`` plays into ``tally``.

    A play the store folded into another play of the same batch (an account-data row and the
    extended row of the same listen, both in this upload) is in none of its three counts; it is
    a duplicate within the upload.
    """
    folded = sent - stored - merged - duplicates
    if folded < 0:
        raise ValueError(f"the store accounted for {sent - folded} plays, {sent} were sent")
    tally.stored += stored
    tally.merged += merged
    tally.counted += counted
    tally.skipped[SkipReason.DUPLICATE_STORED] += duplicates
    tally.skipped[SkipReason.DUPLICATE_IN_UPLOAD] += folded
