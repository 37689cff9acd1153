"""Route-wide security: sessions on every /api/v1 route, cookies, and headers per route class.

Routes are enumerated from the app itself (its OpenAPI document and the API routers, so a route
left out of the document is still checked), never from a hand-written list: a route added
tomorrow is covered tomorrow.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import anyio
import httpx
import jwt
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from echostats.api.protection import DOCS_CSP, app_csp, origin_of
from echostats.api.routers import ROUTERS
from echostats.settings import Settings
from echostats.simulator import Simulator, SimulatorConfig
from echostats.store import Store
from tests.signin import SignInWorld, served_world, signin_world

pytestmark = pytest.mark.anyio

# The documented routes that answer without a session (spec/API.md): sign-in itself, and health.
NO_SESSION_ROUTES = frozenset(
    {
        ("GET", "/api/v1/auth/login"),
        ("GET", "/api/v1/auth/callback"),
        ("GET", "/api/v1/auth/status"),
        ("GET", "/api/v1/auth/demo-login"),
        ("GET", "/api/v1/auth/link"),  # a single-use sign-in link (echostats sign-in-link)
        ("GET", "/api/health"),
        ("GET", "/api/health/ready"),
        ("GET", "/api/health/update"),
    }
)
_PATH_PARAM = re.compile(r"\{[^}]+\}")


def api_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path template) of every API route: the document's and the routers'."""
    found = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    for router in ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute):
                found.update((method, route.path_format) for method in route.methods or ())
    return {(m, p) for m, p in found if p.startswith("/api/") and m != "HEAD"}


def concrete(path: str) -> str:
    return _PATH_PARAM.sub("0123456789abcdef01234567", path)


@pytest.fixture
async def world(settings: Settings, store: Store) -> AsyncIterator[SignInWorld]:
    async with signin_world(settings, store) as world:
        yield world


async def _signed_in_token(world: SignInWorld) -> str:
    response = await world.sign_in()
    assert response.status_code == 303, response.text
    token = world.client.cookies["session"]
    world.client.cookies.clear()
    return token


async def test_every_v1_route_refuses_a_request_without_a_session(world: SignInWorld) -> None:
    token = await _signed_in_token(world)
    secret = world.settings.session_secret.get_secret_value()
    claims = jwt.decode(token, options={"verify_signature": False})
    past = datetime.now(UTC) - timedelta(days=90)
    refused_sessions = {
        "no session": {},
        "garbage bearer": {"Authorization": "Bearer not-a-jwt"},
        "tampered cookie": {"Cookie": f"session={token[:-4]}AAAA"},
        "expired": {
            "Cookie": "session="
            + jwt.encode({**claims, "iat": past, "exp": past + timedelta(days=1)}, secret)
        },
        "signed by another key": {"Cookie": "session=" + jwt.encode(claims, "k" * 48)},
    }
    routes = api_routes(world.app)
    v1 = {route for route in routes if route[1].startswith("/api/v1/")}
    assert len(v1) > 50, sorted(v1)  # the enumeration found the API, not an empty list
    answered_without_session = set()
    for method, path in sorted(routes):
        for name, headers in refused_sessions.items():
            # Auto-login on /auth/status may have handed the client a session: drop it.
            world.client.cookies.clear()
            # Same-origin, so the cross-site check lets state-changing requests through to auth.
            response = await world.client.request(
                method,
                concrete(path),
                headers={**headers, "Origin": world.settings.base_url},
                follow_redirects=False,
            )
            if response.status_code != 401:
                answered_without_session.add((method, path))
                continue
            detail = response.json()["detail"]
            assert "Sign in" in detail or "sign in" in detail, (method, path, name, detail)
            assert response.headers["x-request-id"], (method, path)
    assert answered_without_session == NO_SESSION_ROUTES & routes


