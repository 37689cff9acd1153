"""The embedded server launcher against the real secantusd-py: start, stop, failures, restart."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from echostats.errors import StoreStartError
from echostats.store.database import make_client
from echostats.store.embedded import (
    SERVER_SCRIPT,
    EmbeddedServer,
    free_loopback_port,
    running_embedded_server,
)

pytestmark = pytest.mark.anyio


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); look at its state.
    state = (
        Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}").exists() else "X"
    )
    return state != "Z"


async def test_start_serves_and_stop_cleans_up(tmp_path: Path) -> None:
    server = EmbeddedServer(data_dir=tmp_path)
    await server.start()
    pid = server.pid
    assert pid is not None
    client = make_client(server.url)
    try:
        await client["x"]["y"].insert_one({"a": 1})
        assert await client["x"]["y"].count_documents({}) == 1
    finally:
        await client.close()
    await server.stop()
    assert not _alive(pid)
    # The lock is released: a new server can take the same directory, and the data survived.
    async with running_embedded_server(tmp_path) as again:
        client = make_client(again.url)
        try:
            assert await client["x"]["y"].count_documents({}) == 1
        finally:
            await client.close()


async def test_missing_binary_is_a_clear_error(tmp_path: Path) -> None:
    server = EmbeddedServer(data_dir=tmp_path, binary=tmp_path / "no-such-secantusd")
    with pytest.raises(StoreStartError, match="could not be started"):
        await server.start()
    # The lock was released on failure.
    async with running_embedded_server(tmp_path):
        pass


async def test_unwritable_data_dir_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreStartError, match=r"not writable.*ECHOSTATS_DATA_DIR"):
        await EmbeddedServer(data_dir=blocker / "data").start()


async def test_second_instance_on_same_data_dir_is_refused(tmp_path: Path) -> None:
    async with running_embedded_server(tmp_path):
        holder = re.escape(f"(process {os.getpid()})")
        with pytest.raises(StoreStartError, match=rf"in use by another running EchoStats {holder}"):
            await EmbeddedServer(data_dir=tmp_path).start()
        # The refused instance left the holder's pid in the lock file for the next one to name.
        with pytest.raises(StoreStartError, match=rf"EchoStats {holder}"):
            await EmbeddedServer(data_dir=tmp_path).start()


async def test_foreign_server_holding_the_files_is_reported(tmp_path: Path) -> None:
    binary = shutil.which("secantusd-py", path=str(Path(sys.executable).parent))
    assert binary is not None
    (tmp_path / "db").mkdir()
    port = free_loopback_port()
    foreign = subprocess.Popen(  # a server not started by EchoStats, so our lock file is free
        [
            str(binary),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--storage-path",
            str(tmp_path / "db"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with anyio.fail_after(20):
            while True:
                try:
                    stream = await anyio.connect_tcp("127.0.0.1", port)
                except OSError:
                    await anyio.sleep(0.05)
                else:
                    await stream.aclose()
                    break
        with pytest.raises(StoreStartError, match="locked by another process"):
            await EmbeddedServer(data_dir=tmp_path).start()
    finally:
        foreign.terminate()
        foreign.wait(timeout=20)


async def test_killed_server_is_restarted_on_the_same_port(tmp_path: Path) -> None:
    async with running_embedded_server(tmp_path) as server:
        first_pid, port = server.pid, server.port
        assert first_pid is not None
        os.kill(first_pid, signal.SIGKILL)
        with anyio.fail_after(20):
            while server.restarts == 0:
                await anyio.sleep(0.05)
        assert server.pid != first_pid
        assert server.port == port
        client = make_client(server.url)
        try:
            await client["x"]["y"].insert_one({"after": "restart"})
        finally:
            await client.close()


async def test_server_dies_with_a_killed_parent(tmp_path: Path) -> None:
    """SIGKILL of the app must not leave an orphan server holding the data directory."""
    script = (
        "import anyio, sys\n"
        "from pathlib import Path\n"
        "from echostats.store.embedded import EmbeddedServer\n"
        "async def main():\n"
        "    s = EmbeddedServer(data_dir=Path(sys.argv[1]))\n"
        "    await s.start()\n"
        "    print(s.pid, flush=True)\n"
        "    await anyio.sleep(60)\n"
        "anyio.run(main)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    with anyio.fail_after(30):
        line = await anyio.to_thread.run_sync(parent.stdout.readline)
    child_pid = int(line)
    parent.kill()
    parent.wait()
    with anyio.fail_after(20):
        while _alive(child_pid):
            await anyio.sleep(0.05)
    async with running_embedded_server(tmp_path):
        pass


async def test_the_app_runs_secantusdb_through_its_own_script(tmp_path: Path) -> None:
    """The server the app starts is SecantusDB with cheaper retryable-write records
    (``echostats/store/secantus_server.py``), the one the whole suite runs against too."""
    async with running_embedded_server(tmp_path) as server:
        argv = (await anyio.Path(f"/proc/{server.pid}/cmdline").read_bytes()).split(b"\0")
        assert argv[1:3] == [b"-P", str(SERVER_SCRIPT).encode()]
        client = make_client(server.url)
        try:
            await client["x"]["y"].insert_one({"n": 1})
            assert await client["x"]["y"].count_documents({}) == 1
        finally:
            await client.close()
