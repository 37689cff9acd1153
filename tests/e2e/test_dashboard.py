"""The dashboard in a real browser (Debian's Chromium driven by Playwright) against the real app,
the embedded store and a real-time simulator: what a person sees is what the API says. Every
test's traffic is checked by ``tests.e2e.browser`` (console errors, requests off loopback,
undeclared query parameters, unexpected API failures)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import anyio
import pytest
from playwright.async_api import Page, expect

from echostats.settings import Settings
from echostats.store import Store
from tests.e2e.browser import ARTIFACTS, SAMPLE, Dashboard, open_dashboard

pytestmark = pytest.mark.anyio


@pytest.fixture
async def dashboard(settings: Settings, store: Store) -> AsyncIterator[Dashboard]:
    async with open_dashboard(settings, store) as dashboard:
        yield dashboard


async def _card_value(page: Page, label: str) -> str:
    card = page.locator(".card", has=page.locator(".card-label", has_text=label))
    return (await card.locator(".card-value").inner_text()).strip()


async def test_overview_shows_what_the_api_returns(dashboard: Dashboard) -> None:
    page = dashboard.page
    await page.goto(f"{dashboard.url}/#/overview?period=week")
    await expect(page.locator(".card").first).to_be_visible()
    overview = (
        await dashboard.api.get("/api/v1/analytics/overview", params={"period": "week"})
    ).json()
    plays = await _card_value(page, "Plays")
    assert plays.replace(",", "") == str(overview["total_tracks_played"])
    first_artist = overview["top_artists"][0]["name"] if overview["top_artists"] else None
    if first_artist:
        await expect(page.locator(".top-list").first).to_contain_text(first_artist)


async def test_now_playing_updates_live_without_reload(dashboard: Dashboard) -> None:
    page = dashboard.page
    await page.goto(f"{dashboard.url}/#/now")
    await expect(page.get_by_role("heading", name="Now playing")).to_be_visible()
    track_id = sorted(dashboard.sim.catalog.tracks)[3]
    track = dashboard.sim.catalog.tracks[track_id]
    dashboard.sim.stop_autoplay("demo")
    dashboard.sim.listen("demo", [track_id])
    await expect(page.locator(".track-name")).to_have_text(track.name, timeout=10_000)


async def test_player_control_click_changes_the_simulator(dashboard: Dashboard) -> None:
    page = dashboard.page
    dashboard.sim.stop_autoplay("demo")
    dashboard.sim.listen("demo", [sorted(dashboard.sim.catalog.tracks)[5]])
    await page.goto(f"{dashboard.url}/#/now")
    await page.get_by_role("button", name="Pause", exact=True).click()
    with anyio.fail_after(10):
        while (await dashboard.api.get("/api/v1/player/current")).json().get("is_playing"):
            await anyio.sleep(0.1)


async def test_import_through_the_page_reports_and_updates_overview(dashboard: Dashboard) -> None:
    page = dashboard.page
    before = (
        await dashboard.api.get("/api/v1/analytics/overview", params={"period": "all_time"})
    ).json()
    await page.goto(f"{dashboard.url}/#/history")
    await page.locator("#import-files").set_input_files(str(SAMPLE))
    report = page.locator(".report")
    await expect(report).to_contain_text("Import finished", timeout=20_000)
    after = (
        await dashboard.api.get("/api/v1/analytics/overview", params={"period": "all_time"})
    ).json()
    assert after["total_tracks_played"] > before["total_tracks_played"]
    await page.goto(f"{dashboard.url}/#/overview?period=all_time")
    await expect(page.locator(".card", has_text="Plays").locator(".card-value")).to_have_text(
        f"{after['total_tracks_played']:,}"
    )


async def test_compare_shows_the_ranges_the_person_picked(dashboard: Dashboard) -> None:
    """The page's figures are the API's answer for the chosen ranges, not the default month."""
    page = dashboard.page
    chosen = {
        "start": (datetime.now(UTC) - timedelta(days=3)).date().isoformat(),
        "end": datetime.now(UTC).date().isoformat(),
        "compare_start": (datetime.now(UTC) - timedelta(days=40)).date().isoformat(),
        "compare_end": (datetime.now(UTC) - timedelta(days=4)).date().isoformat(),
    }
    expected = (await dashboard.api.get("/api/v1/analytics/compare", params=chosen)).json()
    default = (await dashboard.api.get("/api/v1/analytics/compare")).json()
    assert expected["range_a"] != default["range_a"]
    await page.goto(f"{dashboard.url}/#/compare?{urlencode(chosen)}")
    plays = page.locator(".compare-totals tr", has=page.get_by_role("rowheader", name="Plays"))
    await expect(plays).to_be_visible()
    a, b = expected["a"]["plays"], expected["b"]["plays"]
    cells = [c.replace(",", "") for c in await plays.locator("td").all_inner_texts()]
    assert cells[:2] == [str(a), str(b)]
    # The change reads "A against B", with the sign of A minus B.
    minus = "\N{MINUS SIGN}"
    assert cells[2].startswith(("+" if a > b else minus if a < b else "±") + str(abs(a - b)))
    await expect(page.locator("input[name=compare_start]")).to_have_value(chosen["compare_start"])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "desktop-compare.png"), full_page=True)


async def test_api_logs_show_the_success_rate_the_api_gives(dashboard: Dashboard) -> None:
    """The API gives the rate in percent; the page once multiplied it by 100 ("9940 %")."""
    stats = (await dashboard.api.get("/api/v1/api-logs/stats")).json()
    await dashboard.page.goto(f"{dashboard.url}/#/logs")
    await expect(dashboard.page.locator(".card", has_text="Success rate")).to_be_visible()
    shown = await _card_value(dashboard.page, "Success rate")
    assert shown == f"{round(stats['success_rate'], 1):g} %"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await dashboard.page.screenshot(path=str(ARTIFACTS / "desktop-logs-rate.png"))
