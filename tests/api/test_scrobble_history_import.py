"""Scrobble histories through ``POST /api/v1/history/import``: a ListenBrainz export (its zip of
JSON Lines, or the older JSON array) and Last.fm's (CSV exports, JSON pages of
user.getRecentTracks), with the same report, dry run, progress and idempotence as Spotify's."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from echostats.store import Store
from tests.api.test_history_import import post_import, run_import, user_id, world
from tests.ingest.truth import stored_plays
from tests.signin import SignInWorld

pytestmark = pytest.mark.anyio
__all__ = ["world"]  # the signed-in app, shared with the Spotify import tests

START = datetime(2024, 5, 1, 18, 0, tzinfo=UTC)
TRACK_IDS = [f"{i:02d}" + "A" * 20 for i in range(10)]  # 22 characters, like Spotify's


def _listen(i: int, **info: Any) -> dict[str, Any]:
    """The i-th listen of a fixed evening: 4-minute tracks, back to back."""
    metadata: dict[str, Any] = {
        "artist_name": f"Artist {i % 3}",
        "track_name": f"Track {i}",
        "release_name": f"Album {i % 2}",
        "additional_info": {"duration_ms": 240_000, **info},
    }
    return {
        "listened_at": int((START + timedelta(minutes=4 * i)).timestamp()),
        "inserted_at": int((START + timedelta(minutes=4 * i + 4)).timestamp()),
        "track_metadata": metadata,
    }


def _lines(listens: list[Any]) -> bytes:
    return b"".join(json.dumps(item).encode() + b"\n" for item in listens)


def _lb_zip(months: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("user.json", json.dumps({"user_id": 1, "username": "rob"}))
        archive.writestr("feedback.jsonl", b'{"score": 1}\n')
        for name, data in months.items():
            archive.writestr(f"listens/2024/{name}.jsonl", data)
    return buffer.getvalue()


def _utc(stored: object) -> datetime:
    assert isinstance(stored, datetime)
    return stored.replace(tzinfo=UTC)


def _report(job: dict[str, Any]) -> dict[str, Any]:
    report: dict[str, Any] = job["report"]
    assert report["rows"] == report["stored"] + report["merged"] + sum(report["skipped"].values())
    return report


async def test_listenbrainz_export_zip_is_imported_once_with_a_skip_report(
    world: SignInWorld, store: Store
) -> None:
    may = [
        _listen(0, spotify_id=f"https://open.spotify.com/track/{TRACK_IDS[0]}"),
        _listen(1),
        _listen(2, recording_mbid="98255a8c-017a-4bc7-8dd6-1fa36124572b"),
        _listen(2, recording_mbid="98255a8c-017a-4bc7-8dd6-1fa36124572b"),  # exported twice
    ]
    june = [_listen(3, duration_played=95), {"listened_at": 1714586400, "track_metadata": {}}]
    archive = _lb_zip({"5": _lines(may), "6": _lines(june) + b"{not json\n\n"})
    files = [("listenbrainz_rob_1717000000.zip", archive)]
    uid = await user_id(world)

    dry, _ = await run_import(world, files, dry_run=True)
    assert _report(dry)["stored"] == 4
    assert await stored_plays(store, uid) == []

    job, names = await run_import(world, files)
    report = _report(job)
    assert job["status"] == "completed"
    assert "progress" in names
    assert (report["rows"], report["stored"], report["counted"]) == (7, 4, 4)
    assert report["skipped"]["duplicate_in_upload"] == 1
    assert report["skipped"]["no_track"] == 1  # a listen without track metadata
    assert report["skipped"]["malformed"] == 1  # a line that is not JSON
    kinds = {f["name"].rsplit("/", 1)[-1]: f["kind"] for f in report["files"]}
    assert kinds == {
        "5.jsonl": "listenbrainz/music",
        "6.jsonl": "listenbrainz/music",
        "user.json": "ignored",
        "feedback.jsonl": "ignored",
    }
    plays = {p["track_name"]: p for p in await stored_plays(store, uid)}
    first = plays["Track 0"]
    assert first["track_key"] == f"spotify:track:{TRACK_IDS[0]}"
    assert (first["source"], first["precision"]) == ("import", "start_s")
    assert _utc(first["started_at"]) == START
    assert _utc(first["ended_at"]) == START + timedelta(minutes=4)
    assert plays["Track 1"]["track_key"] == "name:artist 1|track 1"
    # The listened time it sent wins over the track length; it marks the time as measured.
    assert (plays["Track 3"]["ms_played"], plays["Track 3"]["ms_played_estimated"]) == (
        95_000,
        False,
    )

    again, _ = await run_import(world, files)
    assert (_report(again)["stored"], _report(again)["skipped"]["duplicate_stored"]) == (0, 4)
    assert len(await stored_plays(store, uid)) == 4


async def test_the_older_listenbrainz_export_a_json_array_is_recognised_by_its_rows(
    world: SignInWorld, store: Store
) -> None:
    listens = [_listen(i) for i in range(5)]
    job, _ = await run_import(world, [("rob_lb-2024-06-01.json", json.dumps(listens).encode())])
    report = _report(job)
    assert report["files"][0]["kind"] == "listenbrainz/music"
    assert (report["stored"], report["counted"]) == (5, 5)


def _lastfm_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def _csv_date(moment: datetime) -> str:
    return moment.strftime("%d %b %Y %H:%M")


def _page(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "recenttracks": {
            "track": entries,
            "@attr": {"user": "rob", "page": "1", "perPage": "200", "totalPages": "1"},
        }
    }


def _page_entry(i: int, *, extended: bool = False) -> dict[str, Any]:
    moment = START + timedelta(minutes=4 * i, seconds=17)
    artist = (
        {"name": f"Artist {i % 3}", "mbid": "", "url": "https://www.last.fm/music/x"}
        if extended
        else {"#text": f"Artist {i % 3}", "mbid": ""}
    )
    return {
        "artist": artist,
        "name": f"Track {i}",
        "album": {"#text": f"Album {i % 2}", "mbid": ""},
        "date": {"uts": str(int(moment.timestamp())), "#text": moment.strftime("%d %b %Y, %H:%M")},
    }


async def test_lastfm_csv_and_json_pages_of_the_same_scrobbles_are_stored_once(
    world: SignInWorld, store: Store
) -> None:
    uid = await user_id(world)
    seconds = [START + timedelta(minutes=4 * i, seconds=17) for i in range(6)]
    # benjaminbenben's lastfm-to-csv: no header, artist,album,track,date to the minute.
    rows = [
        [f"Artist {i % 3}", f"Album {i % 2}", f"Track {i}", _csv_date(s)]
        for i, s in enumerate(seconds)
    ]
    headerless = _lastfm_csv([*rows[:4], ["Artist 9", "Album 9", "Track 9", "yesterday"]])
    job, _ = await run_import(world, [("lastfm-rob.csv", headerless)])
    report = _report(job)
    assert report["files"][0]["kind"] == "lastfm-csv/music"
    assert (report["rows"], report["stored"], report["counted"]) == (5, 4, 4)
    assert report["skipped"]["malformed"] == 1
    stored = await stored_plays(store, uid)
    assert {p["precision"] for p in stored} == {"start_min"}

    # The JSON pages of the same history (to the second) replace the minute rows; the entry
    # playing while the page was read is no scrobble. One file is an array of pages.
    pages = [
        _page([{**_page_entry(6), "@attr": {"nowplaying": "true"}}, _page_entry(0)]),
        _page([_page_entry(i, extended=True) for i in range(1, 6)]),
    ]
    job, _ = await run_import(world, [("recenttracks.json", json.dumps(pages).encode())])
    report = _report(job)
    assert report["files"][0]["kind"] == "lastfm-json/music"
    assert (report["rows"], report["merged"], report["stored"]) == (7, 4, 2)
    assert report["skipped"]["no_track"] == 1
    stored = await stored_plays(store, uid)
    assert len(stored) == 6
    assert sorted(_utc(p["started_at"]) for p in stored) == seconds
    assert {p["precision"] for p in stored} == {"start_s"}

    # A CSV with a header, in another column order, adds nothing more.
    uts = [str(int(moment.timestamp())) for moment in seconds]
    headed = _lastfm_csv(
        [["uts", "artist", "album", "title"]]
        + [[stamp, f"Artist {i % 3}", "", f"Track {i}"] for i, stamp in enumerate(uts)]
    )
    job, _ = await run_import(world, [("scrobbles.csv", headed)])
    assert _report(job)["skipped"]["duplicate_stored"] == 6
    assert len(await stored_plays(store, uid)) == 6


async def test_a_listenbrainz_export_adds_nothing_to_the_same_lastfm_history(
    world: SignInWorld, store: Store
) -> None:
    uid = await user_id(world)
    await run_import(world, [("page.json", json.dumps(_page([_page_entry(0)])).encode())])
    # The same scrobble, forwarded to ListenBrainz by another client, a few seconds off.
    relayed = _listen(0)
    relayed["listened_at"] += 20
    job, _ = await run_import(world, [("listens/2024/5.jsonl", _lines([relayed]))])
    report = _report(job)
    assert (report["stored"], report["merged"]) == (0, 1)  # it fills in the track length
    [play] = await stored_plays(store, uid)
    assert play["duration_ms"] == 240_000


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("scrobbles.csv", b"just,some,notes\nfor,my,shopping\n", "Last.fm CSV"),
        ("rob.zip", _lb_zip({"1": b'{"hello": "world"}\n'}), "listened_at"),
        ("notes.jsonl", b'{"hello": "world"}\n', "not a Spotify, ListenBrainz or Last.fm"),
    ],
)
async def test_files_that_are_no_scrobble_history_are_refused(
    world: SignInWorld, name: str, content: bytes, words: str
) -> None:
    status, body = await post_import(world, [(name, content)])
    assert status == 422, body
    assert name in body["detail"]
    assert words in body["detail"]
