"""Every page of the dashboard as a listener meets it, in Chromium, at desktop and phone size,
on a demo installation with a month of imported history (as ``make demo`` gives, shorter).

Each test's traffic is checked by ``tests.e2e.browser`` when it ends: no console error, no
request off loopback, no undeclared query parameter, no unexpected API failure. Screenshots of
every page land in ``tests/artifacts/screenshots``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import anyio
import pytest
from playwright.async_api import expect

from echostats.settings import Settings
from echostats.store import Store
from tests.e2e.browser import DESKTOP, PHONE, SAMPLE, Dashboard, open_dashboard

pytestmark = pytest.mark.anyio

HISTORY_DAYS = 30
# What sticks out past the screen's right edge, not clipped by a scrolling box (a diagnosis).
WIDER_THAN_SCREEN = """[...document.querySelectorAll('body *')].filter(e => {
  if (e.getBoundingClientRect().right <= window.innerWidth + 1) return false;
  for (let a = e.parentElement; a; a = a.parentElement) {
    if (['hidden', 'auto', 'scroll'].includes(getComputedStyle(a).overflowX)) return false;
  }
  return true;
}).slice(0, 5).map(e => `${e.tagName}.${e.className}: ${e.textContent.slice(0, 60)}`)"""


@pytest.fixture
async def dashboard(settings: Settings, store: Store) -> AsyncIterator[Dashboard]:
    with_history = settings.model_copy(update={"demo_history_days": HISTORY_DAYS})
    async with open_dashboard(with_history, store) as dashboard:
        await _history_imported(dashboard)
        yield dashboard


async def _history_imported(dashboard: Dashboard) -> dict[str, Any]:
    """The demo sign-in imports the listener's past; its job once finished."""
    with anyio.fail_after(120):
        while True:
            jobs = await dashboard.api.get("/api/v1/sync-jobs", params={"job_type": "import"})
            items = jobs.json()["items"]
            if items and items[0]["status"] not in {"pending", "running"}:
                assert items[0]["status"] == "completed", items[0]
                return dict(items[0])
            await anyio.sleep(0.2)


async def _first_id(dashboard: Dashboard, kind: str) -> str:
    top = await dashboard.api.get(f"/api/v1/{kind}/top", params={"period": "all_time"})
    return str(top.json()["items"][0]["spotify_id"])


async def _all_pages(dashboard: Dashboard) -> dict[str, str]:
    """Screenshot name → page, every page of the dashboard with real ids."""
    job = await _history_imported(dashboard)
    playlists = (await dashboard.api.get("/api/v1/playlists")).json()["items"]
    owned = next(p for p in playlists if p["with_items"])
    year = datetime.now(UTC).year
    return {
        "overview": "overview", "overview-minutes": "overview?period=all_time&metric=minutes",
        "top": "top?kind=artists&period=all_time", "history": "history",
        "now": "now", "year": f"year?year={year}", "compare": "compare?start="
        f"{year}-12-01&end={year}-12-31&compare_start={year}-11-01&compare_end={year}-11-30",
        "recommendations": "recommendations", "playlists": "playlists",
        "playlist": f"playlists/{quote(owned['id'])}", "library": "library", "jobs": "jobs",
        "job": f"jobs/{job['id']}", "logs": "logs", "settings": "settings",
        "track": f"track/{quote(await _first_id(dashboard, 'tracks'))}",
        "artist": f"artist/{quote(await _first_id(dashboard, 'artists'))}",
        "album": f"album/{quote(await _first_id(dashboard, 'albums'))}",
    }  # fmt: skip


