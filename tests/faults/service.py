"""``echostats serve`` as a real process on its embedded store, wired to a Spotify simulator that
the test serves over real HTTP (so the test can inject faults and read the simulator's truth).

Kill it with SIGKILL, restart it on the same data directory, and afterwards open that data
directory with an embedded server of the test's own to compare what was stored with the truth.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx

from echostats.simulator import Simulator
from echostats.simulator.server import serve as serve_simulator
from echostats.store import Store
from echostats.store.database import make_client
from echostats.store.embedded import running_embedded_server
from tests.conftest import TEST_ENCRYPTION_KEYS, TEST_SESSION_SECRET

ECHOSTATS = [sys.executable, "-m", "echostats.cli"]
READY_WITHIN = 60.0
GONE_WITHIN = 30.0


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(p) for p in path.read_text().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie has exited; only its parent has not reaped it yet


@dataclass
class Service:
    """One installation (data directory, port, settings); ``start`` runs a process for it."""

    data_dir: Path
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    http: httpx.AsyncClient = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.AsyncClient(base_url=self.url, timeout=30, headers={"Origin": self.url})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        assert self.process is None or self.process.poll() is not None
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                [*ECHOSTATS, "serve", "--port", str(self.port)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir.parent,
            )
        await self.wait_ready()

    async def wait_ready(self, within: float = READY_WITHIN) -> None:
        with anyio.fail_after(within):
            while True:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise AssertionError(f"echostats serve exited early:\n{self.log_tail()}")
                with contextlib.suppress(httpx.TransportError):
                    if (await self.http.get("/api/health/ready")).status_code == 200:
                        return
                await anyio.sleep(0.1)

    async def kill9(self) -> None:
        """SIGKILL the app; wait until it and its store process are gone."""
        assert self.process is not None
        store_pids = _children(self.process.pid)
        self.process.kill()
        await anyio.to_thread.run_sync(self.process.wait)
        await self._wait_gone(store_pids)

    async def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        store_pids = _children(self.process.pid)
        self.process.send_signal(signal.SIGTERM)
        try:
            await anyio.to_thread.run_sync(lambda: self.process and self.process.wait(30))
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        await self._wait_gone(store_pids)

    async def _wait_gone(self, pids: list[int]) -> None:
        with anyio.fail_after(GONE_WITHIN):
            while any(_alive(pid) for pid in pids):
                await anyio.sleep(0.05)

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    async def sign_in(self, sim_url: str, user: str = "demo") -> str:
        """The OAuth dance over real HTTP; the session cookie stays on ``self.http``."""
        login = await self.http.get("/api/v1/auth/login", headers={"Accept": "application/json"})
        assert login.status_code == 200, login.text
        async with httpx.AsyncClient(timeout=30) as browser:
            consent = await browser.get(f"{login.json()['url']}&sim_user={user}")
        assert consent.status_code == 302, consent.text
        location = urlsplit(consent.headers["location"])
        assert location.netloc == f"127.0.0.1:{self.port}", sim_url
        done = await self.http.get(f"{location.path}?{location.query}")
        assert done.status_code in {302, 303, 307}, done.text
        me = await self.http.get("/api/v1/me")
        assert me.status_code == 200, me.text
        return str(me.json()["id"])

    async def job(self, job_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/api/v1/sync-jobs/{job_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def wait_job(self, job_id: str, *statuses: str, within: float = 60) -> dict[str, Any]:
        with anyio.fail_after(within):
            while (job := await self.job(job_id))["status"] not in statuses:
                await anyio.sleep(0.1)
        return job


def service_env(data_dir: Path, sim: Simulator, sim_port: int, **extra: str) -> dict[str, str]:
    sim_base = f"http://127.0.0.1:{sim_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECHOSTATS_")}
    env.update(
        ECHOSTATS_DATA_DIR=str(data_dir),
        ECHOSTATS_UPDATE_FEED_URL="",
        ECHOSTATS_SPOTIFY_CLIENT_ID=sim.config.client_id,
        ECHOSTATS_SPOTIFY_CLIENT_SECRET=sim.config.client_secret,
        ECHOSTATS_SPOTIFY_ACCOUNTS_URL=sim_base,
        ECHOSTATS_SPOTIFY_API_URL=f"{sim_base}/v1",
        ECHOSTATS_SESSION_SECRET=TEST_SESSION_SECRET,
        ECHOSTATS_ENCRYPTION_KEYS=TEST_ENCRYPTION_KEYS,
        ECHOSTATS_LOG_LEVEL="INFO",
    )
    env.update(extra)
    return env


@contextlib.asynccontextmanager
async def service_with_simulator(
    tmp_path: Path, sim: Simulator, port: int, **extra: str
) -> AsyncIterator[tuple[Service, str]]:
    """A simulator served by this process and a (not yet started) service wired to it."""
    async with anyio.create_task_group() as tg:
        sim_port = await tg.start(serve_simulator, sim, "127.0.0.1", 0)
        data_dir = tmp_path / "data"
        service = Service(
            data_dir=data_dir,
            port=port,
            env=service_env(data_dir, sim, sim_port, **extra),
            log_path=tmp_path / "service.log",
        )
        try:
            yield service, f"http://127.0.0.1:{sim_port}"
        finally:
            with anyio.CancelScope(shield=True):
                await service.stop()
                await service.http.aclose()
            tg.cancel_scope.cancel()


@contextlib.asynccontextmanager
async def opened_data_dir(data_dir: Path, database: str = "echostats") -> AsyncIterator[Store]:
    """The stopped service's database, opened by the test on an embedded server of its own."""
    async with running_embedded_server(data_dir) as server:
        client = make_client(server.url)
        try:
            yield Store(client=client, db=client[database])
        finally:
            await client.close()
