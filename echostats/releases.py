"""Is there a newer EchoStats? Reads a release feed (GitHub releases API shape), cached.

Offline or a broken feed never fails the caller: the answer then has ``latest_version = None``.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio
import httpx

log = logging.getLogger(__name__)

FEED_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Release:
    version: str
    url: str | None
    notes: str | None
    published_at: datetime | None


def parse_version(text: str) -> tuple[int, ...] | None:
    """``"v1.2.10"`` → ``(1, 2, 10)``; ``None`` when it has no leading number."""
    match = re.match(r"^v?(\d+(?:\.\d+)*)", text.strip())
    return tuple(int(p) for p in match.group(1).split(".")) if match else None


def is_newer(candidate: str, current: str) -> bool:
    new, old = parse_version(candidate), parse_version(current)
    return new is not None and old is not None and new > old


def _parse_release(payload: Any) -> Release | None:
    if not isinstance(payload, dict):
        return None
    tag = payload.get("tag_name") or payload.get("version")
    if not isinstance(tag, str) or parse_version(tag) is None:
        return None
    published: datetime | None = None
    raw_date = payload.get("published_at")
    if isinstance(raw_date, str):
        try:
            published = datetime.fromisoformat(raw_date.replace("Z", "+00:00"))
        except ValueError:
            published = None
    url = payload.get("html_url")
    notes = payload.get("body")
    return Release(
        version=tag.lstrip("v"),
        url=url if isinstance(url, str) else None,
        notes=notes[:5000] if isinstance(notes, str) else None,
        published_at=published,
    )


class ReleaseFeed:
    """Fetches the latest release at most once per ``ttl`` seconds (failures are cached too)."""

    def __init__(self, http: httpx.AsyncClient, url: str, ttl: float) -> None:
        self._http = http
        self._url = url
        self._ttl = ttl
        self._cached: tuple[float, Release | None] | None = None
        self._lock = anyio.Lock()

    async def latest(self) -> Release | None:
        if not self._url:
            return None
        async with self._lock:
            now = time.monotonic()
            if self._cached and now - self._cached[0] < self._ttl:
                return self._cached[1]
            release = await self._fetch()
            self._cached = (now, release)
            return release

    async def _fetch(self) -> Release | None:
        try:
            with anyio.fail_after(FEED_TIMEOUT_SECONDS):
                response = await self._http.get(
                    self._url, headers={"Accept": "application/vnd.github+json"}
                )
            response.raise_for_status()
            return _parse_release(response.json())
        except (httpx.HTTPError, TimeoutError, ValueError) as exc:
            log.info("release feed unavailable", extra={"error": type(exc).__name__})
            return None
