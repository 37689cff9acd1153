"""One record per outbound Spotify request, for the api_logs collection.

Records are built here and nowhere else so that scrubbing cannot be forgotten: they carry the
endpoint *template* (no ids, no query string) and an error text with anything secret-looking
removed. A record never holds a token, an authorization code, a PKCE verifier or the app secret.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

MAX_ERROR_CHARS = 300
REDACTED = "[redacted]"

# Credentials that may appear in an error text (echoed form bodies, headers, URLs).
_SECRET_PATTERNS = (
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]+"),
    re.compile(
        r"(?i)\b(access_token|refresh_token|code_verifier|client_secret|code)"
        r"([\"']?\s*[:=]\s*[\"']?)[^\"'&\s,}]+"
    ),
)


@dataclass(frozen=True, kw_only=True)
class ApiCallRecord:
    service: str = "spotify"
    method: str
    endpoint: str
    status_code: int  # 0: no HTTP answer (timeout or transport failure)
    latency_ms: float
    error: str | None
    request_id: str
    user_id: str | None
    timestamp: datetime = field(compare=False)


RecordSink = Callable[[ApiCallRecord], None]
"""Receives every record; must be synchronous and must not block (or raise)."""


def discard_record(record: ApiCallRecord) -> None:
    """The default sink when nobody collects records."""


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove known secrets and anything credential-shaped, then cut to ``MAX_ERROR_CHARS``."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = _SECRET_PATTERNS[0].sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _SECRET_PATTERNS[1].sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = " ".join(text.split())
    if len(text) > MAX_ERROR_CHARS:
        text = text[: MAX_ERROR_CHARS - 3] + "..."
    return text
