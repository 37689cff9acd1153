"""``POST /api/v1/history/import`` end to end: a signed-in user, the real importer, aggregator
and store; generated exports with known ground truth and the public samples."""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest

from actors import topics
from actors.broadcaster import Subscription
from actors.events import Event
from actors.facade import Pipeline
from bench.export_generator import Truth, write_export, write_zip
from echostats.domain.plays import Play, TimePrecision
from echostats.settings import Settings
from echostats.store import Store
from echostats.store.sync_jobs import INTERRUPTED_SENTENCE
from tests.ledger_views import assert_ledger_matches_plays
from tests.signin import SignInWorld, signin_world

pytestmark = pytest.mark.anyio

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
NOT_COUNTED = {"too_short", "incognito", "video"}
# Dense like a real history (~100 plays a day), so a batch touches few ledger months.
SPAN = timedelta(days=60)


@pytest.fixture
async def world(settings: Settings, store: Store) -> AsyncIterator[SignInWorld]:
    async with signin_world(settings, store) as world:
        response = await world.sign_in()
        assert response.status_code in {302, 303, 307}, response.text
        yield world


async def user_id(world: SignInWorld) -> str:
    response = await world.client.get("/api/v1/me")
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def _part(name: str, content: bytes) -> tuple[str, tuple[str, bytes, str]]:
    return ("file", (name, content, "application/octet-stream"))


async def post_import(
    world: SignInWorld, files: list[tuple[str, bytes]], **params: Any
) -> tuple[int, dict[str, Any]]:
    response = await world.client.post(
        "/api/v1/history/import",
        files=[_part(name, content) for name, content in files],
        params={k: str(v).lower() for k, v in params.items()},
    )
    return response.status_code, response.json()


async def run_import(
    world: SignInWorld, files: list[tuple[str, bytes]], **params: Any
) -> tuple[dict[str, Any], list[str]]:
    """Post, wait for the job's ``finished`` event, return the stored job and event names."""
    uid = await user_id(world)
    pipeline: Pipeline = world.app.state.pipeline
    names: list[str] = []
    async with pipeline.subscribe([topics.sync_jobs(uid)]) as events:
        status, body = await post_import(world, files, **params)
        assert status == 202, body
        assert body["status"] == "pending"
        with anyio.fail_after(60):
            async for event in events:
                if event.data.get("job_id") != body["job_id"]:
                    continue
                names.append(event.name)
                if event.name == "finished":
                    break
    job = await world.app.state.store["sync_jobs"].find_one({"_id": body["job_id"]})
    assert job is not None
    return job, names


async def next_job_event(events: Subscription, job_id: str, name: str) -> Event:
    """The next event called ``name`` about job ``job_id``."""
    with anyio.fail_after(60):
        async for event in events:
            if event.data.get("job_id") == job_id and event.name == name:
                return event
    raise AssertionError(f"the event stream ended before {name} of job {job_id}")


@dataclass(frozen=True)
class Underway:
    uid: str
    job_id: str
    events: Subscription  # the user's job events, from before the import was posted


@contextlib.asynccontextmanager
async def import_under_way(
    world: SignInWorld, files: list[tuple[str, bytes]]
) -> AsyncIterator[Underway]:
    """Sign in, post the import, and hold the block open from its first ``progress`` event."""
    await world.sign_in()
    uid = await user_id(world)
    pipeline: Pipeline = world.app.state.pipeline
    async with pipeline.subscribe([topics.sync_jobs(uid)]) as events:
        status, body = await post_import(world, files)
        assert status == 202, body
        await next_job_event(events, body["job_id"], "progress")
        yield Underway(uid, body["job_id"], events)


async def stored_plays(store: Store, uid: str) -> list[dict[str, Any]]:
    return await store["plays"].find({"user_id": uid}).to_list()


async def ledger_state(store: Store, uid: str) -> list[dict[str, Any]]:
    """The stored ledger documents, as comparable values."""
    return await store["ledger"].find({"user_id": uid}).sort("_id", 1).to_list()


