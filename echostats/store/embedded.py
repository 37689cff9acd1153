"""The embedded store: a private SecantusDB server run as a child process.

When no MongoDB URL is configured the app starts ``secantusd-py`` on a free loopback port with its
data under the data directory and ``--sync-on-commit`` (acknowledged writes survive a crash). The
server is watched: if it dies while the app runs, it is started again on the same port, so the
driver reconnects by itself and readiness recovers. A lock file held for the app's lifetime makes
a second instance on the same data directory fail fast with a sentence instead of a WiredTiger
trace.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import importlib.util
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import anyio
import anyio.abc

from echostats.errors import StoreStartError

log = logging.getLogger(__name__)

# What the app runs: SecantusDB's own server with cheaper retryable-write bookkeeping.
SERVER_SCRIPT = Path(__file__).with_name("secantus_server.py")
LOCK_NAME = "echostats.lock"
# A clean stop writes a last checkpoint: ~2 s for a million plays, longer on a busy machine.
# A killed server must recover at the next start, which takes longer still.
STOP_GRACE_SECONDS = 30.0
RESTART_BACKOFF_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)


def data_dir_in_use(data_dir: Path) -> bool:
    """Does a running EchoStats hold this data directory's lock? (Nothing is changed.)"""
    path = data_dir / LOCK_NAME
    if not path.exists():
        return False
    with path.open("a") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock_file, fcntl.LOCK_UN)
    return False


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    # If the app is killed with SIGKILL it cannot stop the server; the kernel then sends the
    # server SIGTERM so it does not linger holding the data directory.
    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


