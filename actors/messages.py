"""Messages between actors: frozen dataclasses. A request that wants an answer carries a
``Reply`` to answer on (``actors/asking.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from actors.asking import Reply
from echostats.domain.plays import Play


@dataclass(frozen=True)
class BatchOutcome:
    """What the aggregator did with a batch."""

    stored: int  # new plays written
    merged: int  # stored plays improved by the batch (an export row replacing a polled play)
    duplicates: int  # plays already stored exactly as given (or repeated within the batch)
    counted: int  # of the stored and merged plays, how many pass the counting rules


@dataclass(frozen=True)
class AggregatorMessage:
    """Anything sent to the aggregator (the only writer of plays and the ledger)."""

    user_id: str


@dataclass(frozen=True)
class PlayBatch(AggregatorMessage):
    """Plays of one user to store (``dry_run``: only say what storing them would do)."""

    plays: tuple[Play, ...]
    reply: Reply[BatchOutcome] | None = field(default=None, compare=False)
    dry_run: bool = False


@dataclass(frozen=True)
class DeletePlay(AggregatorMessage):
    """Remove one stored play; the ledger follows. The reply says whether it existed."""

    play_id: str
    reply: Reply[bool] | None = field(default=None, compare=False)
