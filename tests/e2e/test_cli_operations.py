"""``echostats doctor | backup | restore`` as an operator runs them: real processes, exit codes,
one line per problem, no traceback and no secret in the output."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from echostats.demo import with_demo_secrets
from echostats.settings import Settings
from echostats.store import Store
from echostats.store.database import make_client
from echostats.store.embedded import EmbeddedServer, free_loopback_port
from tests.conftest import TEST_ENCRYPTION_KEYS, TEST_SESSION_SECRET
from tests.e2e.test_cli import ECHOSTATS, _env
from tests.signin import signin_world
from tests.store.test_backup import dump

pytestmark = pytest.mark.anyio


async def echostats(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return await anyio.to_thread.run_sync(
        lambda: subprocess.run(
            [*ECHOSTATS, *args], env=env, capture_output=True, text=True, timeout=120, cwd=cwd
        )
    )


def assert_clean(result: subprocess.CompletedProcess[str]) -> None:
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    for secret in ("cli-secret", TEST_SESSION_SECRET, TEST_ENCRYPTION_KEYS.split(":", 1)[1]):
        assert secret not in output


@pytest.fixture
async def second_store(db_server: EmbeddedServer) -> AsyncIterator[Store]:
    client = make_client(db_server.url)
    name = f"cli_{uuid.uuid4().hex[:12]}"
    try:
        yield Store(client=client, db=client[name])
    finally:
        await client.drop_database(name)
        await client.close()


def on(db_server: EmbeddedServer, store: Store, tmp_path: Path, **extra: str) -> dict[str, str]:
    return _env(
        tmp_path,
        ECHOSTATS_MONGODB_URL=db_server.url,
        ECHOSTATS_DATABASE_NAME=store.db.name,
        # Nothing listens there: the credential check cannot be made, which is a warning.
        ECHOSTATS_SPOTIFY_ACCOUNTS_URL=f"http://127.0.0.1:{free_loopback_port()}",
        **extra,
    )


async def test_doctor_reports_one_line_per_check(
    db_server: EmbeddedServer, store: Store, tmp_path: Path
) -> None:
    result = await echostats("doctor", env=on(db_server, store, tmp_path), cwd=tmp_path)
    assert_clean(result)
    assert result.returncode == 0, result.stdout
    lines = result.stdout.splitlines()
    assert lines[0] == "OK    configuration: every setting is valid"
    assert all(line.split()[0] in {"OK", "WARN"} for line in lines), lines
    assert any(
        line.startswith("WARN  spotify credentials: set, but not verified") for line in lines
    )
    assert f"OK    database: MongoDB database {store.db.name} answers" in lines

    weak = on(db_server, store, tmp_path, ECHOSTATS_SESSION_SECRET="too-short")
    result = await echostats("doctor", env=weak, cwd=tmp_path)
    assert_clean(result)
    assert result.returncode == 1
    assert any(
        line.startswith("FAIL  session secret: ") and "ECHOSTATS_SESSION_SECRET" in line
        for line in result.stdout.splitlines()
    ), result.stdout


async def test_doctor_with_an_invalid_setting_says_which(tmp_path: Path) -> None:
    result = await echostats("doctor", env=_env(tmp_path, ECHOSTATS_PORT="eighty"), cwd=tmp_path)
    assert_clean(result)
    assert result.returncode == 1
    assert result.stdout.startswith("FAIL  configuration: invalid setting ECHOSTATS_PORT")
    assert result.stdout.count("\n") == 1


async def test_backup_and_restore_round_trip_through_the_cli(
    settings: Settings,
    db_server: EmbeddedServer,
    store: Store,
    second_store: Store,
    tmp_path: Path,
) -> None:
    async with signin_world(settings, store) as world:
        assert (await world.sign_in()).status_code == 303
    path = tmp_path / "nightly.echostats.gz"
    made = await echostats("backup", str(path), env=on(db_server, store, tmp_path), cwd=tmp_path)
    assert_clean(made)
    assert made.returncode == 0, made.stderr
    assert f"to {path}" in made.stdout

    into = on(db_server, second_store, tmp_path)
    restored = await echostats("restore", str(path), env=into, cwd=tmp_path)
    assert_clean(restored)
    assert restored.returncode == 0, restored.stderr
    assert await dump(second_store) == await dump(store)

    again = await echostats("restore", str(path), env=into, cwd=tmp_path)
    assert_clean(again)
    assert again.returncode == 1
    assert again.stderr.startswith("echostats: The database already holds data")
    assert "--force" in again.stderr
    assert again.stderr.count("\n") == 1

    await second_store["users"].insert_one({"_id": "extra", "spotify_id": "extra"})
    forced = await echostats("restore", str(path), "--force", env=into, cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert await dump(second_store) == await dump(store)


async def test_bad_paths_end_in_one_line(
    db_server: EmbeddedServer, store: Store, tmp_path: Path
) -> None:
    env = on(db_server, store, tmp_path)
    garbage = tmp_path / "garbage.gz"
    garbage.write_bytes(b"\x00not gzip at all")
    for args, phrase in (
        (("backup", str(tmp_path / "missing" / "b.gz")), "Cannot write"),
        (("restore", str(garbage)), "is not a usable EchoStats backup"),
        (("restore", str(tmp_path / "nope.gz")), "does not exist"),
    ):
        result = await echostats(*args, env=env, cwd=tmp_path)
        assert_clean(result)
        assert result.returncode == 1, result.stderr
        assert phrase in result.stderr
        assert result.stderr.startswith("echostats: ")
        assert result.stderr.count("\n") == 1, result.stderr


async def test_after_make_demo_the_commands_find_the_demo_installation(tmp_path: Path) -> None:
    """Nothing configured, a demo installation present (as ``make demo`` leaves it): doctor and
    backup work on it without --demo or secrets copied by hand, and say so."""
    env = _env(tmp_path)
    for name in ("ECHOSTATS_SESSION_SECRET", "ECHOSTATS_ENCRYPTION_KEYS"):
        env.pop(name)
    with_demo_secrets(Settings(_env_file=None, data_dir=tmp_path / "data" / "demo"))
    doctor = await echostats("doctor", env=env, cwd=tmp_path)
    assert_clean(doctor)
    assert doctor.returncode == 0, doctor.stdout
    assert "using the demo installation" in doctor.stderr
    assert "OK    session secret: set and strong enough" in doctor.stdout.splitlines()
    path = tmp_path / "demo.echostats.gz"
    made = await echostats("backup", str(path), env=env, cwd=tmp_path)
    assert_clean(made)
    assert made.returncode == 0, made.stderr
    assert path.exists()


async def test_help_speaks_to_a_person_and_doctor_says_things_once(tmp_path: Path) -> None:
    helped = await echostats("--help", env=_env(tmp_path), cwd=tmp_path)
    assert helped.returncode == 0
    text = " ".join(helped.stdout.split())  # argparse wraps lines
    assert "Try it with 'echostats demo'" in text
    assert "``" not in text
    assert "as the service grows" not in text
    env = _env(tmp_path)
    env.pop("ECHOSTATS_SESSION_SECRET")
    doctor = await echostats("doctor", env=env, cwd=tmp_path)
    line = next(x for x in doctor.stdout.splitlines() if x.startswith("FAIL  session secret"))
    assert line.count("generate-secrets") == 1, line
