"""Time to first meaningful paint of the dashboard overview, and the bytes it transfers, with
N plays stored (default 1,000,000), in headless Chromium.

Seeds one user on a private embedded server the way ``bench.analytics_bench`` does (plays in
bulk, rollups built with the aggregator's domain code), serves the real app with uvicorn on
127.0.0.1, signs the browser in with a session cookie from the app's own signer, and opens
``/#/overview?period=P`` in Debian's Chromium driven by Playwright. Loopback only, bounded.

Measured in the page (Performance API, ``performance.now()`` origin = navigation start):

- FCP: the ``first-contentful-paint`` paint entry (the shell's "Loading…" line).
- FMP, defined as: the frame in which the overview's headline numbers (first ``.card-value``)
  AND its top lists (first ``.top-list li``) are painted with data from the API. An init script
  marks those elements with ``elementtiming`` as soon as they are inserted, so Chromium's
  Element Timing API reports their ``renderTime``; FMP is the later of the two.
- LCP: the last ``largest-contentful-paint`` candidate, for reference.
- All drawn: no section of the overview is still waiting for its request (``aria-busy``).
- Bytes: the navigation entry plus every Resource Timing entry (``transferSize`` = headers +
  body on the wire, ``encodedBodySize`` = body), split into HTML / JS / CSS / API JSON. The two
  Server-Sent Event streams the page keeps open never finish, so they have no entry and are
  listed separately (they carry no data here: no user is listening).
- Server time of every API request, measured by a pass-through ASGI wrapper around the app
  (request in → last body byte out).

"Cold" = a fresh browser context (empty HTTP cache, new connection) on the first navigation;
"warm" = ``page.reload()`` right after in the same context. The app process and the database
stay up between runs, so only run 1 of each period sees cold database caches.

Seeding 1,000,000 plays takes ~10 minutes on 2 cores: pass ``--data-dir`` to keep the seeded
database and reuse it (seeding happens only when the directory holds no finished seed).

    PYTHONPATH=. .venv/bin/python -m bench.dashboard_paint [--plays N] [--data-dir DIR]
        [--runs 5] [--periods month,all_time]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
from playwright.async_api import Browser, BrowserContext, Page, async_playwright
from pymongo import AsyncMongoClient
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bench.analytics_bench import ZONE, seed
from bench.common import bench_settings, machine
from echostats.app import create_app
from echostats.store.database import Store, make_client
from echostats.store.embedded import running_embedded_server
from echostats.store.users import Profile, Users
from tests.servers import running_uvicorn

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [  # as tests/e2e/browser.py launches it
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MARKER = "seeded.json"
PAGE_TIMEOUT_MS = 180_000  # one page load at 1M all-time must not take longer than this

# Runs before the dashboard's own scripts on every navigation (reloads included).
PROBE = """
(() => {
  const marks = {};
  const elements = {};
  window.__paint = { marks, elements };
  const watch = [
    ["headline", ".page-overview .cards .card-value"],
    ["toplist", ".page-overview .top-list li .title"],
  ];
  const mark = () => {
    for (const [name, selector] of watch) {
      if (marks[name] !== undefined) continue;
      const el = document.querySelector(selector);
      if (!el) continue;
      el.setAttribute("elementtiming", name);  // set before the frame that paints it
      marks[name] = performance.now();
    }
    const view = document.querySelector(".page-overview");
    if (marks.complete === undefined && view && !view.querySelector("[aria-busy]")) {
      marks.complete = performance.now();  // every section drawn (charts included)
    }
  };
  new MutationObserver(mark).observe(document, { childList: true, subtree: true });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) elements[e.identifier] = e.renderTime || e.loadTime;
  }).observe({ type: "element", buffered: true });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__paint.lcp = e.startTime;
  }).observe({ type: "largest-contentful-paint", buffered: true });
})();
"""

COLLECT = """
() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  const res = performance.getEntriesByType("resource").map((r) => ({
    url: r.name, initiator: r.initiatorType, start: r.startTime, end: r.responseEnd,
    ttfb: r.responseStart - r.requestStart, transfer: r.transferSize,
    encoded: r.encodedBodySize, decoded: r.decodedBodySize,
  }));
  return {
    fcp: fcp ? fcp.startTime : null,
    lcp: window.__paint.lcp ?? null,
    marks: window.__paint.marks,
    elements: window.__paint.elements,
    nav: { url: nav.name, transfer: nav.transferSize, encoded: nav.encodedBodySize,
           decoded: nav.decodedBodySize, domContentLoaded: nav.domContentLoadedEventEnd,
           load: nav.loadEventEnd },
    resources: res,
  };
}
"""


# --- server-side timing ---------------------------------------------------------------------


@dataclass
class Served:
    path: str
    query: str
    status: int
    began: float
    ms: float = 0.0
    body_bytes: int = 0


@dataclass
class Timing:
    """Pass-through ASGI wrapper recording each finished HTTP request's server time."""

    app: ASGIApp
    served: list[Served] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        entry = Served(scope["path"], scope["query_string"].decode(), 0, time.perf_counter())

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry.status = message["status"]
            elif message["type"] == "http.response.body":
                entry.body_bytes += len(message.get("body", b""))
                if not message.get("more_body", False):
                    entry.ms = (time.perf_counter() - entry.began) * 1000
                    self.served.append(entry)
            await send(message)

        await self.app(scope, receive, timed_send)


