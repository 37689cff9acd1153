from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import anyio
import pytest
from anyio.abc import TaskStatus

from actors.supervisor import ActorStatus, Backoff, Supervisor, describe_error
from echostats.errors import StoreUnavailable

pytestmark = pytest.mark.anyio

FAST = Backoff(initial=0.01, factor=2, maximum=0.04, healthy_after=60)


async def wait_until(condition: Callable[[], bool], within: float = 5) -> None:
    with anyio.fail_after(within):
        while not condition():
            await anyio.sleep(0.005)


def restart_delays(caplog: pytest.LogCaptureFixture) -> list[float]:
    """The delay of every restart the log announces (crashes, and pauses for the database)."""
    return [r.__dict__["restart_in_s"] for r in caplog.records if "restart_in_s" in r.__dict__]


def test_backoff_grows_exponentially_up_to_its_cap() -> None:
    backoff = Backoff(initial=0.5, factor=2, maximum=10)
    assert [backoff.delay(n) for n in range(1, 8)] == [0.5, 1, 2, 4, 8, 10, 10]
    assert backoff.delay(100_000) == 10


@pytest.mark.parametrize(
    ("initial", "factor", "maximum"), [(0, 2, 1), (-1, 2, 1), (0.5, 0.5, 1), (2, 2, 1)]
)
def test_backoff_that_could_spin_or_shrink_is_refused(
    initial: float, factor: float, maximum: float
) -> None:
    with pytest.raises(ValueError, match="backoff"):
        Backoff(initial=initial, factor=factor, maximum=maximum)


def test_error_text_keeps_our_sentences_but_not_library_messages() -> None:
    assert describe_error(StoreUnavailable("The database is down.")) == (
        "StoreUnavailable: The database is down."
    )
    assert describe_error(RuntimeError("GET /me?access_token=secret failed")) == "RuntimeError"
    assert len(describe_error(StoreUnavailable("x" * 1000))) == 200


