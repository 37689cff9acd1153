"""Uploaded export files on disk → checked entries → batches of plays (sync code, run in a thread).

An upload is one or more export files or whole ``.zip`` exports: Spotify's privacy export,
a ListenBrainz export, Last.fm scrobbles (CSV or JSON pages; ``import_formats.py`` reads each
format). ``inspect_upload`` looks at each quickly (the ZIP's central directory and the first
row of every export file) and refuses anything that is not an export with a sentence naming
the file; ``read_batches`` then reads the entries incrementally. ZIP members are decompressed
as they are read and never extracted, so nothing of an archive lands on disk, and declared
sizes bound what is read (a lying header cannot inflate past its own limit). Only known export
file names inside a ZIP are read.
"""

from __future__ import annotations

import contextlib
import io
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import IO, Any

from actors.import_formats import SHAPES, normaliser, open_rows
from echostats.domain.counting import CountingRules
from echostats.domain.export import (
    ExportContent,
    ExportFile,
    ExportFormat,
    classify_export_file,
)
from echostats.domain.import_report import FileReport, RowSorter, Tally
from echostats.domain.jsonstream import MALFORMED, NotAnArray
from echostats.domain.plays import TRACK_URI_PREFIX, Play, Skip, SkipReason
from echostats.errors import PayloadTooLarge, Unprocessable

ZIP_MAGIC = b"PK\x03\x04"
SNIFF_BYTES = 1 << 16
MAX_LINKED_NAMES = 500_000
EXPECTED_NAMES = (
    "Spotify's Streaming_History_Audio_*.json, endsong_*.json or StreamingHistory*.json, a "
    "ListenBrainz export (listens/*/*.jsonl), a Last.fm .csv export or Last.fm JSON pages"
)


@dataclass(frozen=True)
class ArchiveLimits:
    max_entries: int = 10_000
    max_uncompressed: int = 16 << 30
    # Pretty-printed export JSON deflates ~10-20x; far beyond that is a bomb. Small members are
    # exempt (a tiny file can have any ratio and harms nothing).
    max_ratio: float = 100.0
    ratio_exempt_below: int = 1 << 20


@dataclass(frozen=True)
class Entry:
    """One export file to read: a plain upload, or a member of an uploaded ZIP."""

    name: str
    kind: ExportFile
    path: Path  # the file on disk (the ZIP for a member)
    member: str | None  # name inside the ZIP
    size: int  # bytes to read (uncompressed for a member)

    def open(self) -> io.BufferedReader:
        if self.member is None:
            return self.path.open("rb")
        archive = zipfile.ZipFile(self.path)
        try:
            return io.BufferedReader(_OwningMember(archive, archive.open(self.member)))
        except BaseException:
            archive.close()
            raise


class _OwningMember(io.RawIOBase):
    """A ZIP member stream that closes its archive with it."""

    def __init__(self, archive: zipfile.ZipFile, member: IO[bytes]) -> None:
        self._archive = archive
        self._member = member

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._member.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self._member.close()
            self._archive.close()
        finally:
            super().close()


@dataclass(frozen=True)
class Upload:
    entries: tuple[Entry, ...]
    ignored: tuple[str, ...]  # files inside ZIPs that are not streaming history

    @property
    def total_bytes(self) -> int:
        return sum(entry.size for entry in self.entries)


def kind_label(kind: ExportFile) -> str:
    return f"{kind.format.value}/{kind.content.value}"


# --- inspection ------------------------------------------------------------------------------


def _unsafe_member(info: zipfile.ZipInfo) -> str | None:
    name = info.filename.replace("\\", "/")
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or (len(name) > 1 and name[1] == ":"):
        return f"its entry {info.filename!r} points outside the archive"
    if stat.S_ISLNK(info.external_attr >> 16):
        return f"its entry {info.filename!r} is a symbolic link"
    return None