async def test_documented_no_session_routes_really_need_none(world: SignInWorld) -> None:
    answers = {
        path: (await world.client.get(path, headers={"Accept": "application/json"})).status_code
        for method, path in NO_SESSION_ROUTES
        if method == "GET" and "{" not in path
    }
    # The callback without code/state is a 400 sentence, demo-login outside demo mode a 404, a
    # sign-in link without its token a 422; none asks for a session.
    assert answers == {
        "/api/v1/auth/login": 200,
        "/api/v1/auth/callback": 400,
        "/api/v1/auth/link": 422,
        "/api/v1/auth/status": 200,
        "/api/v1/auth/demo-login": 404,
        "/api/health": 200,
        "/api/health/ready": 200,
        "/api/health/update": 200,
    }


# --- cookies ----------------------------------------------------------------------------------


def _session_cookie(response: httpx.Response) -> str:
    cookies = [c for c in response.headers.get_list("set-cookie") if c.startswith("session=")]
    assert len(cookies) == 1, response.headers
    return cookies[0]


def _assert_session_cookie(cookie: str, *, secure: bool) -> None:
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert "httponly" in attributes, cookie
    assert "samesite=lax" in cookie.lower(), cookie
    assert "path=/" in cookie.lower(), cookie
    assert ("secure" in attributes) is secure, cookie
    assert "domain" not in attributes, cookie  # host-only: never sent to sibling hosts


@pytest.mark.parametrize(
    ("public_base_url", "cookie_secure", "secure"),
    [
        ("", None, False),  # plain http on loopback
        ("https://music.example.org", None, True),
        ("", True, True),  # behind a TLS proxy that the base URL does not show
        ("https://music.example.org", False, False),  # forced off, by setting
    ],
)
async def test_every_cookie_the_app_sets_has_the_session_flags(
    settings: Settings,
    store: Store,
    public_base_url: str,
    cookie_secure: bool | None,
    secure: bool,
) -> None:
    base = public_base_url or settings.base_url
    sim = Simulator(SimulatorConfig(redirect_uris=(f"{base}/api/v1/auth/callback",)))
    changes: dict[str, object] = {
        "public_base_url": public_base_url,
        "cookie_secure": cookie_secure,
        "demo_mode": True,
        "auto_login": True,
    }
    async with signin_world(settings, store, sim, **changes) as world:
        # Every route that sets the session cookie sets it with the same flags; no other route
        # (every signed-in GET is tried) sets a cookie at all.
        signed_in = await world.sign_in()  # the OAuth callback
        _assert_session_cookie(_session_cookie(signed_in), secure=secure)
        world.client.cookies.clear()
        demo = await world.client.get("/api/v1/auth/demo-login")
        _assert_session_cookie(_session_cookie(demo), secure=secure)
        world.client.cookies.clear()
        auto = await world.client.get("/api/v1/auth/status")  # single-user auto-login
        assert auto.json()["authenticated"] is True
        _assert_session_cookie(_session_cookie(auto), secure=secure)
        # A Secure cookie is not sent over plain http by the client: present it by hand.
        session = {"Cookie": _session_cookie(auto).split(";")[0], "Origin": base}
        world.client.cookies.clear()
        for method, path in sorted(api_routes(world.app) - NO_SESSION_ROUTES):
            if method == "GET" and "stream" not in path:
                response = await world.client.get(concrete(path), headers=session)
                assert response.status_code != 401, path
                assert "set-cookie" not in response.headers, (path, response.headers)
        out = await world.client.post("/api/v1/auth/logout", headers=session)
        cleared = _session_cookie(out)
        _assert_session_cookie(cleared, secure=secure)
        assert 'session=""' in cleared
        assert "max-age=0" in cleared.lower()


# --- headers per route class ------------------------------------------------------------------

COMMON_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


def _assert_security_headers(
    where: str, response: httpx.Response, *, https: bool = False, csp: str | None = None
) -> None:
    headers = response.headers
    for name, value in COMMON_HEADERS.items():
        assert headers.get(name) == value, (where, name, headers)
    assert headers.get("content-security-policy") == (csp or app_csp()), (where, headers)
    assert re.fullmatch(r"[A-Za-z0-9._-]{8,64}", headers.get("x-request-id", "")), where
    assert ("strict-transport-security" in headers) is https, (where, headers)
    if https:
        assert headers["strict-transport-security"].startswith("max-age=31536000"), where
    if where.startswith("api"):
        # Personal data: no shared cache or browser history keeps an API answer.
        assert headers.get("cache-control") in {"no-store", "no-cache"}, (where, headers)


