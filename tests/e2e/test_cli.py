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

from echostats.store.embedded import free_loopback_port

pytestmark = pytest.mark.anyio

ECHOSTATS = [sys.executable, "-m", "echostats.cli"]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECHOSTATS_")}
    env.update(
        ECHOSTATS_DATA_DIR=str(tmp_path / "data"),
        ECHOSTATS_UPDATE_FEED_URL="",
        ECHOSTATS_SPOTIFY_CLIENT_ID="cli-test",
        ECHOSTATS_SPOTIFY_CLIENT_SECRET="cli-secret",
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
