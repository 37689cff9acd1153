"""The whole sign-in over real HTTP: app and simulator on real servers, a cookie-keeping client."""

from __future__ import annotations

import httpx
import pytest

from echostats.app import create_app
from echostats.demo import demo_environment
from echostats.settings import Settings
from echostats.store import Store
from echostats.store.embedded import free_loopback_port
from tests.servers import running_uvicorn

pytestmark = pytest.mark.anyio


async def test_login_consent_callback_cookie_status(settings: Settings, store: Store) -> None:
    port = free_loopback_port()
    async with demo_environment(settings.model_copy(update={"port": port})) as (wired, sim):
        app = create_app(wired, store=store)
        async with running_uvicorn(app, port=port) as url:
            assert url == wired.base_url
            async with httpx.AsyncClient(base_url=url, follow_redirects=True) as browser:
                page = await browser.get("/api/v1/auth/login", headers={"Accept": "text/html"})
                hops = [str(r.url).split("?")[0] for r in page.history]
                assert hops == [
                    f"{url}/api/v1/auth/login",
                    f"{wired.spotify_accounts_url}/authorize",
                    f"{url}/api/v1/auth/callback",
                ]
                assert page.url.path == "/"  # the dashboard
                assert "EchoStats" in page.text
                assert browser.cookies.get("session")
                status = (await browser.get("/api/v1/auth/status")).json()
                assert status["authenticated"] is True
                assert status["user"]["display_name"] == sim.users["demo"].display_name
                out = await browser.post("/api/v1/auth/logout", headers={"Origin": url})
                assert out.status_code == 200
                assert (await browser.get("/api/v1/me")).status_code == 401