def _inspect_zip(name: str, path: Path, limits: ArchiveLimits) -> tuple[list[Entry], list[str]]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise Unprocessable(f"{name} is not a readable ZIP archive.") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_entries:
            raise Unprocessable(
                f"{name} holds {len(infos):,} entries; an export has far fewer "
                f"(at most {limits.max_entries:,} are accepted)."
            )
        entries: list[Entry] = []
        ignored: list[str] = []
        total = 0
        for info in infos:
            if (problem := _unsafe_member(info)) is not None:
                raise Unprocessable(f"{name} was refused: {problem}.")
            if info.is_dir():
                continue
            total += info.file_size
            if total > limits.max_uncompressed:
                raise PayloadTooLarge(
                    f"{name} unpacks to more than {limits.max_uncompressed >> 30} GiB; "
                    "that is not a listening-history export."
                )
            if info.file_size >= limits.ratio_exempt_below and (
                info.file_size > limits.max_ratio * max(info.compress_size, 1)
            ):
                raise PayloadTooLarge(
                    f"{name} was refused: {info.filename!r} would unpack "
                    f"{info.file_size / max(info.compress_size, 1):,.0f} times larger than it "
                    "is stored (a ZIP bomb?)."
                )
            kind = classify_export_file(info.filename)
            if kind is None:
                ignored.append(f"{name}/{info.filename}")
                continue
            entries.append(
                Entry(f"{name}/{info.filename}", kind, path, info.filename, info.file_size)
            )
    if not entries:
        raise Unprocessable(
            f"{name} holds no listening history: expected files named like {EXPECTED_NAMES}."
        )
    return entries, ignored


def _first_row(entry: Entry) -> object:
    """The first row of the entry (None when empty, ``MALFORMED`` when cut off in it); raises
    when a Spotify export is not an array."""
    with entry.open() as stream:
        head = stream.read(SNIFF_BYTES)
    try:
        for row in open_rows(entry.kind, io.BytesIO(head).read):
            return row
    except NotAnArray:
        # Only Spotify's formats must be an array; the others read whatever comes.
        raise Unprocessable(
            f"{entry.name} is not a Spotify export file: expected a JSON array of rows."
        ) from None
    return None


# Formats told by the keys of their first row, and what such a file is taken for.
_BY_KEYS = (
    ExportFile(ExportFormat.EXTENDED, ExportContent.AUDIO),
    ExportFile(ExportFormat.ACCOUNT, ExportContent.MUSIC),
    ExportFile(ExportFormat.LISTENBRAINZ, ExportContent.MUSIC),
)


def _sniff_kind(path: Path) -> ExportFile | None:
    """What a file with an unknown name holds, from its first bytes."""
    with path.open("rb") as stream:
        head = stream.read(SNIFF_BYTES)
    text = head.decode("utf-8-sig", "replace").lstrip()
    if '"recenttracks"' in text[:1000]:
        return ExportFile(ExportFormat.LASTFM_JSON, ExportContent.MUSIC)
    for kind in _BY_KEYS:
        try:
            row = next(iter(open_rows(kind, io.BytesIO(head).read)), None)
        except NotAnArray:
            continue
        if isinstance(row, dict) and row.keys() >= SHAPES[kind.format]:
            return kind
    return None


def _check_shape(entry: Entry, row: object) -> None:
    if row is None or row is MALFORMED:
        return  # empty, or cut off in its first row: read it and report what is there
    fmt = entry.kind.format
    if fmt is ExportFormat.LASTFM_CSV:
        if normaliser(entry.kind, "")(row) == Skip(SkipReason.MALFORMED):
            raise Unprocessable(
                f"{entry.name} does not look like a Last.fm CSV export: expected rows of "
                "artist,album,track,date (like 31 Jan 2021 12:34), or a header naming them."
            )
        return
    expected = SHAPES[fmt]
    if not isinstance(row, dict) or not expected <= row.keys():
        fields = ", ".join(sorted(expected))
        raise Unprocessable(
            f"{entry.name} does not look like {fmt.value} listening history: "
            f"expected rows that are objects with {fields}."
        )


