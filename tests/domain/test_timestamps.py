from datetime import UTC, datetime, timedelta, timezone

import pytest

from echostats.domain.timestamps import iso_utc


def test_every_instant_has_one_width_so_text_sorts_as_time() -> None:
    whole = datetime(2026, 11, 27, 5, 9, 59, tzinfo=UTC)
    later = whole + timedelta(milliseconds=701)
    assert iso_utc(whole) == "2026-11-27T05:09:59.000Z"
    assert iso_utc(later) == "2026-11-27T05:09:59.701Z"
    assert sorted([iso_utc(later), iso_utc(whole)]) == [iso_utc(whole), iso_utc(later)]


def test_other_zones_are_shown_in_utc_and_naive_values_are_refused() -> None:
    paris = datetime(2026, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    assert iso_utc(paris) == "2026-06-01T12:00:00.000Z"
    with pytest.raises(TypeError, match="naive"):
        iso_utc(datetime(2026, 6, 1, 12, 0))