def _probe_routes(app: FastAPI) -> None:
    @app.get("/api/v1/_probe/crash", include_in_schema=False)
    async def crash() -> None:
        raise RuntimeError("a crash the error middleware answers with a 500")


@pytest.mark.parametrize("https", [False, True])
async def test_security_headers_on_every_route_class(
    settings: Settings, store: Store, https: bool
) -> None:
    public = "https://music.example.org" if https else ""
    base = public or settings.base_url
    sim = Simulator(SimulatorConfig(redirect_uris=(f"{base}/api/v1/auth/callback",)))
    async with signin_world(settings, store, sim, public_base_url=public) as world:
        _probe_routes(world.app)
        anonymous = {
            "api error 401": world.client.get("/api/v1/me"),
            "api error 404": world.client.get("/api/v1/nothing-here"),
            "health": world.client.get("/api/health"),
            "api redirect to Spotify": world.client.get(
                "/api/v1/auth/login", headers={"Accept": "text/html"}
            ),
            "dashboard html": world.client.get("/"),
            "static script": world.client.get("/static/js/app.js"),
            "static style": world.client.get("/static/css/app.css"),
            "static 404": world.client.get("/static/nothing.js"),
            "api schema": world.client.get("/api/openapi.json"),
        }
        for where, request in anonymous.items():
            response = await request
            assert response.status_code < 500, (where, response.status_code)
            _assert_security_headers(where, response, https=https)
        for docs in ("/api/docs", "/api/redoc"):
            _assert_security_headers(docs, await world.client.get(docs), https=https, csp=DOCS_CSP)
        assert (await world.sign_in()).status_code == 303
        signed_in = {
            "api json": world.client.get("/api/v1/me"),
            "api json list": world.client.get("/api/v1/sync-jobs"),
            "api error 405": world.client.delete("/api/v1/me"),
            "api error 422": world.client.get("/api/v1/history", params={"limit": 0}),
            "api error 403 cross-site": world.client.post(
                "/api/v1/auth/logout", headers={"Origin": "https://evil.example"}
            ),
            "api error 500": world.client.get("/api/v1/_probe/crash"),
            "api export download": world.client.get("/api/v1/history/export"),
        }
        for where, request in signed_in.items():
            response = await request
            _assert_security_headers(where, response, https=https)
        crashed = await world.client.get("/api/v1/_probe/crash")
        assert crashed.status_code == 500
        assert "RuntimeError" not in crashed.text


async def test_security_headers_on_event_streams(settings: Settings, store: Store) -> None:
    """SSE answers stream forever, so only a real server shows their headers."""
    async with served_world(settings, store, demo_mode=True) as world:
        # Demo mode lets pages show the simulator's own cover art, and nothing else besides.
        csp = app_csp((origin_of(world.settings.spotify_api_url),))
        assert "img-src 'self' data: https: http://sim.test;" in csp
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=world.url, limits=limits, timeout=10) as client:
            signed_in = await client.get("/api/v1/auth/demo-login")
            assert signed_in.status_code == 303, signed_in.text
            streams = [
                path
                for method, path in api_routes(world.app)
                if method == "GET" and ("/stream" in path)
            ]
            assert len(streams) == 4, streams
            job = (await client.post("/api/v1/sync-jobs/trigger")).json()["job_id"]
            for path in sorted(streams):
                url = path.replace("{job_id}", job)
                with anyio.fail_after(10):
                    async with client.stream("GET", url) as response:
                        assert response.status_code == 200, (path, await response.aread())
                        assert response.headers["content-type"].startswith("text/event-stream")
                        _assert_security_headers(f"api stream {path}", response, csp=csp)
                async with httpx.AsyncClient(base_url=world.url, timeout=10) as stranger:
                    anonymous = await stranger.get(url)
                assert anonymous.status_code == 401, path
                _assert_security_headers(f"api stream refused {path}", anonymous, csp=csp)
