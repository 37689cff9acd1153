"""The dashboard in Debian's Chromium (driven by Playwright) against the real app, the embedded
store and a real-time demo simulator, with every request the pages make watched.

Whatever a test does, when it ends the watcher asserts over all the traffic it saw: no console
or page error, no request off the loopback address, no API answer of 400 or more that the test
did not expect, and every query parameter a page sent is one the OpenAPI operation it called
declares (an undeclared one is silently ignored by the API: the compare page once sent
a_start/b_start and showed the default month as if it were the person's choice).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from echostats.app import create_app
from echostats.demo import demo_environment
from echostats.settings import Settings
from echostats.simulator import Simulator
from echostats.store import Store
from echostats.store.embedded import free_loopback_port
from tests.servers import running_uvicorn

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
AXE = Path(__file__).resolve().parents[1] / "data" / "axe-core" / "axe.min.js"
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

from playwright.async_api import (  # noqa: E402
    Browser,
    Page,
    ViewportSize,
    async_playwright,
    expect,
)

DESKTOP = ViewportSize(width=1280, height=900)
PHONE = ViewportSize(width=390, height=844)


def _operation(openapi: dict[str, Any], method: str, path: str) -> dict[str, Any] | None:
    """The OpenAPI operation serving ``method path`` (templated segments match anything)."""
    for template, operations in openapi["paths"].items():
        pattern = "^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in operations:
            operation: dict[str, Any] = operations[method.lower()]
            return operation
    return None


def _on_loopback(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in {"data", "blob", "about"}:
        return True
    host = parts.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Traffic:
    """Everything the pages did, checked when the test ends (``problems``)."""

    requests: list[tuple[str, str]] = field(default_factory=list)
    failures: list[tuple[int, str, str]] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    expected_failures: list[tuple[int, str]] = field(default_factory=list)
    expected_console: list[str] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)  # refused by the page's CSP: never sent

    def expect_failure(self, status: int, path_pattern: str) -> None:
        """An API answer the test provokes on purpose (a bad parameter, say)."""
        self.expected_failures.append((status, path_pattern))

    def expect_console_error(self, pattern: str) -> None:
        """A console error a third-party page is known to log (and why is said where called)."""
        self.expected_console.append(pattern)

    def watch(self, page: Page) -> None:
        page.on("request", lambda r: self.requests.append((r.method, r.url)))
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))

        def console(message: Any) -> None:
            # A failed fetch is logged by Chromium too; API failures are judged below instead.
            if message.type == "error" and "Failed to load resource" not in message.text:
                self.console_errors.append(message.text)

        def answered(response: Any) -> None:
            if response.status >= 400:
                self.failures.append((response.status, response.request.method, response.url))

        def failed(request: Any) -> None:
            if (request.failure or "").lower() in {"csp", "net::err_blocked_by_csp"}:
                self.blocked.add(request.url)

        page.on("console", console)
        page.on("response", answered)
        page.on("requestfailed", failed)

    def problems(self, openapi: dict[str, Any]) -> list[str]:
        found = [
            f"console error: {e}"
            for e in self.console_errors
            if not any(re.search(p, e) for p in self.expected_console)
        ]
        found += [f"page error: {e}" for e in self.page_errors]
        found += [
            f"off loopback: {m} {u}"
            for m, u in self.requests
            if not _on_loopback(u) and u not in self.blocked
        ]
        for status, method, url in self.failures:
            path = urlsplit(url).path
            if not any(s == status and re.search(p, path) for s, p in self.expected_failures):
                found.append(f"{status} answer to {method} {url}")
        for method, url in self.requests:
            parts = urlsplit(url)
            if not parts.path.startswith("/api/") or parts.path.startswith("/api-docs-assets"):
                continue
            operation = _operation(openapi, method, parts.path)
            if operation is None:
                if parts.path not in {"/api/docs", "/api/redoc", "/api/openapi.json"}:
                    found.append(f"{method} {parts.path} is not an API operation")
                continue
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            sent = set(parse_qs(parts.query, keep_blank_values=True))
            if not sent <= declared:
                found.append(f"{method} {url} sends {sorted(sent - declared)}, undeclared")
        return found


@dataclass
class Dashboard:
    url: str
    sim: Simulator
    page: Page
    browser: Browser
    api: httpx.AsyncClient
    traffic: Traffic
    app: Any

    async def visit(self, hash_path: str) -> None:
        """Open a page and wait until its heading is shown and nothing is loading."""
        await self.page.goto(f"{self.url}/#/{hash_path}")
        await expect(self.page.locator("main h1").first).to_be_visible(timeout=30_000)
        await expect(self.page.locator("main [aria-busy=true]")).to_have_count(0, timeout=30_000)

    async def axe_violations(self) -> list[str]:
        """Serious and critical accessibility violations axe-core finds on the page."""
        if not await self.page.evaluate("typeof window.axe !== 'undefined'"):
            # Through the DevTools protocol: the page's CSP (no inline scripts) stays on.
            await self.page.evaluate(AXE.read_text())
        result = await self.page.evaluate(
            "axe.run(document, {resultTypes: ['violations']})"
            ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))"
        )
        return [
            f"{v['impact']}: {v['id']} ({v['help']}) at {v['nodes']}"
            for v in result
            if v["impact"] in {"serious", "critical"}
        ]

    async def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@contextlib.asynccontextmanager
async def open_dashboard(settings: Settings, store: Store) -> AsyncIterator[Dashboard]:
    port = free_loopback_port()
    base = settings.model_copy(
        update={"port": port, "poll_playing_interval": 1.0, "poll_idle_interval": 2.0}
    )
    async with demo_environment(base) as (wired, sim):
        app = create_app(wired, store=store)
        async with running_uvicorn(app, port=port) as url, async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                context = await browser.new_context(viewport=DESKTOP)
                page = await context.new_page()
                traffic = Traffic()
                traffic.watch(page)
                await page.goto(f"{url}/")
                await page.get_by_role("link", name="Sign in as the demo listener").click()
                await expect(page.get_by_role("heading", name="Overview")).to_be_visible(
                    timeout=15_000
                )
                cookies = {c["name"]: c["value"] for c in await context.cookies()}
                async with httpx.AsyncClient(base_url=url, cookies=cookies, timeout=30) as api:
                    yield Dashboard(url, sim, page, browser, api, traffic, app)
                    openapi = (await api.get("/api/openapi.json")).json()
                problems = traffic.problems(openapi)
                assert not problems, "\n".join(problems)
            finally:
                await browser.close()


async def import_sample(dashboard: Dashboard) -> dict[str, Any]:
    """The sample export imported through the API; its finished job."""
    with SAMPLE.open("rb") as handle:
        answer = await dashboard.api.post(
            "/api/v1/history/import", files={"file": (SAMPLE.name, handle, "application/json")}
        )
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["job_id"]
    for _ in range(300):
        job = (await dashboard.api.get(f"/api/v1/sync-jobs/{job_id}")).json()
        if job["status"] not in {"pending", "running"}:
            assert job["status"] == "completed", job
            return dict(job)
        await dashboard.page.wait_for_timeout(100)
    raise AssertionError("the sample import did not finish")