@dataclass
class EmbeddedServer:
    """One SecantusDB child process with its data in ``data_dir / "db"``."""

    data_dir: Path
    start_timeout: float = 120.0
    binary: Path | None = None  # another server command than SecantusDB's (SERVER_SCRIPT)
    # WiredTiger cache, e.g. "256M"; empty: the server's default (1G). Only the import bench
    # sets it (bench/RESULTS.md says why the service does not).
    cache_size: str = ""
    # mongod's test-only commands (``configureFailPoint``): the fault tests inject driver
    # errors and stalls with them. Never on in the service: any local client could arm them.
    test_commands: bool = False
    port: int = 0
    restarts: int = 0
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _lock_file: IO[str] | None = field(default=None, repr=False)
    _log_path: Path | None = field(default=None, repr=False)
    _stopping: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def storage_path(self) -> Path:
        return self.data_dir / "db"

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Lock the data directory, launch the server and wait until it accepts connections."""
        if self.binary is None and importlib.util.find_spec("secantus") is None:
            raise StoreStartError(
                "the embedded database server (the 'secantusdb' package) was not found; install "
                "it or set ECHOSTATS_MONGODB_URL to use MongoDB"
            )
        self._prepare_data_dir()
        self._acquire_lock()
        try:
            self.port = self.port or free_loopback_port()
            await self._launch()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after a grace period) and release the lock."""
        self._stopping = True
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            with anyio.move_on_after(STOP_GRACE_SECONDS, shield=True):
                while process.poll() is None:  # noqa: ASYNC110 - polling a child process
                    await anyio.sleep(0.05)
            if process.poll() is None:
                log.warning("embedded database did not stop in time; killing it")
                process.kill()
                process.wait()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    async def watch(self) -> None:
        """Restart the server whenever it dies unexpectedly, until ``stop`` is called."""
        attempt = 0
        while not self._stopping:
            process = self._process
            if process is None or process.poll() is not None:
                if self._stopping:
                    return
                delay = RESTART_BACKOFF_SECONDS[min(attempt, len(RESTART_BACKOFF_SECONDS) - 1)]
                log.error(
                    "embedded database exited unexpectedly; restarting",
                    extra={"exit_code": process.returncode if process else None, "delay": delay},
                )
                await anyio.sleep(delay)
                try:
                    await self._launch()
                except StoreStartError:
                    attempt += 1
                    log.exception("embedded database restart failed")
                    continue
                attempt = 0
                self.restarts += 1
            await anyio.sleep(0.2)

    # --- steps -----------------------------------------------------------------------------

    def _prepare_data_dir(self) -> None:
        try:
            self.storage_path.mkdir(parents=True, exist_ok=True)
            probe = self.data_dir / ".write-probe"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise StoreStartError(
                f"the data directory {self.data_dir} is not writable ({exc.strerror or exc}); "
                "set ECHOSTATS_DATA_DIR to a writable directory"
            ) from None

    def _acquire_lock(self) -> None:
        # Opened without truncating: a refused second instance must not wipe the holder's pid.
        lock_file = (self.data_dir / LOCK_NAME).open("a+")
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.seek(0)
            holder = lock_file.read().strip()
            lock_file.close()
            which = f" (process {holder})" if holder.isdigit() else ""
            raise StoreStartError(
                f"the data directory {self.data_dir} is in use by another running "
                f"EchoStats{which}; stop it first or choose another ECHOSTATS_DATA_DIR"
            ) from None
        lock_file.seek(0)
        lock_file.truncate()
        lock_file.write(str(os.getpid()))
        lock_file.flush()
        self._lock_file = lock_file

    async def _launch(self) -> None:
        self._log_path = self.data_dir / "secantusd.log"
        # -P: the script's folder (echostats/store, which has a collections.py) stays off
        # sys.path, so the server imports the standard library's modules, not ours.
        script = [sys.executable, "-P", str(SERVER_SCRIPT)]
        server = [str(self.binary)] if self.binary else script
        command = [
            *server,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--storage-path",
            str(self.storage_path),
            "--sync-on-commit",
            "--log-level",
            "WARNING",
            *(["--cache-size", self.cache_size] if self.cache_size else []),
            *(["--enable-test-commands"] if self.test_commands else []),
        ]
        with self._log_path.open("ab") as server_log:
            try:
                self._process = subprocess.Popen(  # noqa: S603, ASYNC220 - fixed argv; spawning is quick
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=server_log,
                    stderr=server_log,
                    preexec_fn=_die_with_parent,  # noqa: PLW1509 - only prctl, async-signal-safe
                    # Its own session: Ctrl+C in the terminal reaches the app alone, which then
                    # stops the server in order (not killed first, mid-shutdown, and "restarted").
                    start_new_session=True,
                    cwd=self.data_dir,
                )
            except OSError as exc:
                raise StoreStartError(
                    f"the embedded database server could not be started: {exc.strerror or exc}"
                ) from None
        await self._wait_until_listening()

    async def _wait_until_listening(self) -> None:
        assert self._process is not None
        with anyio.move_on_after(self.start_timeout):
            while True:
                if self._process.poll() is not None:
                    raise StoreStartError(
                        "the embedded database server exited during start-up: "
                        f"{self._last_log_line()}"
                    )
                with contextlib.suppress(OSError):
                    stream = await anyio.connect_tcp("127.0.0.1", self.port)
                    await stream.aclose()
                    return
                await anyio.sleep(0.05)
        raise StoreStartError(
            f"the embedded database server did not accept connections within "
            f"{self.start_timeout:g} s (see {self._log_path})"
        )

    def _last_log_line(self) -> str:
        if self._log_path is None or not self._log_path.exists():
            return "no output"
        lines = [ln for ln in self._log_path.read_text(errors="replace").splitlines() if ln.strip()]
        if not lines:
            return "no output"
        last = lines[-1].strip()
        if "resource busy" in last.lower():
            return "its data files are locked by another process"
        return last[-300:]


@contextlib.asynccontextmanager
async def running_embedded_server(
    data_dir: Path,
    start_timeout: float = 120.0,
    binary: Path | None = None,
    cache_size: str = "",
    *,
    test_commands: bool = False,
) -> AsyncIterator[EmbeddedServer]:
    """Start a watched embedded server for the duration of the block."""
    server = EmbeddedServer(
        data_dir=data_dir,
        start_timeout=start_timeout,
        binary=binary,
        cache_size=cache_size,
        test_commands=test_commands,
    )
    await server.start()
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(server.watch)
            try:
                yield server
            finally:
                tg.cancel_scope.cancel()
    finally:
        await server.stop()
