"""Sign-in with Spotify, sessions, and the ``current_user`` dependency every /api/v1 route uses."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel

from echostats.api.ratelimit import RateLimiter, client_address
from echostats.api.timestamps import Timestamp
from echostats.errors import (
    BadRequest,
    EchoStatsError,
    NotAuthenticated,
    NotFound,
    SpotifyError,
    SpotifyRateLimited,
    SpotifyReauthRequired,
    SpotifyUnavailable,
)
from echostats.security.sessions import InvalidSession, SessionSigner
from echostats.settings import Settings
from echostats.spotify import SpotifyClient
from echostats.store.oauth_states import OAuthStates
from echostats.store.tokens import EncryptedTokenStore
from echostats.store.users import Profile, User, Users

log = logging.getLogger(__name__)

SESSION_COOKIE = "session"
# Set by "Sign out everywhere": this browser asked to be signed out, so single-user auto-login
# leaves it alone until someone signs in on it again.
SIGNED_OUT_COOKIE = "signed_out"
DASHBOARD = "/"


@dataclass
class AuthContext:
    """Everything sign-in needs; built once by the composition root."""

    settings: Settings
    users: Users
    tokens: EncryptedTokenStore
    states: OAuthStates
    signer: SessionSigner
    spotify: SpotifyClient
    http: httpx.AsyncClient
    limiter: RateLimiter
    on_first_sign_in: Callable[[str], Awaitable[None]]
    now: Callable[[], datetime]
    # Called after every successful sign-in (e.g. to resume polling after a re-sign-in).
    on_sign_in: Callable[[str], None] | None = None


def _auth(request: Request) -> AuthContext:
    context: AuthContext = request.app.state.auth
    return context


Auth = Annotated[AuthContext, Depends(_auth)]


# --- sessions ---------------------------------------------------------------------------------


def _presented_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(SESSION_COOKIE) or None


async def _session_user(request: Request, auth: AuthContext) -> User:
    token = _presented_token(request)
    if token is None:
        raise NotAuthenticated("Sign in first: this request carries no session.")
    try:
        claims = auth.signer.verify(token)
    except InvalidSession:
        raise NotAuthenticated("Your session is not valid or has expired; sign in again.") from None
    user = await auth.users.get(claims.user_id)
    if user is None:
        raise NotAuthenticated("Your session belongs to no known user; sign in again.")
    if claims.version != user.session_version:
        raise NotAuthenticated("This session was signed out; sign in again.")
    return user


async def current_user(request: Request, auth: Auth) -> User:
    return await _session_user(request, auth)


CurrentUser = Annotated[User, Depends(current_user)]


def _set_session_cookie(response: Response, auth: AuthContext, user: User) -> None:
    token = auth.signer.issue(user.id, user.session_version, auth.now())
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(auth.signer.ttl.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=auth.settings.secure_cookies,
    )
    response.delete_cookie(
        SIGNED_OUT_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=auth.settings.secure_cookies,
    )


def _to_dashboard(auth: AuthContext, user: User) -> RedirectResponse:
    """The answer to a completed sign-in: the dashboard, with the session cookie set."""
    response = RedirectResponse(DASHBOARD, status_code=303)
    _set_session_cookie(response, auth, user)
    return response


def _limit(request: Request, auth: AuthContext) -> None:
    auth.limiter.hit(
        client_address(request, auth.settings.trusted_proxy_networks), "sign-in requests"
    )


# --- the sign-in itself -------------------------------------------------------------------------


class SignInFailed(SpotifyError):
    """Spotify did not complete the code exchange (502)."""


async def _complete_sign_in(auth: AuthContext, code: str, code_verifier: str) -> User:
    try:
        tokens = await auth.spotify.exchange_code(code, code_verifier)
        profile = await auth.spotify.profile_for_tokens(tokens)
    except SpotifyRateLimited:
        raise
    except SpotifyError as exc:
        raise SignInFailed(f"Spotify did not complete the sign-in: {exc.detail}") from None
    image = profile.images[0].url if profile.images else None
    user, created = await auth.users.upsert_from_profile(
        Profile(
            spotify_id=profile.id,
            display_name=profile.display_name,
            image_url=image,
            product=profile.product,
        ),
        auth.now(),
    )
    await auth.tokens.save(user.id, tokens)
    auth.spotify.tokens.forget(user.id)  # a cached token from an earlier sign-in is stale now
    if created:
        await auth.on_first_sign_in(user.id)
    if auth.on_sign_in is not None:
        auth.on_sign_in(user.id)
    return user


async def demo_sign_in(auth: AuthContext) -> User:
    """Sign in the simulator's demo listener through the real OAuth flow, with the server
    playing the browser's part: the simulator consents and redirects to our callback."""
    pending = auth.spotify.begin_authorization()
    await auth.states.remember(pending.state, pending.code_verifier, "demo", auth.now())
    try:
        consent = await auth.http.get(pending.url, follow_redirects=False)
    except httpx.HTTPError:
        raise SpotifyUnavailable("The Spotify simulator did not answer.") from None
    query = parse_qs(urlsplit(consent.headers.get("location", "")).query)
    code, state = query.get("code", [""])[0], query.get("state", [""])[0]
    if consent.status_code not in {302, 303} or not code or state != pending.state:
        raise SignInFailed("The Spotify simulator did not consent to the demo sign-in.")
    consumed = await auth.states.consume(state, auth.now())
    return await _complete_sign_in(auth, code, consumed.code_verifier)


