"""A running app wired to an in-process Spotify simulator, and the sign-in dance through it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from echostats.app import create_app
from echostats.settings import Settings
from echostats.simulator import Simulator, SimulatorConfig
from echostats.store import Store
from tests.leaks import watch
from tests.servers import running_uvicorn

SIM_BASE = "http://sim.test"


@dataclass
class SignInWorld:
    app: FastAPI
    client: httpx.AsyncClient  # the "browser" talking to the app
    sim: Simulator
    sim_http: httpx.AsyncClient
    settings: Settings

    async def start_login(self) -> tuple[str, str]:
        response = await self.client.get(
            "/api/v1/auth/login", headers={"Accept": "application/json"}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        return body["url"], body["state"]

    async def consent(self, authorize_url: str, user: str = "demo") -> str:
        """Follow the authorize URL at the simulator; return the callback path+query."""
        response = await self.sim_http.get(f"{authorize_url}&sim_user={user}")
        assert response.status_code == 302, response.text
        location = urlsplit(response.headers["location"])
        return f"{location.path}?{location.query}"

    async def sign_in(self, user: str = "demo") -> httpx.Response:
        url, _state = await self.start_login()
        callback = await self.consent(url, user)
        return await self.client.get(callback)


def wire(settings: Settings, sim: Simulator, **changes: object) -> Settings:
    """Settings pointing at the simulator, re-validated with ``changes`` applied."""
    values: dict[str, object] = {
        **dict(settings),
        "spotify_client_id": sim.config.client_id,
        "spotify_client_secret": SecretStr(sim.config.client_secret),
        "spotify_accounts_url": SIM_BASE,
        "spotify_api_url": f"{SIM_BASE}/v1",
        **changes,
    }
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def signin_world(
    settings: Settings, store: Store, sim: Simulator | None = None, **changes: object
) -> AsyncIterator[SignInWorld]:
    sim = sim or Simulator(SimulatorConfig(seed=7))
    wired = wire(settings, sim, **changes)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url=SIM_BASE
    ) as sim_http:
        app = create_app(wired, store=store, spotify_http=sim_http)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=watch(app), raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url=wired.base_url) as client:
                yield SignInWorld(app, client, sim, sim_http, wired)


@dataclass
class ServedWorld:
    """The app on a real uvicorn (streams and real HTTP), its simulator and settings."""

    app: FastAPI
    url: str  # where uvicorn listens
    sim: Simulator
    settings: Settings


@contextlib.asynccontextmanager
async def served_world(
    settings: Settings, store: Store, sim: Simulator | None = None, **changes: object
) -> AsyncIterator[ServedWorld]:
    sim = sim or Simulator(SimulatorConfig(seed=7))
    wired = wire(settings, sim, **changes)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url=SIM_BASE
    ) as sim_http:
        app = create_app(wired, store=store, spotify_http=sim_http)
        async with running_uvicorn(watch(app)) as url:
            yield ServedWorld(app, url, sim, wired)