# --- seeding --------------------------------------------------------------------------------


@contextlib.contextmanager
def data_directory(given: Path | None) -> Iterator[Path]:
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given
        return
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp)


async def seeded_user(store: Store, url: str, data_dir: Path, plays: int) -> tuple[str, str]:
    """The bench user's id and the seed date, seeding ``plays`` plays unless already done."""
    marker = data_dir / MARKER
    now = datetime.now(UTC)
    user, _ = await Users(store).upsert_from_profile(
        Profile(spotify_id="bench", display_name="Bench", image_url=None, product=None), now
    )
    await store["users"].update_one({"_id": user.id}, {"$set": {"time_zone": ZONE}})
    if marker.exists():
        done = json.loads(marker.read_text())
        if done["plays"] != plays:
            raise SystemExit(f"{data_dir} holds {done['plays']:,} plays, not {plays:,}")
        print(f"reusing {plays:,} plays seeded {done['seeded_at']} in {data_dir}", flush=True)
        return user.id, str(done["seeded_at"])
    if await store["plays"].find_one({}) is not None:
        raise SystemExit(f"{data_dir} holds an unfinished seed: delete it and run again")
    print(f"seeding {plays:,} plays …", flush=True)
    # No retried writes while seeding: a retried insert_many whose first attempt did land fails
    # with duplicate keys (seen once at 1M on the embedded server), hiding the first error.
    seeding: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        url, tz_aware=True, retryWrites=False, socketTimeoutMS=600_000
    )
    try:
        seconds = await seed(Store(client=seeding, db=seeding[store.db.name]), user.id, plays, now)
    finally:
        await seeding.close()
    print(f"seeded {plays:,} plays in {seconds:.0f} s", flush=True)
    marker.write_text(json.dumps({"plays": plays, "seeded_at": now.isoformat()}))
    return user.id, now.isoformat()


# --- one page load --------------------------------------------------------------------------


@dataclass
class Load:
    fcp: float
    fmp: float
    lcp: float | None
    dom_ready: float  # headline and top list both inserted into the DOM
    complete: float  # every section of the page drawn, charts included
    bytes_by_kind: dict[str, tuple[int, int, int]]  # kind -> (requests, transfer, body)
    api: list[tuple[str, float, float]]  # (path?query, start ms, end ms) as the page saw them


def kind_of(url: str, initiator: str) -> str:
    path = url.split("://", 1)[-1].split("/", 1)[-1]
    if path.startswith("api/"):
        return "api json"
    if path.endswith(".js"):
        return "js"
    if path.endswith(".css"):
        return "css"
    return f"other ({initiator})"


async def load(page: Page, url: str | None) -> Load:
    began = time.perf_counter()
    if url is None:
        await page.reload(wait_until="commit")
    else:
        await page.goto(url, wait_until="commit")
    await page.wait_for_function(
        "() => ['headline', 'toplist'].every((n) => n in (window.__paint?.elements ?? {}))",
        timeout=PAGE_TIMEOUT_MS,
        polling=50,
    )
    # Bytes are counted once every section has its data (no request of the page in flight).
    await page.wait_for_function(
        "() => window.__paint.marks.complete !== undefined", timeout=PAGE_TIMEOUT_MS, polling=50
    )
    await page.wait_for_load_state("load")
    data: dict[str, Any] = await page.evaluate(COLLECT)
    if time.perf_counter() - began > PAGE_TIMEOUT_MS / 1000:
        raise TimeoutError("page load over the time bound")
    nav = data["nav"]
    kinds: dict[str, tuple[int, int, int]] = {"html": (1, nav["transfer"], nav["encoded"])}
    api = []
    for r in data["resources"]:
        kind = kind_of(r["url"], r["initiator"])
        n, t, b = kinds.get(kind, (0, 0, 0))
        kinds[kind] = (n + 1, t + r["transfer"], b + r["encoded"])
        if kind == "api json":
            api.append((r["url"].split("/", 3)[-1], r["start"], r["end"]))
    elements = data["elements"]
    return Load(
        fcp=data["fcp"],
        fmp=max(elements["headline"], elements["toplist"]),
        lcp=data["lcp"],
        dom_ready=max(data["marks"]["headline"], data["marks"]["toplist"]),
        complete=data["marks"]["complete"],
        bytes_by_kind=kinds,
        api=api,
    )