def inspect_upload(
    files: list[tuple[str, Path]], limits: ArchiveLimits = ArchiveLimits()
) -> Upload:
    """Check every uploaded file and list the export files to read (extended ones first)."""
    entries: list[Entry] = []
    ignored: list[str] = []
    for name, path in files:
        with path.open("rb") as stream:
            magic = stream.read(len(ZIP_MAGIC))
        if magic == ZIP_MAGIC or name.casefold().endswith(".zip"):
            found, skipped = _inspect_zip(name, path, limits)
            entries.extend(found)
            ignored.extend(skipped)
            continue
        # A renamed file is still accepted when its rows say what it is.
        kind = classify_export_file(name) or _sniff_kind(path)
        if kind is None:
            raise Unprocessable(
                f"{name} is not a Spotify, ListenBrainz or Last.fm export: expected a .zip "
                f"export or files like {EXPECTED_NAMES}."
            )
        entries.append(Entry(name, kind, path, None, path.stat().st_size))
    for entry in entries:
        _check_shape(entry, _first_row(entry))
    # Extended rows first: they teach which Spotify id a name pair has, for account rows.
    entries.sort(key=lambda e: e.kind.format is not ExportFormat.EXTENDED)
    return Upload(tuple(entries), tuple(ignored))


# --- reading ---------------------------------------------------------------------------------


@dataclass
class Batch:
    file_index: int
    plays: list[Play]
    tally: Tally  # rows of this batch, before the store's answer
    bytes_done: int  # over the whole upload
    file_done: bool


class NameLinks:
    """Spotify ids learnt from extended rows, keyed by name, for names-only account rows.

    Exact matches only: a name pair seen with two different ids stays unlinked.
    """

    def __init__(self, limit: int = MAX_LINKED_NAMES) -> None:
        self._ids: dict[str, str | None] = {}
        self._limit = limit

    def learn(self, play: Play) -> None:
        if play.track_id is None:
            return
        key = play.name_key
        known = self._ids.get(key, play.track_id)
        if known != play.track_id:
            self._ids[key] = None
        elif len(self._ids) < self._limit:
            self._ids[key] = known

    def link(self, play: Play) -> Play:
        if play.track_id is not None:
            return play
        track_id = self._ids.get(play.name_key)
        if track_id is None:
            return play
        return replace(play, track_id=track_id, track_key=TRACK_URI_PREFIX + track_id)


def read_batches(
    upload: Upload, user_id: str, rules: CountingRules, batch_size: int = 1_000
) -> Iterator[Batch]:
    """Plays of every entry in batches; each batch belongs to one file, the last of a file is
    marked ``file_done`` (and may be empty)."""
    sorter = RowSorter(rules)
    links = NameLinks()
    done_before = 0
    for index, entry in enumerate(upload.entries):
        normalise = normaliser(entry.kind, user_id)
        with contextlib.closing(entry.open()) as stream:
            reader = open_rows(entry.kind, stream.read)
            plays: list[Play] = []
            tally = Tally()
            try:
                for row in reader:
                    result = normalise(row)
                    if isinstance(result, Play):
                        links.learn(result)
                        result = links.link(result)
                    play = sorter.sort(result, tally)
                    if play is not None:
                        plays.append(play)
                        if len(plays) >= batch_size:
                            yield Batch(index, plays, tally, done_before + reader.bytes_read, False)
                            plays, tally = [], Tally()
            except (zipfile.BadZipFile, EOFError, OSError):
                # A damaged member (CRC error, cut-off archive): keep what was read.
                sorter.sort(Skip(SkipReason.MALFORMED), tally)
        done_before += entry.size
        yield Batch(index, plays, tally, done_before, True)


def file_reports(upload: Upload) -> list[FileReport]:
    reports = [FileReport(entry.name, kind_label(entry.kind)) for entry in upload.entries]
    reports.extend(FileReport(name, "ignored") for name in upload.ignored)
    return reports