async def renew_demo_sign_in(auth: AuthContext) -> None:
    """Demo mode, at start: the simulator is a new Spotify at every start and knows none of the
    tokens an earlier run stored, so a demo listener who signed in before is signed in again
    before polling starts — otherwise the first refresh is refused and recording stops for good.
    (A real Spotify keeps its grants across our restarts; this never runs outside demo mode.)"""
    try:
        if not await auth.users.all_ids():
            return  # the first start: the person signs in from the dashboard
        user = await demo_sign_in(auth)
    except EchoStatsError as exc:  # Spotify refused, or the database is away (StoreUnavailable)
        # The demo still starts; the dashboard's sign-in button mends it.
        log.warning("the demo listener could not be signed in again", extra={"error": str(exc)})
        return
    log.info("demo listener signed in again for the new simulator", extra={"user_id": user.id})


# --- routes -------------------------------------------------------------------------------------

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class LoginOut(BaseModel):
    url: str
    state: str


class UserOut(BaseModel):
    id: str
    spotify_id: str | None  # None: a local user (``echostats add-user``), without Spotify
    display_name: str | None
    image_url: str | None
    product: str | None


class StatusOut(BaseModel):
    authenticated: bool
    demo_mode: bool = False
    user: UserOut | None = None
    token_expires_at: Timestamp | None = None
    spotify_reauth_required: bool | None = None


class RefreshOut(BaseModel):
    status: Literal["refreshed"]
    token_expires_at: Timestamp


class LogoutOut(BaseModel):
    status: Literal["logged_out"]


@router.get(
    "/login",
    response_model=LoginOut,
    summary="Start signing in with Spotify",
    responses={
        302: {"description": "Browser: redirect to Spotify"},
        429: {"description": "Too many sign-in requests from this client"},
    },
)
async def login(request: Request, auth: Auth) -> Response:
    _limit(request, auth)
    pending = auth.spotify.begin_authorization()
    await auth.states.remember(pending.state, pending.code_verifier, "login", auth.now())
    if "text/html" in request.headers.get("accept", ""):
        return RedirectResponse(pending.url, status_code=302)
    return JSONResponse(LoginOut(url=pending.url, state=pending.state).model_dump())


@router.get(
    "/callback",
    summary="Spotify redirects here after consent",
    status_code=303,
    response_class=RedirectResponse,
    responses={
        303: {"description": "Signed in: redirect to the dashboard"},
        400: {"description": "Spotify reported an error, or the state is missing or not valid"},
        429: {"description": "Too many sign-in requests from this client"},
        502: {"description": "Spotify did not complete the code exchange"},
    },
)
async def callback(
    request: Request,
    auth: Auth,
    code: Annotated[str | None, Query(max_length=2048)] = None,
    state: Annotated[str | None, Query(max_length=256)] = None,
    error: Annotated[str | None, Query(max_length=256)] = None,
) -> RedirectResponse:
    _limit(request, auth)
    if error:
        if state:
            # Burn the state so the same link cannot be replayed with a forged code.
            with contextlib.suppress(BadRequest):
                await auth.states.consume(state, auth.now())
        reason = "you declined access" if error == "access_denied" else f"Spotify said {error!r}"
        raise BadRequest(f"Spotify sign-in did not complete: {reason}.")
    if not state:
        raise BadRequest("The sign-in callback has no state; start the sign-in again.")
    if not code:
        raise BadRequest("The sign-in callback has no code; start the sign-in again.")
    pending = await auth.states.consume(state, auth.now())
    return _to_dashboard(auth, await _complete_sign_in(auth, code, pending.code_verifier))


