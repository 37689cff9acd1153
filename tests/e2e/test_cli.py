"""``echostats serve`` as a person runs it: a real process, real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import anyio
import httpx
import pytest

from echostats.security.keys import new_key_entry
from echostats.settings import Settings
from echostats.store import Store
from echostats.store.database import make_client
from echostats.store.embedded import EmbeddedServer, free_loopback_port
from tests.conftest import TEST_ENCRYPTION_KEYS, TEST_SESSION_SECRET
from tests.signin import signin_world

pytestmark = pytest.mark.anyio

ECHOSTATS = [sys.executable, "-m", "echostats.cli"]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECHOSTATS_")}
    env.update(
        ECHOSTATS_DATA_DIR=str(tmp_path / "data"),
        ECHOSTATS_UPDATE_FEED_URL="",
        ECHOSTATS_SPOTIFY_CLIENT_ID="cli-test",
        ECHOSTATS_SPOTIFY_CLIENT_SECRET="cli-secret",
        ECHOSTATS_SESSION_SECRET=TEST_SESSION_SECRET,
        ECHOSTATS_ENCRYPTION_KEYS=TEST_ENCRYPTION_KEYS,
    )
    env.update(extra)
    return env


def test_invalid_configuration_exits_with_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [*ECHOSTATS, "serve"],
        env=_env(tmp_path, ECHOSTATS_PORT="eighty"),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "ECHOSTATS_PORT" in lines[0]
    assert "Traceback" not in result.stderr


def test_env_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("ECHOSTATS_LOG_LEVEL=LOUD\n")
    result = subprocess.run(
        [*ECHOSTATS, "serve"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "ECHOSTATS_LOG_LEVEL" in result.stderr


async def _wait_ready(url: str, process: subprocess.Popen[str]) -> None:
    async with httpx.AsyncClient() as client:
        with anyio.fail_after(60):
            while True:
                assert process.poll() is None, "echostats serve exited early"
                try:
                    if (await client.get(f"{url}/api/health/ready")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await anyio.sleep(0.1)


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_serve_starts_and_stops_cleanly_on_signal(
    tmp_path: Path, sig: signal.Signals
) -> None:
    port = free_loopback_port()
    process = subprocess.Popen(
        [*ECHOSTATS, "serve", "--port", str(port)],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    try:
        await _wait_ready(f"http://127.0.0.1:{port}", process)
        store_pids = _children(process.pid)
        assert store_pids, "the embedded store should run as a child process"
        process.send_signal(sig)
        output, _ = await anyio.to_thread.run_sync(lambda: process.communicate(timeout=30))
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    for pid in store_pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert f"http://127.0.0.1:{port}/api/docs" in output
    assert f"dashboard http://127.0.0.1:{port}/" in output


async def test_second_instance_on_same_data_dir_fails_clearly(tmp_path: Path) -> None:
    port = free_loopback_port()
    first = subprocess.Popen(
        [*ECHOSTATS, "serve", "--port", str(port)],
        env=_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=tmp_path,
    )
    try:
        await _wait_ready(f"http://127.0.0.1:{port}", first)
        second = await anyio.to_thread.run_sync(
            lambda: subprocess.run(
                [*ECHOSTATS, "serve", "--port", str(free_loopback_port())],
                env=_env(tmp_path),
                capture_output=True,
                text=True,
                timeout=60,
                cwd=tmp_path,
            )
        )
    finally:
        first.terminate()
        first.wait(timeout=30)
    assert second.returncode == 3
    assert "in use by another running EchoStats" in second.stderr
    assert "Traceback" not in second.stderr


def test_missing_or_weak_keys_refuse_to_start_in_one_line(tmp_path: Path) -> None:
    for keys, phrase in (("", "is not set"), ("k1:" + "QUFB" * 11, "33 bytes")):
        result = subprocess.run(
            [*ECHOSTATS, "serve"],
            env=_env(tmp_path, ECHOSTATS_ENCRYPTION_KEYS=keys),
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1, result.stderr
        assert "ECHOSTATS_ENCRYPTION_KEYS" in result.stderr
        assert phrase in result.stderr


def test_generate_secrets_prints_usable_values(tmp_path: Path) -> None:
    result = subprocess.run(
        [*ECHOSTATS, "generate-secrets"], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert result.returncode == 0
    values = dict(line.split("=", 1) for line in result.stdout.strip().splitlines())
    assert set(values) == {"ECHOSTATS_SESSION_SECRET", "ECHOSTATS_ENCRYPTION_KEYS"}
    check = subprocess.run(
        [*ECHOSTATS, "serve", "--port", "notaport"],
        env=_env(tmp_path, **values),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert "ENCRYPTION_KEYS" not in check.stderr  # the keys were accepted; the port was not


async def test_rotate_key_command_reencrypts_stored_tokens(
    tmp_path: Path, settings: Settings, db_server: EmbeddedServer
) -> None:
    database = "rotate_cli_test"
    client = make_client(db_server.url)
    store = Store(client=client, db=client[database])
    try:
        await store.prepare()
        async with signin_world(settings, store) as world:
            assert (await world.sign_in()).status_code == 303
        new_keys = f"{new_key_entry('newest')},{settings.encryption_keys.get_secret_value()}"
        env = _env(
            tmp_path,
            ECHOSTATS_MONGODB_URL=db_server.url,
            ECHOSTATS_DATABASE_NAME=database,
            ECHOSTATS_ENCRYPTION_KEYS=new_keys,
        )
        result = await anyio.to_thread.run_sync(
            lambda: subprocess.run(
                [*ECHOSTATS, "rotate-key"], env=env, capture_output=True, text=True, timeout=60
            )
        )
        assert result.returncode == 0, result.stderr
        assert "re-encrypted the tokens of 1 user(s) under key newest" in result.stdout
        doc = await store["tokens"].find_one({})
        assert doc is not None
        assert doc["access"]["kid"] == "newest"
    finally:
        await client.drop_database(database)
        await client.close()
