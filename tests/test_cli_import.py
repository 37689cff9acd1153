"""``echostats import``: the same importer and aggregator, without the web server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from bench.export_generator import write_export, write_zip
from echostats.cli import main
from echostats.cli_import import import_paths, summary
from echostats.settings import Settings
from echostats.store import Store
from echostats.store.embedded import EmbeddedServer
from echostats.store.users import Profile, Users
from tests.conftest import TEST_ENCRYPTION_KEYS, TEST_SESSION_SECRET

pytestmark = pytest.mark.anyio


async def test_cli_import_runs_the_pipeline_in_process(
    settings: Settings, store: Store, db_server: EmbeddedServer, tmp_path: Path
) -> None:
    user, _ = await Users(store).upsert_from_profile(
        Profile("cli-user", "CLI", None, "premium"), datetime.now(UTC)
    )
    paths, truth = write_export(tmp_path / "export", 1_500, "extended", span=timedelta(days=20))
    archive = write_zip(tmp_path / "export.zip", paths, tmp_path / "export")
    wired = settings.model_copy(
        update={"mongodb_url": SecretStr(db_server.url), "database_name": store.db.name}
    )
    dry = await import_paths(wired, [archive], None, True)
    assert dry.status == "completed"
    assert await store["plays"].count_documents({}) == 0
    job = await import_paths(wired, [archive], user.id, False)
    assert job.status == "completed", job
    assert job.report is not None
    assert job.report["counted"] == truth.counted
    assert await store["plays"].count_documents({"counted": True}) == truth.counted
    assert "plays stored" in summary(job)


def test_cli_import_refuses_a_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECHOSTATS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ECHOSTATS_SESSION_SECRET", TEST_SESSION_SECRET)
    monkeypatch.setenv("ECHOSTATS_ENCRYPTION_KEYS", TEST_ENCRYPTION_KEYS)
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    status = main(["import", str(tmp_path / "nope.zip"), "--dry-run"])
    assert status != 0
    assert "nope.zip" in capsys.readouterr().err