@contextlib.asynccontextmanager
async def signed_in_context(
    browser_url: str, token: str, browser: Browser
) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        await context.add_cookies(
            [{"name": "session", "value": token, "url": browser_url, "httpOnly": True}]
        )
        await context.add_init_script(PROBE)
        yield context
    finally:
        await context.close()


# --- report ---------------------------------------------------------------------------------


def med(values: list[float]) -> str:
    return f"{statistics.median(values):,.0f}" if values else "—"


def spread(values: list[float]) -> str:
    return f"{med(values)} ({min(values):,.0f}-{max(values):,.0f})"


def report_period(period: str, cold: list[Load], warm: list[Load], served: list[Served]) -> None:
    print(f"\n### period={period}: ms from navigation start, median (min-max) of {len(cold)}")
    print("| load | FCP | FMP (headline + top lists painted) | LCP | data in DOM | all drawn |")
    print("|---|---|---|---|---|---|")
    for label, loads in (("cold", cold), ("warm (reload)", warm)):
        lcps = [x.lcp for x in loads if x.lcp is not None]
        print(
            f"| {label} | {spread([x.fcp for x in loads])} | {spread([x.fmp for x in loads])} "
            f"| {spread(lcps) if lcps else '—'} | {spread([x.dom_ready for x in loads])} "
            f"| {spread([x.complete for x in loads])} |"
        )
    print("\nbytes per load (first run; requests, transfer = headers + body, body = encoded):")
    print("| load | kind | requests | transfer B | body B |")
    print("|---|---|---|---|---|")
    for label, loads in (("cold", cold), ("warm", warm)):
        kinds = loads[0].bytes_by_kind
        for kind, (n, t, b) in sorted(kinds.items()):
            print(f"| {label} | {kind} | {n} | {t:,} | {b:,} |")
        total_t = sum(t for _, t, _ in kinds.values())
        total_b = sum(b for _, _, b in kinds.values())
        total_n = sum(n for n, _, _ in kinds.values())
        print(f"| {label} | **total** | {total_n} | **{total_t:,}** | {total_b:,} |")
    print("\nAPI requests of one cold load (as the page issued them; start → end ms), and the")
    print("server time of each route over all loads of this period (median, max; ms):")
    print("| request | page start → end (cold run 1) | server median | server max | body B |")
    print("|---|---|---|---|---|")
    for path, start, end in cold[0].api:
        route = path.split("?", 1)[0]
        mine = [s for s in served if s.path == "/" + route]
        times = [s.ms for s in mine]
        body = mine[-1].body_bytes if mine else 0
        top = f"{max(times):,.0f}" if times else "—"
        print(f"| `{path}` | {start:,.0f} → {end:,.0f} | {med(times)} | {top} | {body:,} |")
    streams = sorted({s.path for s in served if "/stream/" in s.path})
    if streams:
        print(f"(streams opened and held, no timing entry: {', '.join(streams)})")


async def run(args: argparse.Namespace) -> None:
    with data_directory(args.data_dir) as data_dir:
        async with running_embedded_server(data_dir / "db", start_timeout=120) as server:
            client = make_client(server.url)
            store = Store(client=client, db=client["bench"])
            user_id, seeded_at = await seeded_user(store, server.url, data_dir, args.plays)
            settings = bench_settings(data_dir / "app")
            app = create_app(settings, store=store)
            timing = Timing(app)
            print(f"machine: {machine()}; Chromium: {CHROMIUM}; plays: {args.plays:,} "
                  f"(seeded {seeded_at}); runs: {args.runs}")  # fmt: skip
            async with running_uvicorn(timing) as url, async_playwright() as pw:
                token = app.state.auth.signer.issue(user_id, 1, datetime.now(UTC))
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                print(f"Chromium {browser.version}, served at {url}")
                errors: list[str] = []
                try:
                    for period in args.periods.split(","):
                        target = f"{url}/#/overview?period={period}"
                        cold, warm = [], []
                        timing.served.clear()
                        for _ in range(args.runs):
                            async with signed_in_context(url, token, browser) as context:
                                page = await context.new_page()
                                page.on("pageerror", lambda e: errors.append(str(e)))
                                cold.append(await load(page, target))
                                warm.append(await load(page, None))
                                if errors:
                                    raise RuntimeError(f"page errors: {errors}")
                        report_period(period, cold, warm, timing.served)
                finally:
                    await browser.close()
            await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--plays", type=int, default=1_000_000)
    parser.add_argument("--data-dir", type=Path, default=None, help="keep/reuse the seeded db")
    parser.add_argument("--runs", type=int, default=5, help="cold + warm loads per period")
    parser.add_argument("--periods", default="month,all_time", help="comma-separated")
    args = parser.parse_args()
    anyio.run(run, args)


if __name__ == "__main__":
    main()
