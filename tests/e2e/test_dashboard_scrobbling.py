"""Settings → Scrobbling in a real browser: a token made on the page works with the ListenBrainz
API, revoking it on the page stops it at once; the relay is set and stopped from the page."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests import leaks
from tests.e2e.browser import Dashboard
from tests.e2e.test_dashboard import dashboard

pytestmark = pytest.mark.anyio
__all__ = ["dashboard"]  # the signed-in browser, shared with the other dashboard tests


async def test_tokens_and_relay_are_managed_on_the_settings_page(dashboard: Dashboard) -> None:
    page = dashboard.page
    await page.goto(f"{dashboard.url}/#/settings")
    await expect(page.get_by_role("heading", name="Scrobbling")).to_be_visible()
    me = (await dashboard.api.get("/api/v1/me")).json()
    await expect(page.locator(".scrobbling")).to_contain_text(me["id"])
    await page.get_by_label("New token for").fill("Navidrome")
    await page.get_by_role("button", name="Create token").click()
    secret = (await page.locator("code.secret").inner_text()).strip()
    leaks.SECRETS.add(secret)
    auth = {"Authorization": f"Token {secret}"}
    valid = (await dashboard.api.get("/1/validate-token", headers=auth)).json()
    assert (valid["valid"], valid["user_name"]) == (True, me["id"])
    row = page.locator(".scrobbling tr", has_text="Navidrome")
    await expect(row).to_be_visible()
    await row.get_by_role("button", name="Revoke").click()
    await expect(row).to_have_count(0)
    assert (await dashboard.api.get("/1/validate-token", headers=auth)).json()["valid"] is False

    await page.get_by_label("Server").fill("http://127.0.0.1:9/apis/listenbrainz")
    await page.get_by_label("Your token there").fill("00000000-0000-4000-8000-000000000000")
    await page.get_by_role("button", name="Relay my plays").click()
    status = page.locator(".relay-status")
    await expect(status).to_contain_text("Relaying to http://127.0.0.1:9/apis/listenbrainz/1")
    assert (await dashboard.api.get("/api/v1/relay")).json()["configured"] is True
    await page.get_by_role("button", name="Stop relaying").click()
    await expect(status).to_have_text("Your plays are not relayed anywhere.")