async def test_crashing_actor_is_restarted_with_backoff_and_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="actors.supervisor")
    runs = 0

    async def flaky(*, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        nonlocal runs
        runs += 1
        if runs <= 3:
            raise RuntimeError(f"boom {runs}")
        task_status.started()
        await anyio.sleep_forever()

    async with anyio.create_task_group() as tg:
        supervisor = Supervisor(tg, FAST)
        with anyio.fail_after(5):
            await supervisor.start("flaky", flaky)  # returns after the first failed attempt
        await wait_until(lambda: supervisor.liveness()["flaky"].alive)
        status = supervisor.liveness()["flaky"]
        assert status.restarts == 3
        assert status.last_error == "RuntimeError"
        assert status.last_started_at is not None
        tg.cancel_scope.cancel()
    assert restart_delays(caplog) == [0.01, 0.02, 0.04]
    crash = next(r for r in caplog.records if r.msg.startswith("actor crashed"))
    assert crash.__dict__["actor"] == "flaky"
    assert crash.exc_info is not None


async def test_actor_that_keeps_crashing_waits_the_capped_delay_each_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="actors.supervisor")

    async def broken(*, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        raise StoreUnavailable("The database is down.")

    async with anyio.create_task_group() as tg:
        supervisor = Supervisor(tg, FAST)
        await supervisor.start("broken", broken)
        await wait_until(lambda: supervisor.liveness()["broken"].restarts >= 6)
        status = supervisor.liveness()["broken"]
        assert not status.alive
        assert status.last_started_at is None
        assert status.last_error == "StoreUnavailable: The database is down."
        tg.cancel_scope.cancel()
    assert restart_delays(caplog)[:6] == [0.01, 0.02, 0.04, 0.04, 0.04, 0.04]


async def test_backoff_resets_after_a_healthy_run(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="actors.supervisor")
    now = [0.0]
    runs = 0

    async def crashes_late(*, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        nonlocal runs
        runs += 1
        task_status.started()
        if runs == 3:
            now[0] += FAST.healthy_after  # this run stayed up long enough to count as healthy
        raise RuntimeError("late")

    async with anyio.create_task_group() as tg:
        supervisor = Supervisor(tg, FAST, monotonic=lambda: now[0])
        await supervisor.start("late", crashes_late)
        await wait_until(lambda: supervisor.liveness()["late"].restarts >= 4)
        tg.cancel_scope.cancel()
    assert restart_delays(caplog)[:4] == [0.01, 0.02, 0.01, 0.02]


async def test_cancellation_stops_every_actor_without_restarts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="actors.supervisor")
    stopped: list[str] = []

    def forever(name: str) -> Callable[..., Awaitable[None]]:
        async def run(*, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
            task_status.started()
            try:
                await anyio.sleep_forever()
            finally:
                stopped.append(name)

        return run

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            supervisor = Supervisor(tg, FAST)
            await supervisor.start("poller", forever("poller"))
            await supervisor.start("aggregator", forever("aggregator"))
            assert supervisor.liveness() == {
                name: ActorStatus(True, 0, None, supervisor.liveness()[name].last_started_at)
                for name in ("poller", "aggregator")
            }
            tg.cancel_scope.cancel()
    assert sorted(stopped) == ["aggregator", "poller"]
    assert {s.alive for s in supervisor.liveness().values()} == {False}
    assert {s.restarts for s in supervisor.liveness().values()} == {0}
    assert restart_delays(caplog) == []


async def test_actor_that_returns_is_finished_not_restarted() -> None:
    async def one_shot(*, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        task_status.started()

    async with anyio.create_task_group() as tg:
        supervisor = Supervisor(tg, FAST)
        with anyio.fail_after(5):
            await supervisor.start("one-shot", one_shot)
    status = supervisor.liveness()["one-shot"]
    assert (status.alive, status.restarts, status.last_error) == (False, 0, None)


async def test_finished_is_told_once_the_actor_is_done_for_good_not_after_a_crash() -> None:
    """The hub closes an actor's stream ends on ``finished``: a restart must keep them."""
    finished: list[str] = []
    runs = 0

    async def crash_then_return(
        *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        nonlocal runs
        runs += 1
        task_status.started()
        if runs == 1:
            raise RuntimeError("first run crashes")

    async def forever(*, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        await anyio.sleep_forever()

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            supervisor = Supervisor(tg, FAST)
            await supervisor.start(
                "returns", crash_then_return, finished=lambda: finished.append("returns")
            )
            await supervisor.start("forever", forever, finished=lambda: finished.append("forever"))
            await wait_until(lambda: finished == ["returns"])
            assert runs == 2
            tg.cancel_scope.cancel()
    assert finished == ["returns", "forever"]


async def test_names_are_unique() -> None:
    async def idle(*, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        await anyio.sleep_forever()

    async with anyio.create_task_group() as tg:
        supervisor = Supervisor(tg, FAST)
        await supervisor.start("idle", idle)
        with pytest.raises(ValueError, match="already supervised"):
            await supervisor.start("idle", idle)
        tg.cancel_scope.cancel()


async def test_an_actor_that_never_gets_ready_does_not_hold_up_start(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Its first attempt neither says it is ready nor fails (a database call that never
    # answers): start gives up waiting, the actor goes on starting, and it counts as not alive
    # until it is ready.
    may_start = anyio.Event()

    async def stuck(*, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        await may_start.wait()
        task_status.started()
        await anyio.sleep_forever()

    async with anyio.create_task_group() as tg:
        supervisor = Supervisor(tg, FAST, first_start_timeout=0.05)
        with anyio.fail_after(5):
            await supervisor.start("stuck", stuck)
        assert supervisor.liveness()["stuck"].alive is False
        assert any(r.msg.startswith("actor not ready yet") for r in caplog.records)
        may_start.set()
        await wait_until(lambda: supervisor.liveness()["stuck"].alive)
        tg.cancel_scope.cancel()
