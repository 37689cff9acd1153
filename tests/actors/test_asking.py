"""Request/reply between actors: every way a request can end reaches the asker at once or by its
deadline — an answer, an actor that fails while handling it, one that never answers, one that is
gone."""

from __future__ import annotations

from dataclasses import dataclass

import anyio
import pytest

from actors.asking import NoAnswer, Reply, ask

pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class Double:
    value: int
    reply: Reply[int]


async def doubler(inbox: anyio.abc.ObjectReceiveStream[Double]) -> None:
    async with inbox:
        async for request in inbox:
            with request.reply:
                if request.value < 0:
                    raise ValueError("negative")  # an error the actor did not expect
                request.reply.send(request.value * 2)


async def test_an_answer_arrives() -> None:
    send, receive = anyio.create_memory_object_stream[Double](1)
    async with anyio.create_task_group() as tg:
        tg.start_soon(doubler, receive)
        answer = await ask(send, lambda r: Double(21, r), int, what="Doubling", timeout=5)
        assert answer == 42
        send.close()


async def test_an_actor_that_fails_while_handling_is_no_answer_at_once() -> None:
    send, receive = anyio.create_memory_object_stream[Double](1)
    crashes: list[ValueError] = []

    async def supervised() -> None:
        try:
            await doubler(receive)
        except ValueError as exc:
            crashes.append(exc)

    async with anyio.create_task_group() as tg:
        tg.start_soon(supervised)
        # Well before the ask's own deadline of a minute.
        with anyio.fail_after(2), pytest.raises(NoAnswer, match="stopped before it finished"):
            await ask(send, lambda r: Double(-1, r), int, what="Doubling", timeout=60)
    assert len(crashes) == 1


async def test_an_actor_that_never_answers_is_no_answer_at_the_deadline() -> None:
    send, receive = anyio.create_memory_object_stream[Double](1)
    held: list[Double] = []

    async def hoarder() -> None:
        async for request in receive:
            held.append(request)  # stuck, as behind a database that does not answer

    async with anyio.create_task_group() as tg:
        tg.start_soon(hoarder)
        with pytest.raises(NoAnswer) as no_answer:
            await ask(send, lambda r: Double(1, r), int, what="Doubling", timeout=0.3)
        assert "did not finish within 0.3 s" in no_answer.value.detail
        assert no_answer.value.status == 503
        tg.cancel_scope.cancel()
    assert len(held) == 1


async def test_a_full_inbox_counts_against_the_deadline_and_a_gone_actor_is_no_answer() -> None:
    send, receive = anyio.create_memory_object_stream[Double](0)  # nobody takes it
    with pytest.raises(NoAnswer, match=r"within 0\.2 s"):
        await ask(send, lambda r: Double(1, r), int, what="Doubling", timeout=0.2)
    receive.close()
    with pytest.raises(NoAnswer, match="stopped before it finished"):
        await ask(send, lambda r: Double(1, r), int, what="Doubling", timeout=5)