@router.get(
    "/link",
    summary="Sign in with a single-use link from `echostats sign-in-link`",
    status_code=303,
    response_class=RedirectResponse,
    responses={
        303: {"description": "Signed in: redirect to the dashboard"},
        400: {"description": "The link was used already, has expired or is not one"},
        429: {"description": "Too many sign-in requests from this client"},
    },
)
async def sign_in_link(
    request: Request, auth: Auth, token: Annotated[str, Query(max_length=64)]
) -> RedirectResponse:
    _limit(request, auth)
    user = await auth.users.redeem_sign_in_link(token, auth.now())
    if user is None:
        raise BadRequest(
            "This sign-in link was used already or has expired; ask for a new one "
            "(echostats sign-in-link USER_ID)."
        )
    return _to_dashboard(auth, user)


@router.get("/status", response_model=StatusOut, summary="Who is signed in")
async def status(request: Request, response: Response, auth: Auth) -> StatusOut:
    user: User | None
    try:
        user = await _session_user(request, auth)
    except NotAuthenticated:
        user = None
        if auth.settings.auto_login_enabled and SIGNED_OUT_COOKIE not in request.cookies:
            user = await auth.users.only_user()
            if user is not None:
                _set_session_cookie(response, auth, user)
    demo = auth.settings.demo_mode
    if user is None:
        return StatusOut(authenticated=False, demo_mode=demo)
    health = await auth.tokens.health(user.id)
    return StatusOut(
        authenticated=True,
        demo_mode=demo,
        user=UserOut(
            id=user.id,
            spotify_id=user.spotify_id,
            display_name=user.display_name,
            image_url=user.image_url,
            product=user.product,
        ),
        token_expires_at=health.expires_at if health else None,
        # A local user has no Spotify connection to renew.
        spotify_reauth_required=(
            None if user.spotify_id is None else health.reauth_required if health else True
        ),
    )


@router.post(
    "/refresh",
    response_model=RefreshOut,
    summary="Refresh the Spotify token now",
    responses={
        429: {"description": "Too many sign-in requests from this client, or from Spotify"},
        502: {"description": "Spotify did not answer"},
    },
)
async def refresh(request: Request, auth: Auth, user: CurrentUser) -> RefreshOut:
    _limit(request, auth)
    try:
        tokens = await auth.spotify.refresh(user.id)
    except SpotifyReauthRequired as exc:
        await auth.tokens.mark_reauth_required(user.id, exc.detail)
        raise NotAuthenticated(
            "Spotify no longer accepts this connection; sign in with Spotify again."
        ) from None
    return RefreshOut(status="refreshed", token_expires_at=tokens.expires_at)


@router.post("/logout", response_model=LogoutOut, summary="Sign out everywhere")
async def logout(auth: Auth, user: CurrentUser) -> JSONResponse:
    await auth.users.bump_session_version(user.id)
    response = JSONResponse(LogoutOut(status="logged_out").model_dump())
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=auth.settings.secure_cookies
    )
    response.set_cookie(
        SIGNED_OUT_COOKIE,
        "1",
        max_age=int(auth.signer.ttl.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=auth.settings.secure_cookies,
    )
    return response


@router.get(
    "/demo-login",
    summary="Demo mode only: sign in the simulator's demo user",
    status_code=303,
    response_class=RedirectResponse,
    responses={
        303: {"description": "Signed in"},
        404: {"description": "Not in demo mode"},
        429: {"description": "Too many sign-in requests from this client"},
        502: {"description": "The Spotify simulator did not complete the sign-in"},
    },
)
async def demo_login(request: Request, auth: Auth) -> RedirectResponse:
    if not auth.settings.demo_mode:
        raise NotFound("Demo sign-in exists only in demo mode.")
    _limit(request, auth)
    user = await demo_sign_in(auth)
    response = RedirectResponse(DASHBOARD, status_code=303)
    _set_session_cookie(response, auth, user)
    return response
