"""Which stored plays count, applied identically to imported and polled plays.

The defaults follow what Spotify itself counts: a stream counts when it played at least 30 s,
or when it played to the end (a 20-second interlude that finished is a real listen). Private
sessions and music videos do not count unless the user opts in. Callers keep every play with
its ``ms_played`` so the rules can change later and the ledger be rebuilt; ``decide`` only
decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from echostats.domain.plays import SCROBBLE_PRECISIONS, Play, SkipReason


@dataclass(frozen=True, slots=True)
class CountingRules:
    min_ms: int = 30_000
    count_if_played_to_end: bool = True
    include_incognito: bool = False
    include_videos: bool = False
    # Progress reports and ms_played stop a little short of duration_ms on a finished track.
    end_slack_ms: int = 2_000


DEFAULT_RULES = CountingRules()


def played_to_end(play: Play, rules: CountingRules = DEFAULT_RULES) -> bool:
    """The stream reached the end: the export says so, or it played (about) the whole length."""
    if play.ms_played <= 0:
        # "trackdone" with nothing played is a track that failed to load, not a listen.
        return False
    if play.reason_end == "trackdone":
        return True
    return play.duration_ms is not None and play.ms_played >= play.duration_ms - rules.end_slack_ms


def decide(play: Play, rules: CountingRules = DEFAULT_RULES) -> SkipReason | None:
    """``None`` when the play counts, else the reason it does not."""
    if play.incognito and not rules.include_incognito:
        return SkipReason.INCOGNITO
    if play.video and not rules.include_videos:
        return SkipReason.VIDEO
    if play.ms_played >= rules.min_ms:
        return None
    if rules.count_if_played_to_end and played_to_end(play, rules):
        return None
    if play.precision in SCROBBLE_PRECISIONS and play.duration_ms is None and play.ms_played == 0:
        return None  # the scrobbler judged it; we know no length to judge by
    return SkipReason.TOO_SHORT
