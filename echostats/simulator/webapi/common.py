"""What every Web API endpoint shares: authentication, Spotify's error bodies, query parsing.

Handlers are plain ``async def handler(ctx) -> Response`` functions wrapped by ``endpoint``,
which authenticates the bearer token exactly the way Spotify answers (401 JSON, plain-text 403
for users missing from the allow-list, 403 for a missing scope) before the handler runs.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from echostats.simulator.shapes import Shapes

if TYPE_CHECKING:
    from echostats.simulator.core import SimulatorCore
    from echostats.simulator.world import SimUser

NOT_REGISTERED = "User not registered in the Developer Dashboard"
OWNER_PREMIUM = (
    "Active premium subscription required for the owner of the app. When the subscription "
    "status changes, it can take a few hours before requests are allowed again."
)


class ApiError(Exception):
    """Rendered as ``{"error": {"status", "message"[, "reason"]}}``."""

    def __init__(
        self,
        status: int,
        message: str,
        reason: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason
        self.headers = headers


def unauthorized(message: str, error: str | None = "invalid_token") -> ApiError:
    """A 401 with the ``WWW-Authenticate`` challenge Spotify sends beside it (RFC 6750)."""
    challenge = 'Bearer realm="spotify"'
    if error is not None:
        challenge += f', error="{error}", error_description="{message}"'
    return ApiError(401, message, headers={"WWW-Authenticate": challenge})


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type="application/json; charset=utf-8",
        headers=headers,
    )


def error_response(
    status: int, message: str, reason: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    error: dict[str, Any] = {"status": status, "message": message}
    if reason is not None:
        error["reason"] = reason
    return json_response({"error": error}, status, headers)


@dataclass
class Ctx:
    request: Request
    sim: SimulatorCore
    account: SimUser | None  # None for an app token (client credentials)
    now_ms: int
    shapes: Shapes
    scopes: frozenset[str]

    @property
    def user(self) -> SimUser:
        if self.account is None:
            raise unauthorized("Valid user authentication required", error=None)
        return self.account

    def query(self, name: str) -> str | None:
        return self.request.query_params.get(name)

    def int_query(self, name: str, default: int, low: int, high: int) -> int:
        """Parse a bounded integer parameter; out of range is a 400 like on Spotify."""
        raw = self.query(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ApiError(400, f"Invalid {name}") from None
        if not low <= value <= high:
            raise ApiError(400, f"Invalid {name}")
        return value

    def href(self) -> str:
        """The request's own URL, used as ``href`` of pages."""
        return str(self.request.url)

    def path_param(self, name: str) -> str:
        return str(self.request.path_params[name])

    async def json_value(self) -> Any:
        """The JSON body as sent (None when empty); not JSON at all is a 400."""
        raw = await self.request.body()
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise ApiError(400, "Error parsing json") from None

    async def json_body(self) -> dict[str, Any]:
        body = await self.json_value()
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise ApiError(400, "Error parsing json")
        return body


Handler = Callable[[Ctx], Awaitable[Response]]


def api_base(request: Request, sim: SimulatorCore) -> str:
    configured = sim.config.api_base_url
    return configured.rstrip("/") if configured else f"{str(request.base_url).rstrip('/')}/v1"


def endpoint(
    *scopes: str, app_token: bool = False
) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Wrap a handler with Spotify's authentication and scope checks (all ``scopes`` needed).

    ``app_token``: the endpoint needs no user, so a client-credentials token may call it.
    """

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            sim: SimulatorCore = request.app.state.sim
            now_ms = sim.sync()
            try:
                user, granted = authenticate(request, sim, now_ms, app_token=app_token)
                if isinstance(user, Response):
                    return user
                require_scopes(scopes, granted)
                shapes = Shapes(sim.catalog, sim.config.dev_mode, api_base(request, sim), granted)
                return await handler(Ctx(request, sim, user, now_ms, shapes, granted))
            except ApiError as exc:
                return error_response(exc.status, exc.message, exc.reason, exc.headers)

        run.__name__ = handler.__name__
        return run

    return wrap


def authenticate(
    request: Request, sim: SimulatorCore, now_ms: int, *, app_token: bool = False
) -> tuple[SimUser | Response | None, frozenset[str]]:
    header = request.headers.get("authorization")
    if header is None:
        raise unauthorized("No token provided", error=None)
    kind, _, token = header.partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        raise ApiError(400, "Only valid bearer authentication supported")
    access = sim.tokens.access.get(token.strip())
    if access is None:
        raise unauthorized("Invalid access token")
    if access.expires_ms <= now_ms:
        raise unauthorized("The access token expired")
    if sim.faults.owner_premium_lapsed:
        raise ApiError(403, OWNER_PREMIUM)
    if access.user_id is None:
        if not app_token:
            raise unauthorized("Valid user authentication required", error=None)
        return None, access.scope
    user = sim.users[access.user_id]
    if not user.registered:
        # The one Web API error that is not JSON (SPOTIFY.md 2.1).
        return PlainTextResponse(NOT_REGISTERED, status_code=403), access.scope
    return user, access.scope


def require_scopes(needed: tuple[str, ...] | str, granted: frozenset[str]) -> None:
    wanted = (needed,) if isinstance(needed, str) else needed
    if any(s not in granted for s in wanted):
        raise ApiError(403, "Insufficient client scope")
