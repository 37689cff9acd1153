"""What a secret looks like in this test suite, and a watch on every answer the app sends.

``tests/conftest.py`` checks at the end of the session that no log line and no response (body or
header) of any test carried one; the apps of ``tests/signin.py`` are wrapped in ``watch`` so
every request a test makes through them is scanned as it is sent, streams included.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Anything credential-shaped the simulator issues (codes, access and refresh tokens).
SIMULATOR_CREDENTIAL = re.compile(r"\b(?:AQ|BQ)[A-Za-z0-9]{60,}\b")
# The fixed secrets the tests configure; the session's generated ones are added by conftest.
SECRETS: set[str] = {"sim-client-secret", "test-client-secret", "cli-secret"}
# A secret split across two body chunks is still found: each scan overlaps the previous chunk.
_OVERLAP = 256

response_leaks: list[str] = []


def find_secret(text: str) -> str | None:
    """The secret (or credential-shaped string) ``text`` carries, if any."""
    match = SIMULATOR_CREDENTIAL.search(text)
    if match:
        return match.group(0)
    return next((secret for secret in SECRETS if secret in text), None)


def watch(app: ASGIApp) -> ASGIApp:
    """``app``, with every response it sends scanned for secrets into ``response_leaks``."""

    async def watched(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        where = f"{scope['method']} {scope['path']}"
        tail = ""

        async def scanning_send(message: Message) -> None:
            nonlocal tail
            if message["type"] == "http.response.start":
                headers = "\n".join(
                    f"{name.decode('latin-1')}: {value.decode('latin-1')}"
                    for name, value in message.get("headers", [])
                )
                if found := find_secret(headers):
                    response_leaks.append(f"{where}: a header carries {found[:12]}…")
            elif message["type"] == "http.response.body":
                text = tail + bytes(message.get("body", b"")).decode("utf-8", "replace")
                if found := find_secret(text):
                    response_leaks.append(f"{where}: the body carries {found[:12]}…")
                tail = text[-_OVERLAP:]
            await send(message)

        await app(scope, receive, scanning_send)

    return watched
