"""Security headers on every response, and an Origin check on every state-changing request.

SameSite=Lax keeps the session cookie off cross-site POSTs in current browsers; the Origin (or,
failing that, Referer) check is the second lock for older browsers and for same-site attackers.
Requests carrying neither header (scripts, curl) cannot ride a browser's cookie and pass.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from echostats.api.errors import error_response

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DOCS_PATHS = ("/api/docs", "/api/redoc")


# The dashboard ships its own scripts and styles: nothing inline, nothing from elsewhere.
# Album art comes from Spotify's image hosts (https:), in demo mode from the simulator.
def app_csp(image_origins: tuple[str, ...] = ()) -> str:
    images = " ".join(("'self'", "data:", "https:", *image_origins))
    return (
        f"default-src 'self'; script-src 'self'; style-src 'self'; img-src {images}; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


# Swagger UI and ReDoc load their bundles from DOCS_ASSETS (served here, never from a CDN) and
# start with an inline script. Images only from here too: ReDoc's footer asks Redocly's CDN for
# its logo, which the browser then never fetches (ReDoc hides the image when it fails).
DOCS_ASSETS = "/api-docs-assets"
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "font-src 'self'; img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    "frame-ancestors 'none'"
)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class ProtectionMiddleware:
    def __init__(
        self, app: ASGIApp, *, base_url: str, https: bool, image_origins: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.origin = origin_of(base_url)
        self.https = https
        self.csp = app_csp(image_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = "same-origin"
                headers["Content-Security-Policy"] = (
                    DOCS_CSP if path.startswith(DOCS_PATHS) else self.csp
                )
                headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
                if path.startswith("/api/") and "cache-control" not in headers:
                    # Answers are personal: no shared cache or back button keeps one.
                    headers["Cache-Control"] = "no-store"
                if self.https:
                    headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
            await send(message)

        if scope["method"] in UNSAFE_METHODS and path.startswith("/api/"):
            refusal = self._cross_site_refusal(Headers(scope=scope))
            if refusal:
                response = error_response(scope, 403, refusal)
                await response(scope, receive, send_with_headers)
                return
        await self.app(scope, receive, send_with_headers)

    def _cross_site_refusal(self, headers: Headers) -> str | None:
        origin = headers.get("origin")
        if origin is not None:
            if origin.lower() == self.origin:
                return None
            return (
                f"Cross-site request refused: it came from {origin[:100]}, not {self.origin}. "
                "If you reach EchoStats under another address, set ECHOSTATS_PUBLIC_BASE_URL."
            )
        referer = headers.get("referer")
        if referer is not None and origin_of(referer) != self.origin:
            return "Cross-site request refused: its Referer is not this site."
        return None