def assert_report_matches(report: dict[str, Any], truth: Truth) -> None:
    assert report["rows"] == truth.rows
    assert report["counted"] == truth.counted
    for reason, count in truth.skipped.items():
        section = "not_counted" if reason in NOT_COUNTED else "skipped"
        assert report[section][reason] == count, (reason, report)
    assert report["rows"] == report["stored"] + report["merged"] + sum(report["skipped"].values())


def _files(paths: list[Path]) -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in paths]


# --- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["extended", "endsong", "account"])
async def test_generated_export_round_trips(
    world: SignInWorld, store: Store, tmp_path: Path, fmt: Any
) -> None:
    paths, truth = write_export(
        tmp_path, 3_000, fmt, videos=25 if fmt == "extended" else 0, span=SPAN
    )
    job, names = await run_import(world, _files(paths))
    assert job["status"] == "completed", job
    assert_report_matches(job["report"], truth)
    uid = await user_id(world)
    docs = await stored_plays(store, uid)
    assert sum(d["counted"] for d in docs) == truth.counted
    assert len(docs) == job["report"]["stored"]
    assert "progress" in names
    assert names[-1] == "finished"
    shown = (await world.client.get(f"/api/v1/sync-jobs/{job['_id']}")).json()
    assert shown["report"]["counted"] == truth.counted
    assert shown["report"]["files"][0]["rows"] > 0
    await assert_ledger_matches_plays(store, uid)

    # A dry run now says the whole export is already stored, and writes nothing.
    ledger_before = await ledger_state(store, uid)
    dry, _ = await run_import(world, _files(paths), dry_run=True)
    assert dry["status"] == "completed"
    assert (dry["report"]["stored"], dry["report"]["merged"]) == (0, 0)
    assert dry["report"]["skipped"]["duplicate_stored"] == job["report"]["stored"]
    assert len(await stored_plays(store, uid)) == len(docs)
    assert await ledger_state(store, uid) == ledger_before

    again, _ = await run_import(world, _files(paths))
    assert again["status"] == "completed"
    assert again["report"]["stored"] == 0
    assert again["report"]["merged"] == 0
    assert again["report"]["skipped"]["duplicate_stored"] == job["report"]["stored"]
    assert len(await stored_plays(store, uid)) == len(docs)
    await assert_ledger_matches_plays(store, uid)


async def test_zip_export_with_nested_folders(
    world: SignInWorld, store: Store, tmp_path: Path
) -> None:
    paths, truth = write_export(tmp_path, 9_000, "extended", span=SPAN, rows_per_file=4_000)
    assert len(paths) == 3
    archive = write_zip(tmp_path / "my_spotify_data.zip", paths, tmp_path)
    job, _ = await run_import(world, [("my_spotify_data.zip", archive.read_bytes())])
    assert job["status"] == "completed", job
    assert_report_matches(job["report"], truth)
    assert [f["kind"] for f in job["report"]["files"]] == ["extended/audio"] * 3
    uid = await user_id(world)
    await assert_ledger_matches_plays(store, uid)
    assert not list((world.settings.data_dir / "imports").iterdir())


async def test_samples_import_with_expected_counts(world: SignInWorld, store: Store) -> None:
    files = [(p.name, p.read_bytes()) for p in sorted(SAMPLES.glob("extended_*.json"))]
    job, _ = await run_import(world, files)
    report = job["report"]
    assert job["status"] == "completed", job
    by_name = {f["name"]: f for f in report["files"]}
    endsong = by_name["extended_endsong_0.json"]
    audio = by_name["extended_Streaming_History_Audio_2023.json"]
    # endsong_0: 5 rows; one has ms_played 0 and one a logout after a few seconds.
    assert (endsong["rows"], audio["rows"]) == (5, 5)
    # 2023: the first row (2.4 s, fwdbtn) is too short; the other four played to the end.
    assert audio["stored"] == 5
    assert audio["counted"] == 4
    assert audio["not_counted"]["too_short"] == 1
    uid = await user_id(world)
    docs = await stored_plays(store, uid)
    assert sum(d["counted"] for d in docs) == report["counted"]
    await assert_ledger_matches_plays(store, uid)


