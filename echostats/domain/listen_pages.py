"""Reading a user's plays back the way ListenBrainz lists listens: by START time, newest first.

Only counted plays are listens. The ledger holds every play in memory, so a page is a mask
over the counted plays' starts and a sort of what remains.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from echostats.domain.ledger import instant_of, ms_of
from echostats.domain.ledger_view import LedgerView
from echostats.domain.plays import Play


@dataclass(frozen=True)
class ListenPage:
    plays: list[Play]  # newest start first
    newest_start: datetime | None  # of all the user's listens
    oldest_start: datetime | None


def listen_page(
    view: LedgerView,
    user_id: str,
    *,
    before: datetime | None,
    after: datetime | None,
    count: int,
) -> ListenPage:
    """Up to ``count`` counted plays that started strictly between ``after`` and ``before``:
    the newest ones, or with only ``after`` given the ones right after it."""
    counted = np.flatnonzero(view.counted)
    starts = view.columns.started[counted]
    inside = np.ones(len(counted), bool)
    if before is not None:
        inside &= starts < ms_of(before)
    if after is not None:
        inside &= starts > ms_of(after)
    chosen, chosen_starts = counted[inside], starts[inside]
    forward = after is not None and before is None  # paging towards newer listens
    order = np.argsort(chosen_starts if forward else -chosen_starts, kind="stable")
    picked = chosen[order[: max(count, 0)]]
    plays = sorted(
        (view.play(int(i), user_id) for i in picked), key=lambda p: p.started_at, reverse=True
    )
    return ListenPage(
        plays,
        instant_of(int(starts.max())) if len(starts) else None,
        instant_of(int(starts.min())) if len(starts) else None,
    )
