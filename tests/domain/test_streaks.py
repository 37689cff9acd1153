from __future__ import annotations

from datetime import date, timedelta

from echostats.domain.streaks import Run, longest_run, streaks


def test_streaks() -> None:
    today = date(2024, 4, 10)

    def days(*offsets: int) -> list[date]:
        return [today - timedelta(days=o) for o in offsets]

    assert streaks([], today) == streaks(days(), today)
    assert (streaks([], today).current, streaks([], today).longest) == (0, 0)
    assert streaks(days(0, 1, 2), today).current == 3
    assert streaks(days(1, 2), today).current == 2  # today not played yet: streak still alive
    assert streaks(days(2, 3, 4, 5), today).current == 0
    assert streaks(days(2, 3, 4, 5), today).longest == 4
    assert streaks(days(0, 0, 1, 5, 6, 7, 8, 9, 20), today).longest == 5
    assert streaks(days(0, 1, 5, 6, 7, 8, 9, 20), today).current == 2
    assert streaks(days(-1, 0), today).current == 1  # future days are ignored
    # across a month and year boundary
    assert streaks([date(2023, 12, 31), date(2024, 1, 1)], date(2024, 1, 1)).longest == 2


def test_longest_run_has_its_dates() -> None:
    d = date(2024, 1, 1)
    assert longest_run([]) is None
    run = longest_run([d, d + timedelta(days=1), d + timedelta(days=5), d + timedelta(days=6),
                       d + timedelta(days=7), d + timedelta(days=7)])  # fmt: skip
    assert run == Run(d + timedelta(days=5), d + timedelta(days=7))
    assert run.days == 3
    assert longest_run([d, d + timedelta(days=2)]) == Run(d, d)  # the earliest of equals
