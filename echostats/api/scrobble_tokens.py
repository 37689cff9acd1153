"""``/api/v1/scrobble-tokens``: the tokens players use with the ListenBrainz API.

A token is shown once, when it is made; afterwards it is listed by name only. Revoking it
refuses the very next request that carries it. The ListenBrainz user name a scrobbler asks for
is the EchoStats user id (``GET /api/v1/me``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from echostats.api.auth import CurrentUser
from echostats.api.timestamps import Timestamp
from echostats.errors import Conflict, NotFound, Unprocessable
from echostats.store.scrobble_tokens import MAX_TOKENS_PER_USER, ScrobbleToken, ScrobbleTokens

router = APIRouter(prefix="/api/v1/scrobble-tokens", tags=["scrobbling"])


class TokenIn(BaseModel):
    name: str = Field(
        min_length=1, max_length=100, description="What the token is for, e.g. 'Navidrome'"
    )


class TokenOut(BaseModel):
    id: str
    name: str
    created_at: Timestamp


class NewTokenOut(TokenOut):
    token: str = Field(description="The secret: shown this once, never again")


def _tokens(request: Request) -> ScrobbleTokens:
    return ScrobbleTokens(request.app.state.store)


def _out(token: ScrobbleToken) -> TokenOut:
    return TokenOut(id=token.id, name=token.name, created_at=token.created_at)


@router.post(
    "",
    status_code=201,
    response_model=NewTokenOut,
    summary="Make a scrobble token (its secret is shown this once)",
    responses={409: {"description": "You have as many tokens as one person may have."}},
)
async def create_token(request: Request, user: CurrentUser, body: TokenIn) -> NewTokenOut:
    name = body.name.strip()
    if not name:
        raise Unprocessable("Give the token a name, such as the player that will use it.")
    tokens = _tokens(request)
    if await tokens.count(user.id) >= MAX_TOKENS_PER_USER:
        raise Conflict(f"You have {MAX_TOKENS_PER_USER} scrobble tokens already; revoke one first.")
    token, secret = await tokens.create(user.id, name, request.app.state.auth.now())
    return NewTokenOut(**_out(token).model_dump(), token=secret)


@router.get("", response_model=list[TokenOut], summary="Your scrobble tokens (without secrets)")
async def list_tokens(request: Request, user: CurrentUser) -> list[TokenOut]:
    return [_out(token) for token in await _tokens(request).of_user(user.id)]


@router.delete(
    "/{token_id}",
    status_code=204,
    response_class=Response,
    summary="Revoke a scrobble token at once",
    responses={404: {"description": "You have no token with that id."}},
)
async def revoke_token(
    request: Request, user: CurrentUser, token_id: Annotated[str, Path(max_length=64)]
) -> Response:
    if not await _tokens(request).revoke(user.id, token_id):
        raise NotFound("You have no scrobble token with that id.")
    return Response(status_code=204)