async def test_dry_run_writes_nothing(world: SignInWorld, store: Store, tmp_path: Path) -> None:
    paths, truth = write_export(tmp_path, 2_000, "account", span=SPAN)
    job, _ = await run_import(world, _files(paths), dry_run=True)
    assert job["status"] == "completed"
    assert job["report"]["dry_run"] is True
    assert job["report"]["counted"] == truth.counted
    assert await stored_plays(store, await user_id(world)) == []
    assert await store["ledger"].count_documents({}) == 0


async def test_polled_play_merges_with_the_export_row(world: SignInWorld, store: Store) -> None:
    uid = await user_id(world)
    ended = datetime(2024, 5, 1, 12, 0, 0, 400_000, tzinfo=UTC)
    polled = Play(
        user_id=uid,
        track_key="spotify:track:4v3A7ho6Oo49Tem7fOk1sy",
        track_id="4v3A7ho6Oo49Tem7fOk1sy",
        track_name="Love Again",
        artist_names=("New Hope Club",),
        artist_ids=("1Ai",),
        album_name="New Hope Club",
        album_id=None,
        ended_at=ended,
        started_at=ended - timedelta(seconds=180),
        ms_played=180_000,
        ms_played_estimated=True,
        duration_ms=203_533,
        source="poll",
        precision=TimePrecision.MILLISECOND,
    )
    pipeline: Pipeline = world.app.state.pipeline
    await pipeline.submit_plays(uid, [polled])
    row = {
        "ts": "2024-05-01T12:00:03Z",
        "ms_played": 150_123,
        "master_metadata_track_name": "Love Again",
        "master_metadata_album_artist_name": "New Hope Club",
        "master_metadata_album_album_name": "New Hope Club",
        "spotify_track_uri": "spotify:track:4v3A7ho6Oo49Tem7fOk1sy",
        "reason_end": "trackdone",
    }
    name = "Streaming_History_Audio_2024.json"
    job, _ = await run_import(world, [(name, json.dumps([row]).encode())])
    assert (job["report"]["stored"], job["report"]["merged"]) == (0, 1)
    docs = await stored_plays(store, uid)
    assert len(docs) == 1
    assert docs[0]["ms_played"] == 150_123
    assert docs[0]["source"] == "import"
    await assert_ledger_matches_plays(store, uid)


# --- bad uploads ------------------------------------------------------------------------------


async def _seeded(world: SignInWorld, tmp_path: Path) -> tuple[str, int]:
    paths, _ = write_export(tmp_path / "seed", 300, "extended", span=SPAN)
    job, _ = await run_import(world, _files(paths))
    uid = await user_id(world)
    return uid, job["report"]["stored"]


async def test_truncated_file_keeps_the_complete_rows(
    world: SignInWorld, store: Store, tmp_path: Path
) -> None:
    paths, truth = write_export(tmp_path, 200, "extended", span=SPAN)
    text = paths[0].read_bytes()
    cut = text[: len(text) * 3 // 4]
    job, _ = await run_import(world, [(paths[0].name, cut)])
    assert job["status"] == "completed"
    report = job["report"]
    assert report["skipped"]["malformed"] == 1
    assert 100 < report["rows"] < truth.rows
    uid = await user_id(world)
    assert len(await stored_plays(store, uid)) == report["stored"]
    await assert_ledger_matches_plays(store, uid)


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("Streaming_History_Audio_2020.json", b'{"not": "an array"}', "JSON array"),
        ("Streaming_History_Audio_2020.json", b'[{"endTime": "2020-01-01 10:00"}]', "ts"),
        ("notes.json", b'[{"hello": 1}]', "not a Spotify"),
        ("photo.png", b"\x89PNG\r\n\x1a\n....", "not a Spotify"),
        ("export.zip", b"PK\x03\x04 this is not really a zip", "ZIP"),
    ],
)
async def test_not_an_export_is_refused_with_the_file_named(
    world: SignInWorld, store: Store, tmp_path: Path, name: str, content: bytes, words: str
) -> None:
    uid, before = await _seeded(world, tmp_path)
    status, body = await post_import(world, [(name, content)])
    assert status == 422, body
    assert name in body["detail"]
    assert words in body["detail"]
    assert len(await stored_plays(store, uid)) == before
    assert not list((world.settings.data_dir / "imports").iterdir())


