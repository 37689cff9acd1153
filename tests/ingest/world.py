"""A real app (real uvicorn, real store) on an in-process simulator, living in stepped time."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import anyio
import httpx
from fastapi import FastAPI

from echostats.app import create_app
from echostats.settings import Settings
from echostats.simulator import Simulator
from echostats.store import Store
from tests.ingest.stepped import SteppedTime
from tests.servers import running_uvicorn
from tests.signin import SIM_BASE, wire


@dataclass
class LiveApp:
    app: FastAPI
    url: str
    client: httpx.AsyncClient
    sim: Simulator
    sim_http: httpx.AsyncClient

    async def sign_in(self, user: str = "demo") -> str:
        """The whole OAuth dance; returns the app's user id.

        Done in-process (the lifespan already runs under uvicorn): uvicorn's access log would
        carry the callback's code. The session cookie is then handed to the real client.
        """
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url=self.url) as browser:
            return await self._sign_in(browser, user)

    async def _sign_in(self, browser: httpx.AsyncClient, user: str) -> str:
        response = await browser.get("/api/v1/auth/login", headers={"Accept": "application/json"})
        assert response.status_code == 200, response.text
        consent = await self.sim_http.get(f"{response.json()['url']}&sim_user={user}")
        assert consent.status_code == 302, consent.text
        location = urlsplit(consent.headers["location"])
        done = await browser.get(f"{location.path}?{location.query}")
        assert done.status_code in {302, 303, 307}, done.text
        self.client.cookies.set("session", browser.cookies["session"])
        me = await self.client.get("/api/v1/me")
        assert me.status_code == 200, me.text
        return str(me.json()["id"])


@contextlib.asynccontextmanager
async def live_app(
    settings: Settings, store: Store, sim: Simulator, time: SteppedTime, **changes: object
) -> AsyncIterator[LiveApp]:
    wired = wire(settings, sim, **changes)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url=SIM_BASE
    ) as sim_http:
        app = create_app(wired, store=store, spotify_http=sim_http, timing=time.timing)
        async with (
            running_uvicorn(app) as url,
            httpx.AsyncClient(base_url=url, timeout=10) as client,
        ):
            yield LiveApp(app, url, client, sim, sim_http)


@dataclass
class SseReader:
    """Collects the events of one SSE response in a background task."""

    events: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    subscribed: anyio.Event = field(default_factory=anyio.Event)
    changed: anyio.Event = field(default_factory=anyio.Event)

    async def read(self, client: httpx.AsyncClient, path: str) -> None:
        async with client.stream("GET", path, timeout=None) as response:
            assert response.status_code == 200
            name = None
            async for line in response.aiter_lines():
                if line.startswith(": subscribed") or line.startswith(":subscribed"):
                    self.subscribed.set()
                elif line.startswith("event:"):
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and name is not None:
                    self.events.append((name, json.loads(line.split(":", 1)[1])))
                    self.changed.set()
                    self.changed = anyio.Event()
                    name = None

    def named(self, name: str) -> list[dict[str, object]]:
        return [data for event, data in self.events if event == name]

    async def wait_for(self, name: str, count: int, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - a bound, passed to fail_after
        with anyio.fail_after(timeout):
            while len(self.named(name)) < count:
                await self.changed.wait()
