"""Synthetic Spotify privacy exports (SPOTIFY.md §5) with known ground truth.

``write_export(directory, rows, fmt)`` writes ``rows`` rows spread over ten years in one of three
formats, split into files the way Spotify splits them, and returns the files and a ``Truth``:
how many rows are counted music plays and how many fall under each skip reason. Rows are
written one at a time, so a million-row export needs no more memory than a thousand.

* ``extended``: ``Spotify Extended Streaming History/Streaming_History_Audio_<years>_<n>.json``
  (2024 schema) plus a small ``Streaming_History_Video_*.json``;
* ``endsong``: ``MyData/endsong_<n>.json`` (older schema: username, ip_addr_decrypted);
* ``account``: ``Spotify Account Data/StreamingHistory_music_<n>.json`` (names only, minute
  precision) plus ``_podcast_0`` and ``_audiobook_0`` files.

``write_zip`` packs files under their folders as Spotify's ZIP does. Run as a script to write
an export: ``.venv/bin/python -m bench.export_generator OUT_DIR --rows 100000 --format extended``.
"""

from __future__ import annotations

import argparse
import json
import random
import string
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from bench.listener import Listener

Format = Literal["extended", "endsong", "account"]
FORMATS: tuple[Format, ...] = ("extended", "endsong", "account")
START = datetime(2015, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=3652)
EXTENDED_ROWS_PER_FILE = 16_000
ACCOUNT_ROWS_PER_FILE = 10_000
_ID_CHARS = string.ascii_letters + string.digits


@dataclass
class Truth:
    rows: int = 0
    counted: int = 0  # music plays that count (stored, and in the rollups)
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> rows

    def add(self, reason: str | None) -> None:
        self.rows += 1
        if reason is None:
            self.counted += 1
        else:
            self.skipped[reason] = self.skipped.get(reason, 0) + 1


@dataclass(frozen=True)
class Track:
    id: str
    name: str
    artist: str
    album: str