def _zip(entries: dict[str, bytes], *, symlink: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = 0o120777 << 16
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


async def test_zip_bomb_traversal_and_symlinks_are_refused(
    world: SignInWorld, store: Store, tmp_path: Path
) -> None:
    uid, before = await _seeded(world, tmp_path)
    bomb = _zip({"Streaming_History_Audio_2020.json": b"[" + b" " * (64 << 20) + b"]"})
    status, body = await post_import(world, [("bomb.zip", bomb)])
    assert status == 413, body
    assert "ZIP bomb" in body["detail"]
    ok_row = b'[{"ts": "2020-01-01T10:00:00Z", "ms_played": 40000}]'
    traversal = _zip({"../../Streaming_History_Audio_2020.json": ok_row})
    status, body = await post_import(world, [("evil.zip", traversal)])
    assert status == 422, body
    assert "outside the archive" in body["detail"]
    linked = _zip({"Streaming_History_Audio_2020.json": ok_row}, symlink="endsong_0.json")
    status, body = await post_import(world, [("linked.zip", linked)])
    assert status == 422, body
    assert "symbolic link" in body["detail"]
    status, body = await post_import(world, [("empty.zip", _zip({"Userdata.json": b"{}"}))])
    assert status == 422, body
    assert len(await stored_plays(store, uid)) == before
    assert not list((world.settings.data_dir / "imports").iterdir())


async def test_oversized_upload_is_refused(settings: Settings, store: Store) -> None:
    async with signin_world(settings, store, import_max_bytes=10_000) as world:
        await world.sign_in()
        content = b"[" + b" " * 20_000 + b"]"
        status, body = await post_import(world, [("Streaming_History_Audio_2020.json", content)])
        assert status == 413, body
        assert "larger than" in body["detail"]
        assert not list((world.settings.data_dir / "imports").iterdir())


async def test_import_needs_a_session_and_is_rate_limited(settings: Settings, store: Store) -> None:
    async with signin_world(settings, store, import_rate_limit=2) as world:
        response = await world.client.post(
            "/api/v1/history/import", files=[_part("endsong_0.json", b"[]")]
        )
        assert response.status_code == 401
        await world.sign_in()
        for _ in range(2):
            status, _body = await post_import(world, [("endsong_0.json", b"[]")])
            assert status == 202
        status, body = await post_import(world, [("endsong_0.json", b"[]")])
        assert status == 429, body


async def test_import_route_is_in_the_openapi_schema(world: SignInWorld) -> None:
    schema = (await world.client.get("/api/openapi.json")).json()
    operation = schema["paths"]["/api/v1/history/import"]["post"]
    assert "multipart/form-data" in operation["requestBody"]["content"]
    assert "202" in operation["responses"]


async def test_an_import_stopped_by_a_shutdown_is_failed_and_can_be_run_again(
    settings: Settings, store: Store, tmp_path: Path
) -> None:
    paths, truth = write_export(tmp_path, 8_000, "extended", span=timedelta(days=80))
    async with (
        signin_world(settings, store) as world,
        import_under_way(world, _files(paths)) as underway,
    ):
        pass
    # The service stopped (a graceful shutdown) while the import ran: the job must not say it
    # completed, and it says how to finish.
    job = await store["sync_jobs"].find_one({"_id": underway.job_id})
    assert job is not None
    assert (job["status"], job["error_message"]) == ("failed", INTERRUPTED_SENTENCE), job
    assert job["report"]["rows"] < truth.rows
    async with signin_world(settings, store) as world:
        await world.sign_in()
        again, _ = await run_import(world, _files(paths))
        assert again["status"] == "completed", again
        docs = await stored_plays(store, underway.uid)
        assert sum(d["counted"] for d in docs) == truth.counted
        await assert_ledger_matches_plays(store, underway.uid)
