"""Pure decisions of the poller: what a now-playing sample means, when to look again, and what
a recently-played page says about lost plays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

RECENT_PAGE = 50  # Spotify keeps (and returns) at most the last 50 plays


@dataclass(frozen=True, slots=True)
class NowPlaying:
    """One sample of the player, reduced to what listeners of the now-playing stream see."""

    track_id: str | None
    track_name: str | None
    artists: tuple[str, ...]
    album: str | None
    image_url: str | None
    progress_ms: int | None
    duration_ms: int | None
    is_playing: bool
    device: str | None
    at: datetime

    @property
    def idle(self) -> bool:
        return self.track_id is None and self.track_name is None

    def key(self) -> tuple[str | None, str | None, bool, str | None]:
        """What must change for the stream to hear about it (progress alone does not count)."""
        return (self.track_id, self.track_name, self.is_playing and not self.idle, self.device)


def state_changed(previous: NowPlaying | None, current: NowPlaying) -> bool:
    """A track change, play/pause or device switch; the first sample counts unless idle."""
    if previous is None:
        return not current.idle
    return previous.key() != current.key()


def track_changed(previous: NowPlaying | None, current: NowPlaying) -> bool:
    """Did a play (possibly) just finish? Then recently-played has news."""
    if previous is None or previous.idle:
        return False
    return (previous.track_id, previous.track_name) != (current.track_id, current.track_name)


def sample_interval(
    current: NowPlaying, previous_interval: float, playing: float, idle: float
) -> float:
    """Seconds until the next sample: ``playing`` while music plays (sooner if the track ends
    before that, so the change is seen at once); when idle or paused, doubling towards ``idle``.
    """
    if current.is_playing and not current.idle:
        if current.duration_ms is not None and current.progress_ms is not None:
            left = (current.duration_ms - current.progress_ms) / 1000 + 0.5
            return max(0.5, min(playing, left))
        return playing
    return min(idle, max(playing, previous_interval * 2))


@dataclass(frozen=True, slots=True)
class PageVerdict:
    complete: bool  # every play since the cursor is in the page
    needs_check: bool  # a full page after the cursor: look at the newest 50 to be sure


def judge_page(cursor_ms: int | None, played_at_ms: Sequence[int]) -> PageVerdict:
    """Judge a page read with ``after=cursor``: fewer than 50 items means nothing was missed;
    a full page may hide a loss (only the last 50 plays exist), so it has to be checked."""
    if cursor_ms is None or len(played_at_ms) < RECENT_PAGE:
        return PageVerdict(complete=True, needs_check=False)
    return PageVerdict(complete=False, needs_check=True)


def lost_range(cursor_ms: int, newest_page_ms: Sequence[int]) -> tuple[int, int] | None:
    """From the newest 50 plays (any order): ``(cursor, oldest)`` when they do not reach back to
    the cursor, i.e. plays between the two were lost; None when they overlap."""
    if not newest_page_ms:
        return None
    oldest = min(newest_page_ms)
    if len(newest_page_ms) >= RECENT_PAGE and oldest > cursor_ms:
        return cursor_ms, oldest
    return None
