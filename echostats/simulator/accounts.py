"""The accounts service: ``/authorize`` (consent) and ``/api/token`` (code, refresh and
client-credentials grants).

Follows the 2025+ rules: only the authorization-code flow for users (app-only tokens through
client credentials), HTTPS or loopback-IP redirect URIs (``localhost`` refused, the loopback port
is free), PKCE S256, single-use codes with a short lifetime, and Spotify's token-endpoint error
bodies (``{"error", "error_description"}``, 400 also for bad client credentials).
"""

from __future__ import annotations

import base64
import binascii
import html
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from echostats.simulator.tokens import ALL_SCOPES, GrantError
from echostats.simulator.webapi.common import json_response

if TYPE_CHECKING:
    from echostats.simulator.core import SimulatorCore

LOOPBACK = ("127.0.0.1", "::1")


def redirect_problem(uri: str, registered: tuple[str, ...]) -> str | None:
    """Why ``uri`` may not be used as a redirect URI, or None when it matches a registered one."""
    parts = urlsplit(uri)
    host = (parts.hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return "Insecure redirect URI"
    loopback = host in LOOPBACK
    if parts.scheme == "http" and not loopback:
        return "Insecure redirect URI"
    for candidate in registered:
        reg = urlsplit(candidate)
        if uri == candidate:
            return None
        # RFC 8252: a loopback redirect matches whatever port the app picked at run time.
        same_loopback = loopback and (reg.hostname or "").lower() == host
        if same_loopback and (reg.scheme, reg.path, reg.query) == (
            parts.scheme,
            parts.path,
            parts.query,
        ):
            return None
    return "Invalid redirect URI"


def _page(message: str, status: int = 400) -> Response:
    return HTMLResponse(f"<!doctype html><title>Error</title><p>{html.escape(message)}</p>", status)


def _redirect(redirect_uri: str, params: dict[str, str]) -> Response:
    sep = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(f"{redirect_uri}{sep}{urlencode(params)}", status_code=302)


def _sim(request: Request) -> SimulatorCore:
    sim: SimulatorCore = request.app.state.sim
    return sim


class Rejected(Exception):
    """Stops request handling with a ready response (an error page, redirect or JSON)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _check_request(sim: SimulatorCore, params: dict[str, str]) -> None:
    """Validate an authorization request; errors before a trusted redirect URI are pages."""
    if params.get("client_id") != sim.config.client_id:
        raise Rejected(_page("INVALID_CLIENT: Invalid client"))
    redirect_uri = params.get("redirect_uri", "")
    problem = redirect_problem(redirect_uri, sim.config.redirect_uris)
    if problem is not None:
        raise Rejected(_page(f"INVALID_CLIENT: {problem}"))
    state = {"state": params["state"]} if "state" in params else {}
    error = None
    challenge, method = params.get("code_challenge"), params.get("code_challenge_method")
    if params.get("response_type") != "code":
        error = "unsupported_response_type"
    elif any(s not in ALL_SCOPES for s in params.get("scope", "").split()):
        error = "invalid_scope"
    elif (challenge is not None or method is not None) and (method != "S256" or not challenge):
        error = "invalid_request"
    if error is not None:
        raise Rejected(_redirect(redirect_uri, {"error": error, **state}))
    if params.get("sim_user", sim.consent_user) not in sim.users:
        raise Rejected(_page("Unknown simulated user"))


def _grant_code(sim: SimulatorCore, params: dict[str, str]) -> Response:
    user = params.get("sim_user", sim.consent_user)
    scope = " ".join(dict.fromkeys(params.get("scope", "").split()))
    code = sim.tokens.new_code(
        user, scope, params["redirect_uri"], params.get("code_challenge"), sim.clock.now_ms()
    )
    reply = {"code": code}
    if "state" in params:
        reply["state"] = params["state"]
    return _redirect(params["redirect_uri"], reply)


async def authorize(request: Request) -> Response:
    sim = _sim(request)
    params = dict(request.query_params)
    try:
        _check_request(sim, params)
    except Rejected as exc:
        return exc.response
    if sim.config.auto_consent:
        return _grant_code(sim, params)
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items()
    )
    user = sim.users[params.get("sim_user", sim.consent_user)]
    scopes = "".join(f"<li>{html.escape(s)}</li>" for s in params.get("scope", "").split())
    body = (
        "<!doctype html><title>Spotify (simulated) - Authorize</title>"
        f"<h1>Allow access for {html.escape(user.display_name)}?</h1><ul>{scopes}</ul>"
        f'<form method="post" action="/authorize/decision">{hidden}'
        '<button name="decision" value="agree">Agree</button>'
        '<button name="decision" value="cancel">Cancel</button></form>'
    )
    return HTMLResponse(body)


async def decide(request: Request) -> Response:
    sim = _sim(request)
    params = {k: v[-1] for k, v in parse_qs((await request.body()).decode()).items()}
    decision = params.pop("decision", "")
    try:
        _check_request(sim, params)
    except Rejected as exc:
        return exc.response
    if decision != "agree":
        state = {"state": params["state"]} if "state" in params else {}
        return _redirect(params["redirect_uri"], {"error": "access_denied", **state})
    return _grant_code(sim, params)


def _oauth_error(status: int, error: str, description: str) -> Rejected:
    return Rejected(json_response({"error": error, "error_description": description}, status))


def _client(request: Request, form: dict[str, str]) -> tuple[str | None, str | None]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    return form.get("client_id"), form.get("client_secret")


async def token(request: Request) -> Response:
    sim = _sim(request)
    now_ms = sim.sync()
    form = {k: v[-1] for k, v in parse_qs((await request.body()).decode()).items()}
    try:
        client_id, secret = _client(request, form)
        # Spotify answers bad client credentials with 400, not 401 (RFC 6749 allows either).
        if client_id != sim.config.client_id:
            raise _oauth_error(400, "invalid_client", "Invalid client")
        if secret is not None and secret != sim.config.client_secret:
            raise _oauth_error(400, "invalid_client", "Invalid client secret")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            body = _code_grant(sim, form, secret, now_ms)
        elif grant_type == "refresh_token":
            body = _refresh_grant(sim, form, secret, now_ms)
        elif grant_type == "client_credentials":
            if secret is None:
                raise _oauth_error(400, "invalid_client", "Invalid client")
            body = sim.tokens.app_token(now_ms)
        else:
            raise _oauth_error(
                400,
                "unsupported_grant_type",
                "grant_type must be client_credentials, authorization_code or refresh_token",
            )
    except Rejected as exc:
        return exc.response
    except GrantError as exc:
        return _oauth_error(400, "invalid_grant", str(exc)).response
    return json_response(body)


def _code_grant(
    sim: SimulatorCore, form: dict[str, str], secret: str | None, now_ms: int
) -> dict[str, object]:
    verifier = form.get("code_verifier")
    if secret is None and verifier is None:
        # A public client authenticates with the PKCE verifier; with neither it is anonymous.
        raise _oauth_error(400, "invalid_client", "Invalid client")
    code = sim.tokens.redeem_code(form.get("code", ""), form.get("redirect_uri"), verifier, now_ms)
    return sim.tokens.authorize(code.user_id, code.scope, now_ms, pkce=secret is None)


def _refresh_grant(
    sim: SimulatorCore, form: dict[str, str], secret: str | None, now_ms: int
) -> dict[str, object]:
    refresh = form.get("refresh_token")
    if not refresh:
        raise _oauth_error(400, "invalid_request", "refresh_token must be supplied")
    grant = sim.tokens.refresh.get(refresh)
    if secret is None and grant is not None and not grant.pkce:
        raise _oauth_error(400, "invalid_client", "Invalid client")
    return sim.tokens.refresh_grant(refresh, now_ms)


ROUTES = [
    Route("/authorize", authorize, methods=["GET"]),
    Route("/authorize/decision", decide, methods=["POST"]),
    Route("/api/token", token, methods=["POST"]),
]
