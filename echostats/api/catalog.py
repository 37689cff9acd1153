"""``/api/v1/catalog/merges``: a person's fixes to identity, listed, made and undone.

Identity links every spelling it can on its own (``echostats.domain.identity``); what no rule
can know — "Artist feat. X" credited as another artist, a remaster that is the same song to its
listener — a person merges here. A merge folds ``source`` into ``target`` for every figure,
past plays included, the moment it is made; deleting it undoes it just as fully. Nothing is
rewritten in between: identity is resolved when plays are read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from echostats.api.analytics_models import TopItem
from echostats.api.analytics_source import SECTION_OF_KIND, AnalyticsDep
from echostats.api.item_stats import MergeOut, merge_out
from echostats.domain.identity import Kind, key_of
from echostats.domain.ranking import Ranked
from echostats.errors import NotFound, Unprocessable
from echostats.store.identity_merges import IdentityMerges

router = APIRouter(prefix="/api/v1/catalog", tags=["catalog"])


class MergeIn(BaseModel):
    kind: Kind
    source: str = Field(
        min_length=1,
        max_length=300,
        description="id of what is merged away (Spotify id or name key)",
    )
    target: str = Field(min_length=1, max_length=300, description="id of what it becomes")


class MergesOut(BaseModel):
    items: list[MergeOut]


class FoundOut(BaseModel):
    items: list[TopItem]  # ranked by all-time plays; play_count/total_ms are all-time


@router.get(
    "/search",
    response_model=FoundOut,
    summary="Find tracks, artists or albums by name (what to merge)",
)
async def search(
    a: AnalyticsDep,
    kind: Kind,
    q: Annotated[str, Query(min_length=1, max_length=200, description="part of the name")],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> FoundOut:
    """Your tracks, artists or albums whose name holds ``q`` in any case and with any accents,
    most played first — every spelling each one was recorded under is already folded in."""
    view = await a.view()
    found = view.named(kind, q, limit)
    counts = view.counts(np.flatnonzero(view.counted), kind)
    ranked = [Ranked(e, int(counts.plays[e]), int(counts.ms[e])) for e in found]
    items = await a.top_items(SECTION_OF_KIND[kind], ranked, 1)
    return FoundOut(items=[TopItem(**item) for item in items])


@router.get("/merges", response_model=MergesOut, summary="Your merges, oldest first")
async def merges(a: AnalyticsDep) -> MergesOut:
    records = await IdentityMerges(a.store).records(a.user.id)
    return MergesOut(items=[merge_out(r) for r in records])


@router.post(
    "/merges",
    response_model=MergeOut,
    status_code=201,
    summary="Merge one track, artist or album into another",
)
async def merge(a: AnalyticsDep, body: MergeIn) -> MergeOut:
    ident = (await a.view()).identity
    entities = ident.entities(body.kind)
    source, target = key_of(body.kind, body.source), key_of(body.kind, body.target)
    found_source, found_target = entities.find(source), entities.find(target)
    if found_source is None or found_target is None:
        missing = body.source if found_source is None else body.target
        raise Unprocessable(f"No {body.kind.value} with the id {missing!r} is known here.")
    if found_source == found_target:
        raise Unprocessable(f"These are already one {body.kind.value}: there is nothing to merge.")
    names = (entities.name(found_source), entities.name(found_target))
    made = await IdentityMerges(a.store).add(
        a.user.id, body.kind, source, target, datetime.now(UTC), names=names
    )
    return merge_out(made)


@router.delete(
    "/merges/{merge_id}",
    status_code=204,
    response_class=Response,
    summary="Undo a merge (every figure is as it was before it)",
)
async def unmerge(a: AnalyticsDep, merge_id: Annotated[str, Path(max_length=64)]) -> Response:
    if not await IdentityMerges(a.store).remove(a.user.id, merge_id):
        raise NotFound("You have no merge with that id.")
    return Response(status_code=204)
