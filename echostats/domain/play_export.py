"""A user's stored plays as export text: CSV, a JSON array, or ListenBrainz JSON lines.

Written from the ledger's columns a chunk at a time, oldest first, each play as its source
recorded it. What a play says of its track (ids, names) is the same for every play of one
spelling, and a heavy listener's million plays have a few tens of thousands of spellings: that
part is encoded once per spelling, not once per play (the export streams ~3x faster for it).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from typing import Any, Literal, NamedTuple, TypeVar

import numpy as np

from echostats.domain.ledger import (
    ESTIMATED,
    NONE,
    SOURCES,
    STRING_FIELDS,
    Spelling,
    source_bits,
    tri_bits,
)
from echostats.domain.ledger_view import TRI, LedgerView
from echostats.domain.listens import ListenedTrack, listen, listened_track

Format = Literal["json", "csv", "listenbrainz"]

CSV_FIELDS = (
    "id", "played_at", "ended_at", "ms_played", "ms_played_estimated", "track_id", "track_name",
    "artists", "album", "source", "platform", "shuffle", "skipped", "reason_start", "reason_end",
)  # fmt: skip

CHUNK = 10_000  # plays decoded per numpy call per column: a piece of ~1-3 MB of text

# ``json.dumps`` with options builds a new encoder on every call.
_encode = json.JSONEncoder(ensure_ascii=False).encode
_JSON_TRI = ("null", "false", "true")  # the ledger's two-bit optional booleans
_PLATFORM, _REASON_START, _REASON_END = (
    STRING_FIELDS.index(name) for name in ("platform", "reason_start", "reason_end")
)

T = TypeVar("T")


def _memo(make: Callable[[int], T]) -> Callable[[int], T]:
    """``make`` of each code, made once per export."""
    made: dict[int, T] = {}

    def get(code: int) -> T:
        found = made.get(code)
        if found is None:
            found = made[code] = make(code)
        return found

    return get


def export_pieces(view: LedgerView, fmt: Format) -> Iterator[str]:
    """The whole export, one piece of text per chunk of plays."""
    if fmt == "json":
        pieces = _json_pieces(view)
        yield "["
        first = next(pieces, None)
        if first is not None:
            yield "\n" + first
            for piece in pieces:
                yield ",\n" + piece
        yield "\n]\n"
    elif fmt == "csv":
        yield from _csv_pieces(view)
    else:
        yield from _listenbrainz_pieces(view)


def _chunks(view: LedgerView) -> Iterator[tuple[slice, Any]]:
    c = view.columns
    for start in range(0, len(c), CHUNK):
        window = slice(start, min(start + CHUNK, len(c)))
        yield window, c.flags[window]


class _Recorded(NamedTuple):
    """One play's own columns, decoded: codes for its spelling and strings."""

    play_id: str
    started: str  # ISO, UTC, without the Z
    ended: str
    ms: int
    estimated: bool
    source: int
    shuffle: int  # the ledger's two-bit optional booleans
    skipped: int
    entry: int
    platform: int
    reason_start: int
    reason_end: int


def _recorded(view: LedgerView, window: slice, flags: Any) -> Iterator[_Recorded]:
    """The plays of ``window``, one numpy call per column."""
    c = view.columns
    ids = c.ids[window].tobytes().hex()
    ids_of = (ids[24 * n : 24 * n + 24] for n in range(window.stop - window.start))
    strings = c.strings[window]
    columns = zip(
        ids_of,
        np.datetime_as_string(c.started[window].astype("datetime64[ms]"), unit="ms").tolist(),
        np.datetime_as_string(c.ended[window].astype("datetime64[ms]"), unit="ms").tolist(),
        c.ms[window].tolist(),
        ((flags & ESTIMATED) != 0).tolist(),
        source_bits(flags).tolist(),
        tri_bits(flags, "shuffle").tolist(),
        tri_bits(flags, "skipped").tolist(),
        c.entry[window].tolist(),
        strings[:, _PLATFORM].tolist(),
        strings[:, _REASON_START].tolist(),
        strings[:, _REASON_END].tolist(),
        strict=True,
    )
    return map(_Recorded._make, columns)


def _string_of(view: LedgerView) -> Callable[[int], str | None]:
    strings = view.strings
    return lambda code: strings[code] if code != NONE else None


def _csv_pieces(view: LedgerView) -> Iterator[str]:
    def track(code: int) -> tuple[str | None, str, str, str | None]:
        s = view.spellings.read(code)
        return s.track_id, s.track_name, "; ".join(s.artist_names), s.album_name

    track_of, string_of = _memo(track), _string_of(view)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    for window, flags in _chunks(view):
        writer.writerows(
            (
                r.play_id,
                f"{r.started}Z",
                f"{r.ended}Z",
                r.ms,
                r.estimated,
                *track_of(r.entry),
                SOURCES[r.source],
                string_of(r.platform),
                TRI[r.shuffle],
                TRI[r.skipped],
                string_of(r.reason_start),
                string_of(r.reason_end),
            )
            for r in _recorded(view, window, flags)
        )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _json_pieces(view: LedgerView) -> Iterator[str]:
    """Rows of the JSON array (without the separators between pieces)."""

    def track(code: int) -> str:
        s = view.spellings.read(code)
        return (
            f'"track_id": {_encode(s.track_id)}, "track_name": {_encode(s.track_name)}, '
            f'"artists": {_encode(list(s.artist_names))}, "album": {_encode(s.album_name)}'
        )

    track_of = _memo(track)
    string_of = _memo(lambda code: _encode(view.strings[code] if code != NONE else None))
    sources = [_encode(source) for source in SOURCES]
    for window, flags in _chunks(view):
        yield ",\n".join(
            f'{{"id": "{r.play_id}", "played_at": "{r.started}Z", "ended_at": "{r.ended}Z", '
            f'"ms_played": {r.ms}, "ms_played_estimated": {"true" if r.estimated else "false"}, '
            f'{track_of(r.entry)}, "source": {sources[r.source]}, '
            f'"platform": {string_of(r.platform)}, "shuffle": {_JSON_TRI[r.shuffle]}, '
            f'"skipped": {_JSON_TRI[r.skipped]}, "reason_start": {string_of(r.reason_start)}, '
            f'"reason_end": {string_of(r.reason_end)}}}'
            for r in _recorded(view, window, flags)
        )


def _listenbrainz_pieces(view: LedgerView) -> Iterator[str]:
    def track(code: int) -> ListenedTrack:
        spelling: Spelling = view.spellings.read(code)
        return listened_track(spelling)

    track_of = _memo(track)
    c = view.columns
    for window, flags in _chunks(view):
        durations = c.duration[window].tolist()
        rows = zip(
            (c.started[window] // 1000).tolist(),
            c.entry[window].tolist(),
            durations,
            c.ms[window].tolist(),
            ((flags & ESTIMATED) != 0).tolist(),
            strict=True,
        )
        yield "".join(
            _encode(
                listen(
                    started,
                    track_of(entry),
                    duration_ms=None if duration == NONE else duration,
                    ms_played=ms,
                    ms_played_estimated=estimated,
                )
            )
            + "\n"
            for started, entry, duration, ms, estimated in rows
        )