def catalogue(rng: random.Random, tracks: int = 3_000) -> list[Track]:
    artists = [f"Artist {i:04d}" for i in range(max(1, tracks // 6))]
    out = []
    for i in range(tracks):
        artist = artists[i % len(artists)]
        track_id = "".join(rng.choice(_ID_CHARS) for _ in range(22))
        out.append(Track(track_id, f"Song {i:05d}", artist, f"Album {i // 10:04d} of {artist}"))
    return out


def _kind(rng: random.Random) -> str:
    """What the next row is; shares roughly like a real history."""
    roll = rng.random()
    if roll < 0.03:
        return "podcast"
    if roll < 0.04:
        return "audiobook"
    if roll < 0.05:
        return "incognito"
    if roll < 0.055:
        return "no_track"
    if roll < 0.06:
        return "duplicate"
    if roll < 0.36:
        return "too_short"
    return "music"


def _stamp(index: int, rows: int, rng: random.Random, span: timedelta) -> datetime:
    # Evenly over the span, at least two minutes apart (account data has minute precision).
    step = span / max(rows, 1)
    jitter = rng.randint(0, max(0, int(step.total_seconds()) - 120)) if step.days == 0 else 0
    return (START + step * index + timedelta(seconds=jitter)).replace(microsecond=0)


def _extended_row(
    kind: str, track: Track, ended: datetime, ms: int, rng: random.Random, old: bool
) -> dict[str, Any]:
    music = kind not in {"podcast", "audiobook", "no_track"}
    row: dict[str, Any] = {"ts": ended.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if old:
        row["username"] = ""
    row["platform"] = "android" if not old else "Android OS 9 API 28 (samsung, SM-G960F)"
    row["ms_played"] = ms
    row["conn_country"] = "DE"
    row["ip_addr_decrypted" if old else "ip_addr"] = "203.0.113.0"
    if old:
        row["user_agent_decrypted"] = "unknown"
    row["master_metadata_track_name"] = track.name if music else None
    row["master_metadata_album_artist_name"] = track.artist if music else None
    row["master_metadata_album_album_name"] = track.album if music else None
    row["spotify_track_uri"] = f"spotify:track:{track.id}" if music else None
    podcast = kind == "podcast"
    row["episode_name"] = "Episode 12" if podcast else None
    row["episode_show_name"] = "A Show" if podcast else None
    row["spotify_episode_uri"] = "spotify:episode:" + track.id if podcast else None
    if not old:
        book = kind == "audiobook"
        row["audiobook_title"] = "A Book" if book else None
        row["audiobook_uri"] = "spotify:audiobook:" + track.id if book else None
        row["audiobook_chapter_uri"] = "spotify:chapter:" + track.id if book else None
        row["audiobook_chapter_title"] = "Chapter 3" if book else None
    row["reason_start"] = rng.choice(["trackdone", "fwdbtn", "clickrow"])
    row["reason_end"] = "fwdbtn" if kind == "too_short" else rng.choice(["trackdone", "endplay"])
    row["shuffle"] = rng.random() < 0.4
    row["skipped"] = kind == "too_short"
    row["offline"] = False
    row["offline_timestamp"] = int(ended.timestamp()) - ms // 1000
    row["incognito_mode"] = kind == "incognito"
    return row


def _account_row(kind: str, track: Track, ended: datetime, ms: int) -> dict[str, Any]:
    end = ended.strftime("%Y-%m-%d %H:%M")
    if kind == "podcast":
        return {
            "endTime": end,
            "podcastName": "A Show",
            "episodeName": "Episode 12",
            "msPlayed": ms,
        }
    if kind == "audiobook":
        return {
            "endTime": end,
            "audiobookName": "A Book",
            "chapterName": "Chapter 3",
            "authorName": "An Author",
            "msPlayed": ms,
        }
    if kind == "no_track":
        return {
            "endTime": end,
            "artistName": "Unknown Artist",
            "trackName": "Unknown Track",
            "msPlayed": ms,
        }
    return {"endTime": end, "artistName": track.artist, "trackName": track.name, "msPlayed": ms}


def _rows(
    rows: int, fmt: Format, seed: int, span: timedelta
) -> Iterator[tuple[str, dict[str, Any], str | None]]:
    """(file group, row, skip reason or None) for each row, in time order."""
    rng = random.Random(seed)
    # What is played follows a real listener's years (bench.listener): distinct tracks,
    # artists and albums grow as a heavy listener's do.
    listens = Listener(seed).plays(rows, START, span)
    previous: tuple[str, dict[str, Any], str | None] | None = None
    for index in range(rows):
        heard = next(listens).track
        kind = _kind(rng)
        if kind == "duplicate" and previous is not None:
            # A repeated play is a duplicate; a repeated non-play is skipped for what it is.
            group, row, reason = previous
            plays = {None, "too_short", "incognito"}
            yield group, row, "duplicate_in_upload" if reason in plays else reason
            continue
        if kind == "duplicate":
            kind = "music"
        track = Track(heard.id, heard.name, heard.artist, heard.album)
        ended = _stamp(index, rows, rng, span)
        ms = rng.randint(1_000, 29_000) if kind == "too_short" else rng.randint(30_000, 300_000)
        reason = None if kind == "music" else kind
        if fmt == "account":
            if kind == "incognito":  # account data has no private-session flag
                kind, reason = "music", None
            group = kind if kind in {"podcast", "audiobook"} else "music"
            row = _account_row(kind, track, ended, ms)
        else:
            if fmt == "endsong" and kind == "audiobook":
                reason = "no_track"  # the old schema has no audiobook fields
            row = _extended_row(kind, track, ended, ms, rng, old=fmt == "endsong")
            group = "audio"
        previous = (group, row, reason)
        yield group, row, reason


class _ArrayWriter:
    """Writes one pretty-printed JSON array, a row at a time, as Spotify's files look."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._out = path.open("w", encoding="utf-8")
        self._out.write("[")
        self.count = 0

    def write(self, row: dict[str, Any]) -> None:
        text = json.dumps(row, indent=2, ensure_ascii=False)
        self._out.write(("," if self.count else "") + "\n  " + text.replace("\n", "\n  "))
        self.count += 1

    def close(self) -> None:
        self._out.write("\n]" if self.count else "]")
        self._out.close()


def _file_name(fmt: Format, group: str, number: int) -> str:
    if fmt == "extended":
        return f"Spotify Extended Streaming History/Streaming_History_Audio_2015-2024_{number}.json"
    if fmt == "endsong":
        return f"MyData/endsong_{number}.json"
    return f"Spotify Account Data/StreamingHistory_{group}_{number}.json"


def write_export(
    directory: Path,
    rows: int,
    fmt: Format = "extended",
    seed: int = 7,
    *,
    videos: int = 0,
    span: timedelta = SPAN,
    rows_per_file: int | None = None,
) -> tuple[list[Path], Truth]:
    """Write an export of ``rows`` rows over ``span`` (+ ``videos`` music-video rows for
    ``extended``). Tests pass a short span: the rollups then touch few days per batch."""
    truth = Truth()
    per_file = rows_per_file or (
        ACCOUNT_ROWS_PER_FILE if fmt == "account" else EXTENDED_ROWS_PER_FILE
    )
    writers: dict[str, _ArrayWriter] = {}
    numbers: dict[str, int] = {}
    files: list[Path] = []
    for group, row, reason in _rows(rows, fmt, seed, span):
        writer = writers.get(group)
        if writer is None or writer.count >= per_file:
            if writer is not None:
                writer.close()
            number = numbers.get(group, 0)
            numbers[group] = number + 1
            writer = writers[group] = _ArrayWriter(directory / _file_name(fmt, group, number))
            files.append(writer.path)
        writer.write(row)
        truth.add(reason)
    for writer in writers.values():
        writer.close()
    if videos and fmt == "extended":
        rng = random.Random(seed + 1)
        track = catalogue(rng, 1)[0]
        video = _ArrayWriter(
            directory / "Spotify Extended Streaming History/Streaming_History_Video_2019-2024.json"
        )
        for index in range(videos):
            ended = START + timedelta(days=1_500, minutes=7 * index, seconds=13)
            video.write(_extended_row("music", track, ended, 120_000, rng, old=False))
            truth.add("video")
        video.close()
        files.append(video.path)
    return files, truth


def write_zip(path: Path, files: list[Path], root: Path) -> Path:
    """Pack ``files`` (paths under ``root``) into ``path`` with their folders, deflated."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            archive.write(file, file.relative_to(root).as_posix())
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--format", choices=FORMATS, default="extended")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--zip", action="store_true", help="also pack the files into export.zip")
    args = parser.parse_args()
    files, truth = write_export(args.out, args.rows, args.format, args.seed)
    if args.zip:
        write_zip(args.out / "export.zip", files, args.out)
    print(f"{len(files)} file(s), {truth.rows} rows, {truth.counted} counted, {truth.skipped}")


if __name__ == "__main__":
    main()
