"""The dashboard in a real browser (Debian's Chromium driven by Playwright) against the real app,
the embedded store and a real-time simulator: what a person sees is what the API says."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import anyio
import httpx
import pytest

from echostats.app import create_app
from echostats.demo import demo_environment
from echostats.settings import Settings
from echostats.simulator import Simulator
from echostats.store import Store
from echostats.store.embedded import free_loopback_port
from tests.servers import running_uvicorn

pytestmark = pytest.mark.anyio

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
SAMPLE = (
    Path(__file__).resolve().parents[1]
    / "data"
    / "samples"
    / "extended_Streaming_History_Audio_2023.json"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not Path(CHROMIUM).exists():
    # CI installs Chromium (.ci/run) and sets ECHOSTATS_REQUIRE_BROWSER: missing is a failure there.
    if os.environ.get("ECHOSTATS_REQUIRE_BROWSER"):
        raise RuntimeError("Chromium is required for the dashboard tests but is not installed")
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.async_api import Browser, Page, async_playwright, expect  # noqa: E402


@dataclass
class Dashboard:
    url: str
    sim: Simulator
    page: Page
    browser: Browser
    api: httpx.AsyncClient


@pytest.fixture
async def dashboard(settings: Settings, store: Store) -> AsyncIterator[Dashboard]:
    port = free_loopback_port()
    base = settings.model_copy(
        update={"port": port, "poll_playing_interval": 1.0, "poll_idle_interval": 2.0}
    )
    async with demo_environment(base) as (wired, sim):
        app = create_app(wired, store=store)
        async with running_uvicorn(app, port=port) as url, async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                context = await browser.new_context(viewport={"width": 1280, "height": 900})
                page = await context.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                await page.goto(f"{url}/")
                await page.get_by_role("link", name="Sign in as the demo listener").click()
                await expect(page.get_by_role("heading", name="Overview")).to_be_visible(
                    timeout=15_000
                )
                cookies = {c["name"]: c["value"] for c in await context.cookies()}
                async with httpx.AsyncClient(base_url=url, cookies=cookies, timeout=15) as api:
                    yield Dashboard(url, sim, page, browser, api)
                assert not errors, errors
            finally:
                await browser.close()


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
    await page.get_by_role("button", name="❚❚ Pause").click()
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


async def test_screenshots_of_main_pages(dashboard: Dashboard) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width, height, label in ((1280, 900, "desktop"), (390, 844, "phone")):
        await dashboard.page.set_viewport_size({"width": width, "height": height})
        for name in ("overview", "top", "history", "now", "jobs", "logs", "settings"):
            await dashboard.page.goto(f"{dashboard.url}/#/{name}")
            await expect(dashboard.page.locator("main h1")).to_be_visible()
            await dashboard.page.screenshot(
                path=str(ARTIFACTS / f"{label}-{name}.png"), full_page=True
            )
    assert len(list(ARTIFACTS.glob("*.png"))) >= 14


def _operation(openapi: dict[str, Any], method: str, path: str) -> dict[str, Any] | None:
    """The OpenAPI operation serving ``method path`` (templated segments match anything)."""
    for template, operations in openapi["paths"].items():
        pattern = "^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in operations:
            operation: dict[str, Any] = operations[method.lower()]
            return operation
    return None


async def test_every_page_asks_only_what_the_api_declares(dashboard: Dashboard) -> None:
    """The seam between the pages and the API: every request a page makes goes to a declared
    operation, with only query parameters that operation declares (an undeclared one is
    silently ignored by the API: the compare page once sent a_start/b_start and showed the
    default month as if it were the person's choice), and none is refused."""
    openapi = (await dashboard.api.get("/api/openapi.json")).json()
    requests: list[tuple[str, str]] = []
    failures: list[str] = []
    page = dashboard.page

    def seen(request: Any) -> None:
        url = urlsplit(request.url)
        if url.path.startswith("/api/") and "/stream/" not in url.path:
            requests.append((request.method, request.url))

    async def answered(response: Any) -> None:
        path = urlsplit(response.url).path
        if path.startswith("/api/") and response.status >= 400:
            failures.append(f"{response.status} {response.request.method} {response.url}")

    page.on("request", seen)
    page.on("response", answered)
    top = (await dashboard.api.get("/api/v1/tracks/top", params={"period": "all_time"})).json()
    artists = (await dashboard.api.get("/api/v1/artists/top", params={"period": "all_time"})).json()
    visits = [
        "overview?period=week", "overview?start=2026-01-01&end=2026-01-31", "top?kind=artists",
        "top?kind=albums&period=all_time&page=2", "history?q=a", "now", "playlists", "library",
        "recommendations", "compare", "compare?start=2026-01-01&end=2026-01-31"
        "&compare_start=2025-12-01&compare_end=2025-12-31", "jobs", "logs", "settings",
    ]  # fmt: skip
    visits += [f"track/{item['spotify_id']}" for item in top["items"][:1]]
    visits += [f"artist/{item['spotify_id']}" for item in artists["items"][:1]]
    for visit in visits:
        await page.goto(f"{dashboard.url}/#/{visit}")
        await expect(page.locator("main h1")).to_be_visible()
        await page.wait_for_load_state("networkidle")
    assert len(requests) >= len(visits)
    for method, url in requests:
        parts = urlsplit(url)
        operation = _operation(openapi, method, parts.path)
        assert operation is not None, f"{method} {parts.path} is not an API operation"
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        sent = set(parse_qs(parts.query, keep_blank_values=True))
        assert sent <= declared, f"{method} {url} sends {sorted(sent - declared)}, undeclared"
    assert not failures, failures


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
    value = _card_value(page, "Plays B → A")
    await expect(page.locator(".card", has_text="Plays B → A")).to_be_visible()
    a, b = expected["a"]["plays"], expected["b"]["plays"]
    assert (await value).replace(",", "") == f"{b} → {a}"
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
