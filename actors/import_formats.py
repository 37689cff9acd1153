"""How each export format is read: its rows, one at a time, and what a row becomes.

Every format streams from disk in bounded memory and reports how many bytes it has consumed
(for progress). A row that cannot be decoded is ``MALFORMED``, never an exception: the importer
must survive any file.

* Spotify's exports and ListenBrainz's older export are one JSON array (``ArrayReader``);
* a ListenBrainz export zip holds JSON Lines files, one listen per line;
* Last.fm CSV exports are CSV, with or without a header (``lastfm.csv_header``);
* Last.fm's JSON is one ``user.getRecentTracks`` page per file, or an array of pages.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from echostats.domain.export import (
    ExportContent,
    ExportFile,
    ExportFormat,
    normalise_account,
    normalise_extended,
)
from echostats.domain.jsonstream import MALFORMED, ArrayReader
from echostats.domain.lastfm import (
    HEADERLESS,
    csv_header,
    csv_row_to_play,
    page_track_to_play,
    page_tracks,
)
from echostats.domain.listens import listen_to_play
from echostats.domain.plays import Play, Skip, SkipReason

Read = Callable[[int], bytes]
CHUNK = 1 << 16
MAX_LINE_BYTES = 1 << 20  # a listen is ~1 KB; a longer line is garbage
MAX_PAGE_BYTES = 32 << 20  # one Last.fm page (at most 1,000 tracks) is ~1 MB


class Rows(Protocol):
    @property
    def bytes_read(self) -> int: ...

    def __iter__(self) -> Iterator[Any]: ...


class _Counted(io.RawIOBase):
    """A byte source that counts what was read from it."""

    def __init__(self, read: Read) -> None:
        self._read = read
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._read(len(buffer))
        buffer[: len(data)] = data
        self.bytes_read += len(data)
        return len(data)


def _first_char(source: io.BufferedReader[Any]) -> str:
    """The first non-blank character (a BOM skipped), without consuming it."""
    head = source.peek(CHUNK)[:CHUNK].decode("utf-8-sig", "replace").lstrip()
    return head[:1]


class JsonLines:
    """One JSON value per line; blank lines are skipped, a broken line is ``MALFORMED``."""

    def __init__(self, source: io.BufferedReader[Any], counted: _Counted) -> None:
        self._source = source
        self._counted = counted

    @property
    def bytes_read(self) -> int:
        return self._counted.bytes_read

    def __iter__(self) -> Iterator[Any]:
        decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
        while line := self._source.readline(MAX_LINE_BYTES + 1):
            if len(line) > MAX_LINE_BYTES:
                while line and not line.endswith(b"\n"):  # skip the rest of the monster
                    line = self._source.readline(MAX_LINE_BYTES)
                yield MALFORMED
                continue
            text = decoder.decode(line)
            if not text.strip():
                continue
            try:
                yield json.loads(text)
            except ValueError:
                yield MALFORMED


class _Buffered:
    """Rows of a reader built on a buffered, counted source."""

    def __init__(self, rows: Iterator[Any], counted: _Counted) -> None:
        self._rows = rows
        self._counted = counted

    @property
    def bytes_read(self) -> int:
        return self._counted.bytes_read

    def __iter__(self) -> Iterator[Any]:
        return self._rows


def _listens(read: Read) -> Rows:
    counted = _Counted(read)
    source = io.BufferedReader(counted, CHUNK)
    if _first_char(source) == "[":
        return ArrayReader(source.read)  # the older export: one array of listens
    return JsonLines(source, counted)


def _csv_rows(source: io.BufferedReader[Any]) -> Iterator[list[str]]:
    """Rows as ``[artist, album, track, date]`` whatever the file's column order."""
    text = io.TextIOWrapper(source, encoding="utf-8-sig", errors="replace", newline="")
    reader = csv.reader(text)
    columns = HEADERLESS
    first = True
    try:
        for row in reader:
            if first:
                first = False
                header = csv_header(row)
                if header is not None:
                    columns = header
                    continue
            if not any(cell.strip() for cell in row):
                continue
            wanted = (columns.artist, columns.album, columns.track, columns.date)
            if len(row) <= max(i for i in wanted if i is not None):
                yield []  # too few cells: malformed
                continue
            yield [row[i] if i is not None else "" for i in wanted]
    except csv.Error:
        yield []  # a NUL byte or a field past csv's limit: the rest is unreadable


def _lastfm_csv(read: Read) -> Rows:
    counted = _Counted(read)
    return _Buffered(_csv_rows(io.BufferedReader(counted, CHUNK)), counted)


def _page_rows(source: io.BufferedReader[Any]) -> Iterator[Any]:
    if _first_char(source) == "[":
        pages: Iterator[Any] = iter(ArrayReader(source.read, max_element_chars=MAX_PAGE_BYTES))
    else:
        raw = source.read(MAX_PAGE_BYTES + 1)
        try:
            pages = iter([json.loads(raw.decode("utf-8-sig", "replace"))])
        except ValueError:
            pages = iter([MALFORMED])
    for page in pages:
        tracks = page_tracks(page)
        if tracks is None:
            yield MALFORMED
            continue
        yield from tracks


def _lastfm_json(read: Read) -> Rows:
    counted = _Counted(read)
    return _Buffered(_page_rows(io.BufferedReader(counted, CHUNK)), counted)


def open_rows(kind: ExportFile, read: Read) -> Rows:
    """The rows of a file of ``kind`` read through ``read(n)``."""
    if kind.format is ExportFormat.LISTENBRAINZ:
        return _listens(read)
    if kind.format is ExportFormat.LASTFM_CSV:
        return _lastfm_csv(read)
    if kind.format is ExportFormat.LASTFM_JSON:
        return _lastfm_json(read)
    return ArrayReader(read)


_MALFORMED = Skip(SkipReason.MALFORMED)


def normaliser(kind: ExportFile, user_id: str) -> Callable[[object], Play | Skip]:
    """What one row of ``kind`` becomes (``MALFORMED`` rows become malformed skips)."""
    fmt = kind.format

    def wrap(convert: Callable[[Any], Play | Skip]) -> Callable[[object], Play | Skip]:
        return lambda row: _MALFORMED if row is MALFORMED else convert(row)

    if fmt is ExportFormat.ACCOUNT:
        return wrap(lambda row: normalise_account(row, user_id))
    if fmt is ExportFormat.LISTENBRAINZ:
        return wrap(lambda row: listen_to_play(row, user_id, "import"))
    if fmt is ExportFormat.LASTFM_CSV:
        return wrap(lambda row: csv_row_to_play(row, HEADERLESS, user_id))
    if fmt is ExportFormat.LASTFM_JSON:
        return wrap(lambda row: page_track_to_play(row, user_id))
    video = kind.content is ExportContent.VIDEO
    return wrap(lambda row: normalise_extended(row, user_id, video=video))


# What a file's first row must look like, per format: keys of an object, or cells of a CSV row.
SHAPES: dict[ExportFormat, frozenset[str]] = {
    ExportFormat.EXTENDED: frozenset({"ts", "ms_played"}),
    ExportFormat.ACCOUNT: frozenset({"endTime", "msPlayed"}),
    ExportFormat.LISTENBRAINZ: frozenset({"listened_at", "track_metadata"}),
    ExportFormat.LASTFM_JSON: frozenset({"name", "artist"}),
}
