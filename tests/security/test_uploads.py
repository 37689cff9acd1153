"""Uploads never land outside the data directory, whatever the client calls its files.

The multipart parts are built by hand (raw bytes in ``Content-Disposition``), so the server sees
exactly the hostile names a script could send; ZIP entries get the classic traversal names. Each
import is awaited to its end, then the file system is compared with a snapshot taken before.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from echostats.settings import Settings
from echostats.store import Store
from tests.signin import SignInWorld, signin_world

pytestmark = pytest.mark.anyio

ROWS = json.dumps(
    [
        {
            "ts": "2021-05-01T10:00:00Z",
            "ms_played": 200_000,
            "master_metadata_track_name": "Song",
            "master_metadata_album_artist_name": "Artist",
            "master_metadata_album_album_name": "Album",
            "spotify_track_uri": "spotify:track:0123456789abcdefghijkl",
        }
    ]
).encode()


@pytest.fixture
async def world(settings: Settings, store: Store) -> AsyncIterator[SignInWorld]:
    async with signin_world(settings, store, import_rate_limit=100) as world:
        assert (await world.sign_in()).status_code == 303
        yield world


def multipart(parts: list[tuple[bytes, bytes]]) -> tuple[bytes, str]:
    """A multipart body with each (raw filename, content) in the field ``file``."""
    boundary = uuid.uuid4().hex
    body = io.BytesIO()
    for filename, content in parts:
        body.write(f"--{boundary}\r\n".encode())
        body.write(b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n')
        body.write(b"Content-Type: application/octet-stream\r\n\r\n")
        body.write(content + b"\r\n")
    body.write(f"--{boundary}--\r\n".encode())
    return body.getvalue(), f"multipart/form-data; boundary={boundary}"


def snapshot(root: Path) -> set[Path]:
    return set(root.rglob("*"))


async def finished_job(world: SignInWorld, job_id: str) -> dict[str, Any]:
    with anyio.fail_after(30):
        while True:
            job: dict[str, Any] = (await world.client.get(f"/api/v1/sync-jobs/{job_id}")).json()
            if job["status"] not in {"pending", "running"}:
                return job
            await anyio.sleep(0.05)


async def upload(world: SignInWorld, body: bytes, content_type: str) -> tuple[int, dict[str, Any]]:
    response = await world.client.post(
        "/api/v1/history/import", content=body, headers={"Content-Type": content_type}
    )
    answer: dict[str, Any] = response.json()
    if response.status_code == 202:
        answer = await finished_job(world, answer["job_id"])
    return response.status_code, answer


def assert_nothing_escaped(world: SignInWorld, tmp_path: Path, before: set[Path], tag: str) -> None:
    data_dir = world.settings.data_dir.resolve()
    outside = [
        path for path in snapshot(tmp_path) - before if not path.resolve().is_relative_to(data_dir)
    ]
    assert not outside, outside
    for place in (Path.cwd(), tmp_path.parent, Path("/tmp"), Path("/")):
        assert not list(place.glob(f"*{tag}*")), place
    # Finished imports leave nothing behind, inside the data directory either.
    imports = world.settings.data_dir / "imports"
    assert not imports.exists() or not list(imports.iterdir())


async def test_hostile_multipart_file_names_stay_inside_the_data_directory(
    world: SignInWorld, tmp_path: Path
) -> None:
    tag = f"escape-{uuid.uuid4().hex[:8]}"
    names = [
        f"../../../{tag}.json",
        f"../../../../../../../../tmp/{tag}.json",
        f"/tmp/{tag}.json",
        f"..\\..\\..\\{tag}.json",
        f"C:\\Windows\\{tag}.json",
        f"%2e%2e%2f%2e%2e%2f{tag}.json",
        f"Streaming_History_Audio_2021.json/../../{tag}.json",
        f"./.././{tag}\u2215x.json",  # a division slash, which is not a separator
        f"{tag}\x00.json",
        f"{tag}\r\nX-Injected: 1.json",
        "." * 300 + f"/{tag}.json",
        "",
        ".",
        "..",
        f"{'x' * 5000}{tag}.json",
    ]
    before = snapshot(tmp_path)
    for name in names:
        body, content_type = multipart([(name.encode("utf-8", "surrogateescape"), ROWS)])
        status, answer = await upload(world, body, content_type)
        assert status in {202, 422}, (name, status, answer)
        if status == 202:
            assert answer["status"] == "completed", (name, answer)
            for report in answer["report"]["files"]:
                shown = report["name"]
                assert not set(shown) & {"/", "\\", "\x00", "\r", "\n"}, shown
                assert len(shown) <= 200, len(shown)
    assert_nothing_escaped(world, tmp_path, before, tag)


def hostile_zip(tag: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in (
            f"../../{tag}/Streaming_History_Audio_2021.json",
            f"/tmp/{tag}/Streaming_History_Audio_2021.json",
            f"ok/../../../{tag}/Streaming_History_Audio_2021.json",
        ):
            archive.writestr(name, ROWS)
        link = zipfile.ZipInfo(f"{tag}/endsong_0.json")
        link.external_attr = 0o120777 << 16  # a symbolic link to outside
        archive.writestr(link, "../../../../etc/passwd")
    return buffer.getvalue()


def odd_but_harmless_zip(tag: str) -> bytes:
    # On POSIX a backslash or a drive letter is part of a name, not a path: such an archive
    # may be imported, but nothing may be written because of it.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"..\\..\\{tag}\\Streaming_History_Audio_2021.json", ROWS)
        archive.writestr(f"C:\\{tag}\\Streaming_History_Audio_2022.json", ROWS)
    return buffer.getvalue()


async def test_hostile_zip_entries_stay_inside_the_data_directory(
    world: SignInWorld, tmp_path: Path
) -> None:
    tag = f"escape-{uuid.uuid4().hex[:8]}"
    before = snapshot(tmp_path)
    body, content_type = multipart([(b"my_spotify_data.zip", hostile_zip(tag))])
    status, answer = await upload(world, body, content_type)
    assert status == 422, answer
    assert "outside the archive" in answer["detail"] or "link" in answer["detail"], answer
    body, content_type = multipart([(f"../../{tag}.zip".encode(), odd_but_harmless_zip(tag))])
    status, answer = await upload(world, body, content_type)
    assert status in {202, 422}, answer
    if status == 202:
        assert answer["status"] == "completed", answer
    assert_nothing_escaped(world, tmp_path, before, tag)
