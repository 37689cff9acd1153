"""Disk full on the upload folder: a real full filesystem (a tiny tmpfs mounted over the
uploads folder), not a mocked write. The upload is refused with a 507 sentence, nothing of it
is left on disk or in the database, and the next upload that fits works."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import anyio
import pytest

from actors import topics
from bench.export_generator import write_export
from echostats.api.history_import import uploads_root
from echostats.settings import Settings
from echostats.store import Store
from tests.signin import signin_world

pytestmark = [pytest.mark.anyio, pytest.mark.faults]

TINY = 256 * 1024


async def _entries(folder: Path) -> list[anyio.Path]:
    return [entry async for entry in anyio.Path(folder).iterdir()]


@pytest.fixture
def full_uploads_folder(settings: Settings) -> Iterator[Path]:
    """The uploads folder on a 256 KiB tmpfs of its own (needs root, as CI runs)."""
    folder = uploads_root(settings)
    folder.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TINY},mode=0700", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


async def test_a_full_disk_refuses_the_upload_and_keeps_nothing(
    settings: Settings, store: Store, full_uploads_folder: Path, tmp_path: Path
) -> None:
    big, _ = write_export(tmp_path / "big", 3_000, "extended", span=timedelta(days=30))
    assert sum(p.stat().st_size for p in big) > 2 * TINY
    small, truth = write_export(tmp_path / "small", 150, "extended", span=timedelta(days=3))
    assert sum(p.stat().st_size for p in small) < TINY // 2
    async with signin_world(settings, store) as world:
        assert (await world.sign_in()).status_code in {302, 303, 307}
        response = await world.client.post(
            "/api/v1/history/import",
            files=[("file", (p.name, p.read_bytes(), "application/json")) for p in big],
        )
        assert response.status_code == 507, response.text
        detail = response.json()["detail"]
        assert "disk is full" in detail
        assert "nothing of it was kept" in detail
        assert not await _entries(full_uploads_folder)  # no half-written file, no folder
        assert await store["sync_jobs"].count_documents({"job_type": "import"}) == 0
        assert await store["plays"].count_documents({}) == 0

        # The room the failed upload took is free again: an upload that fits goes through.
        me = (await world.client.get("/api/v1/me")).json()
        async with world.app.state.pipeline.subscribe([topics.sync_jobs(me["id"])]) as events:
            accepted = await world.client.post(
                "/api/v1/history/import",
                files=[("file", (p.name, p.read_bytes(), "application/json")) for p in small],
            )
            assert accepted.status_code == 202, accepted.text
            job_id = accepted.json()["job_id"]
            with anyio.fail_after(60):
                async for event in events:
                    if event.name == "finished" and event.data.get("job_id") == job_id:
                        break
        job = await store["sync_jobs"].find_one({"_id": job_id})
        assert job is not None
        assert job["status"] == "completed", job
        assert job["report"]["counted"] == truth.counted
        assert not await _entries(full_uploads_folder)  # the importer removed its files