async def test_every_page_at_desktop_and_phone_size(dashboard: Dashboard) -> None:
    """Each page shows its content with no error, passes the axe scan (no serious or critical
    violation), shows every picture it asks for (or a placeholder), and at 390 px fits the
    screen's width."""
    page = dashboard.page
    pages = await _all_pages(dashboard)
    for size, label in ((DESKTOP, "desktop"), (PHONE, "phone")):
        await page.set_viewport_size(size)
        for name, path in pages.items():
            await dashboard.visit(path)
            await expect(page.locator("main [role=alert]")).to_have_count(0)
            assert await page.locator("main").inner_text() != ""
            violations = await dashboard.axe_violations()
            assert not violations, (name, label, violations)
            broken = await page.evaluate(
                "[...document.querySelectorAll('img')].filter(i => i.complete && i.naturalWidth"
                " === 0 && i.loading !== 'lazy').map(i => i.src)"
            )
            assert not broken, (name, broken)
            overflow = await page.evaluate(
                "document.scrollingElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 0, (name, label, overflow, await page.evaluate(WIDER_THAN_SCREEN))
            await dashboard.screenshot(f"{label}-{name}")
    # The API documentation too: served by the app, it draws without the internet.
    await page.set_viewport_size(DESKTOP)
    await page.goto(f"{dashboard.url}/api/docs")
    await expect(page.locator(".swagger-ui .info .title")).to_contain_text("EchoStats")
    await dashboard.screenshot("desktop-api-docs")
    # ReDoc's footer asks Redocly's CDN for a logo; the docs' CSP refuses it before any request
    # leaves (the browser says so in the console) and ReDoc hides the image.
    dashboard.traffic.expect_console_error(r"image 'https://cdn\.redoc\.ly/[^']*' violates")
    await page.goto(f"{dashboard.url}/api/redoc")
    await expect(page.get_by_role("heading", name="EchoStats").first).to_be_visible(timeout=30_000)
    await dashboard.screenshot("desktop-api-redoc")


async def test_every_entity_shown_links_to_its_page(dashboard: Dashboard) -> None:
    """Tracks, artists and albums in lists, history, now playing and compare are links, and the
    pages they lead to show the entity."""
    page = dashboard.page
    year = datetime.now(UTC).year
    seen: dict[str, set[str]] = {"track": set(), "artist": set(), "album": set()}
    paths = [
        "overview?period=all_time", "history", "top?kind=albums&period=all_time",
        f"year?year={year}", "now", f"compare?start={year}-01-01&end={year}-12-31",
    ]  # fmt: skip
    for path in paths:
        await dashboard.visit(path)
        if path == "now":
            await expect(page.locator(".track-name a")).to_be_visible(timeout=15_000)
        # Every entry of every list names its entity through a link.
        unlinked = await page.evaluate(
            "[...document.querySelectorAll('main .top-list li .title')]"
            ".filter(t => !t.querySelector('a')).length"
        )
        assert unlinked == 0, path
        for href in await page.eval_on_selector_all(
            "main a[href^='#/']", "links => links.map(a => a.getAttribute('href'))"
        ):
            kind = href[2:].split("/")[0]
            if kind in seen:
                seen[kind].add(href)
    rows = page.locator("table.history tbody tr")
    for kind, hrefs in seen.items():
        assert len(hrefs) >= 3, (kind, hrefs)
        for href in sorted(hrefs)[:3]:
            await dashboard.visit(href[2:])
            await expect(page.locator("main [role=alert]")).to_have_count(0)
            await expect(page.get_by_text("You have not played")).to_have_count(0)
            await expect(page.locator("main .card").first).to_be_visible()
    # An artist's page leads to every play of that artist.
    artist = (await dashboard.api.get("/api/v1/artists/top", params={"period": "all_time"})).json()
    top = artist["items"][0]
    await dashboard.visit(f"artist/{quote(top['spotify_id'])}")
    await page.get_by_role("link", name="Every play of this artist").click()
    await expect(page.get_by_role("heading", name="History")).to_be_visible()
    await expect(rows.first).to_contain_text(top["name"])
    for text in await rows.all_inner_texts():
        assert top["name"] in text


async def test_numbers_on_the_pages_equal_a_brute_force_count(
    dashboard: Dashboard, store: Store
) -> None:
    """The year page, the overview and the history total against the stored plays counted one
    by one (the demo listener's zone is UTC)."""
    page = dashboard.page
    user = (await dashboard.api.get("/api/v1/me")).json()
    assert user["time_zone"] == "UTC"
    plays = await store["plays"].find({"user_id": user["id"]}).to_list()
    counted = [p for p in plays if p["counted"]]
    year = datetime.now(UTC).year
    in_year = [p for p in counted if p["started_at"].year == year]

    async def card(label: str) -> str:
        value = page.locator(".card", has=page.locator(".card-label", has_text=label))
        return (await value.locator(".card-value").inner_text()).replace(",", "").strip()

    await dashboard.visit(f"year?year={year}")
    assert await card("Plays") == str(len(in_year))
    assert await card("Minutes listened") == str(sum(p["ms_played"] for p in in_year) // 60_000)
    await dashboard.visit("overview?period=all_time")
    assert await card("Plays") == str(len(counted))
    await dashboard.visit("history")
    summary = page.locator(".history-total")
    await expect(summary).to_contain_text(f"{len(plays):,} plays")
    if len(counted) < len(plays):
        # Why the history's total is not the overview's: the short plays are listed, not counted.
        await expect(summary).to_contain_text(
            f"{len(counted):,} count in your statistics; "
            f"the other {len(plays) - len(counted):,} were shorter than 30 seconds or private"
        )
    # Minutes instead of plays: the top artist's listened minutes, as the API sums them.
    top = (await dashboard.api.get("/api/v1/artists/top", params={"period": "all_time"})).json()
    await dashboard.visit("overview?period=all_time&metric=minutes")
    first = page.locator(".top-list").first.locator("li .stat > span").first
    await expect(first).to_have_text(f"{round(top['items'][0]['total_ms'] / 60_000):,} min")
    # The share image draws without a browser, and loads on the page.
    image = await dashboard.api.get("/api/v1/analytics/year-in-review.svg", params={"year": year})
    assert image.headers["content-type"].startswith("image/svg+xml")
    await dashboard.visit(f"year?year={year}")
    card_image = page.locator("img.share-card")
    await card_image.scroll_into_view_if_needed()
    await expect(card_image).to_have_js_property("naturalWidth", 1200)


async def test_keyboard_reaches_every_page_and_every_chart_value(dashboard: Dashboard) -> None:
    page = dashboard.page

    async def tab_to(predicate: str, key: str = "Tab") -> None:
        for _ in range(80):
            await page.keyboard.press(key)
            if await page.evaluate(f"(e => {predicate})(document.activeElement)"):
                return
        raise AssertionError(f"{key} never reached {predicate}")

    await dashboard.visit("overview?period=all_time")
    # A page opens with the focus on its content: the menu is behind it, the skip link first.
    assert await page.evaluate("document.activeElement.id") == "main"
    await tab_to("e.textContent === 'Top lists'", "Shift+Tab")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Top lists")).to_be_visible()
    await tab_to("e.textContent === 'Skip to content'", "Shift+Tab")
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "main"
    await expect(page.get_by_role("heading", name="Top lists")).to_be_visible()

    await dashboard.visit("overview?period=all_time")
    await tab_to("e.classList.contains('chart-box')")
    await page.keyboard.press("ArrowRight")
    tip = page.locator(".chart-box:focus .chart-tip")
    await expect(tip).to_be_visible()
    await expect(tip).to_contain_text("plays")
    first = await tip.inner_text()
    await page.keyboard.press("ArrowRight")
    await expect(tip).not_to_have_text(first)


async def test_history_follows_deletes_and_new_plays_in_place(dashboard: Dashboard) -> None:
    """Deleting a play lowers the total at once; a play recorded while the page is open
    redraws the list where it stands: the import report stays and the browser's history gains
    no entry."""
    page = dashboard.page
    await dashboard.visit("history")
    summary = page.locator(".history-total")
    await expect(summary).to_contain_text("count in your statistics")
    before = int((await summary.inner_text()).split(" plays")[0].replace(",", ""))

    async def confirm(dialog: Any) -> None:
        await dialog.accept()

    page.once("dialog", confirm)
    await page.locator("table.history tbody tr").first.get_by_role("button").click()
    await expect(summary).to_contain_text(f"{before - 1:,} plays")

    await page.locator("#import-files").set_input_files(str(SAMPLE))
    report = page.locator(".report")
    await expect(report).to_contain_text("Import finished", timeout=30_000)
    entries = await page.evaluate("window.history.length")
    sim = dashboard.sim
    sim.stop_autoplay("demo")
    track_id = sorted(sim.catalog.tracks)[7]
    track = sim.catalog.tracks[track_id]
    sim.listen("demo", [track_id], position_ms=track.duration_ms - 2_000)
    first = page.locator("table.history tbody tr").first
    await expect(first).to_contain_text(track.name, timeout=30_000)
    await expect(report).to_contain_text("Import finished")
    assert await page.evaluate("window.history.length") == entries
    assert "refreshed" not in page.url


async def test_now_playing_greets_with_music_and_keeps_time(dashboard: Dashboard) -> None:
    """The demo listener is playing when the page opens (no track change needed), the mini
    player says so too, the clock runs between samples, Up next starts after the current
    track, and Play works on the device picked."""
    page = dashboard.page
    await dashboard.visit("now")
    name = page.locator(".track-name")
    await expect(name).to_be_visible(timeout=15_000)
    await expect(page.locator("#now-mini")).to_contain_text(await name.inner_text())
    clock = page.locator(".progress-time")
    first = await clock.inner_text()
    await expect(clock).not_to_have_text(first, timeout=5_000)
    current = (await dashboard.api.get("/api/v1/player/current")).json()
    queue = page.locator("main ol li .title > a")
    if await queue.count():
        assert await queue.first.inner_text() != current["track"]["name"]
    for label in ("Previous", "Play", "Pause", "Next"):
        button = page.get_by_role("button", name=label, exact=True)
        await expect(button.locator("svg")).to_have_count(1)
    await page.get_by_role("button", name="Pause", exact=True).click()
    await expect(page.locator(".now-card")).to_contain_text("Paused", timeout=10_000)
    devices = page.locator("#device option")
    assert await devices.count() >= 1
    await page.locator("#device").select_option(index=await devices.count() - 1)
    await page.get_by_role("button", name="Play", exact=True).click()
    await expect(page.locator(".now-card")).to_contain_text("Playing", timeout=10_000)


async def test_the_status_strip_shows_jobs_and_renewals_on_every_page(
    dashboard: Dashboard,
) -> None:
    page = dashboard.page
    user_id = (await dashboard.api.get("/api/v1/me")).json()["id"]
    await dashboard.app.state.auth.tokens.mark_reauth_required(user_id, "revoked in a test")
    await page.goto(f"{dashboard.url}/#/top")
    await page.reload()
    banner = page.locator("#status-bar .banner")
    await expect(banner).to_contain_text("Spotify no longer accepts")
    await banner.get_by_role("link", name="Connect Spotify again").click()
    await expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    await expect(banner).to_have_count(0)

    await dashboard.visit("settings")
    with SAMPLE.open("rb") as handle:
        started = await dashboard.api.post(
            "/api/v1/history/import",
            files={"file": (SAMPLE.name, handle, "application/json")},
            params={"dry_run": "true"},
        )
    job_id = started.json()["job_id"]
    live = page.locator(f"#status-bar a[href='#/jobs/{job_id}']")
    finished = (await dashboard.api.get(f"/api/v1/sync-jobs/{job_id}")).json()["status"]
    if finished in {"pending", "running"}:
        await expect(live).to_contain_text("Importing your history")
    await dashboard.visit(f"jobs/{job_id}")
    await expect(page.locator("main")).to_contain_text("checked (dry run)", timeout=30_000)
    await expect(page.locator("main")).to_contain_text("would be stored")


async def test_sessions_settings_and_bad_addresses_end_well(dashboard: Dashboard) -> None:
    page = dashboard.page
    me = (await dashboard.api.get("/api/v1/me")).json()
    await dashboard.visit("settings")
    await expect(page.locator("#tz")).to_have_value(me["time_zone"])

    dashboard.traffic.expect_failure(422, "/api/v1/analytics/overview$")
    await dashboard.visit("overview?period=decade")
    alert = page.locator("main [role=alert]")
    await expect(alert).to_be_visible()
    await alert.get_by_role("link").click()
    await expect(page.locator(".card").first).to_be_visible()

    # Another device signs everyone out: the next page says so and leads back in.
    dashboard.traffic.expect_failure(401, "^/api/")
    await dashboard.visit("overview")
    await dashboard.api.post("/api/v1/auth/logout")
    await page.get_by_role("link", name="Top lists").click()
    ended = page.get_by_role("link", name="Sign in again")
    await expect(ended).to_be_visible()
    await ended.click()  # single-user auto-login on loopback signs this browser in again
    await expect(page.get_by_role("heading", name="Overview")).to_be_visible()

    # "Sign out everywhere" on this page: the browser stays signed out, on a centred card.
    await dashboard.visit("settings")
    await page.get_by_role("button", name="Sign out everywhere").click()
    heading = page.get_by_role("heading", name="Your listening, all of it")
    await expect(heading).to_be_visible()
    await page.reload()
    await expect(heading).to_be_visible()
    card = await page.locator(".signin").bounding_box()
    assert card is not None
    width = (page.viewport_size or DESKTOP)["width"]
    assert abs((card["x"] + card["width"] / 2) - width / 2) < 40  # centred, not squeezed left


async def test_recommendations_read_as_sentences_with_room_for_titles(
    dashboard: Dashboard,
) -> None:
    """Each suggestion shows the API's sentence (never a reason code) beside a title with room
    to be read; a seed type with nothing to offer says why, in the API's words."""
    page = dashboard.page
    answer = (await dashboard.api.get("/api/v1/recommendations", params={"limit": 30})).json()
    await dashboard.visit("recommendations")
    items = page.locator("ol.suggestions li")
    await expect(items).to_have_count(len(answer["items"]))
    first = answer["items"][0]
    await expect(items.first.locator(".reason")).to_have_text(first["detail"])
    codes = {i["reason"] for i in answer["items"] if "_" in i["reason"]}  # co_listened, ...
    for code in codes:
        await expect(page.locator("main")).not_to_contain_text(code)
    box = await items.first.locator(".title").bounding_box()
    assert box is not None
    assert box["width"] > 200, box  # once squeezed into ~40 px ("St… & Co…")
    genres = (
        await dashboard.api.get("/api/v1/recommendations", params={"seed_type": "genres"})
    ).json()
    await dashboard.visit("recommendations?seed_type=genres")
    for note in genres["notes"]:
        await expect(page.locator("main")).to_contain_text(note)
    await expect(page.locator("main")).not_to_contain_text("Listen a little more")


async def test_an_artist_listed_twice_is_merged_and_split_again_on_its_page(
    dashboard: Dashboard,
) -> None:
    page = dashboard.page
    today = datetime.now(UTC).date()
    # A closed range in the past: the demo listener's live plays do not move its figures.
    past = {"start": str(today - timedelta(days=40)), "end": str(today - timedelta(days=2))}

    async def artists() -> dict[str, tuple[str, int]]:
        top = await dashboard.api.get("/api/v1/artists/top", params={**past, "limit": "100"})
        return {a["spotify_id"]: (a["name"], a["play_count"]) for a in top.json()["items"]}

    before = await artists()
    (target, (target_name, target_plays)), (source, (source_name, source_plays)) = list(
        before.items()
    )[:2]
    await dashboard.visit(f"artist/{quote(target)}")
    await page.get_by_label("Find another artist").fill(source_name)
    await page.get_by_role("button", name="Find", exact=True).click()
    found = page.locator(".merge-found li", has=page.get_by_role("link", name=source_name))
    await found.get_by_role("button", name=f"Merge into “{target_name}”").click()
    undo = page.get_by_role("button", name=f"Undo: split “{source_name}” off again")
    await expect(undo).to_be_visible()
    await dashboard.screenshot("artist-merged")

    merged = await artists()
    assert source not in merged
    # A play of a track crediting both counted for each; merged, it counts once.
    assert target_plays < merged[target][1] <= target_plays + source_plays
    shown = await page.locator(".card", has_text="Plays").locator(".card-value").inner_text()
    stats = (await dashboard.api.get(f"/api/v1/artists/{quote(target)}")).json()["stats"]
    assert shown.replace(",", "") == str(stats["plays"])
    # The old id leads to the artist it became; Settings lists the merge.
    await dashboard.visit(f"artist/{quote(source)}")
    await expect(page.get_by_role("heading", name=target_name, exact=True)).to_be_visible()
    await dashboard.visit("settings")
    await expect(page.locator(".merges")).to_contain_text(f"Artist “{source_name}” into")

    await dashboard.visit(f"artist/{quote(target)}")
    await page.get_by_role("button", name=f"Undo: split “{source_name}” off again").click()
    await expect(page.get_by_label("Find another artist")).to_be_visible()
    await expect(undo).to_have_count(0)
    assert await artists() == before
