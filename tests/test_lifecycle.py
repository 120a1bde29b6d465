"""Shutdown lets updates and jobs in flight finish, within a deadline."""

from __future__ import annotations

import asyncio

from utils.lifecycle import InFlight


async def test_drain_waits_for_tracked_work_to_finish() -> None:
    in_flight = InFlight()
    release = asyncio.Event()
    finished: list[str] = []

    async def handler() -> None:
        with in_flight.track():
            await release.wait()
            finished.append("confirmation saved")

    task = asyncio.create_task(handler())
    await asyncio.sleep(0)
    assert len(in_flight) == 1
    drain = asyncio.create_task(in_flight.drain(timeout=5))
    await asyncio.sleep(0)
    assert not drain.done()  # still waiting for the handler
    release.set()
    assert await drain == 0
    assert finished == ["confirmation saved"]
    assert len(in_flight) == 0
    await task


async def test_drain_gives_up_at_the_deadline_and_says_how_many_are_left() -> None:
    in_flight = InFlight()
    never = asyncio.Event()

    async def stuck() -> None:
        with in_flight.track():
            await never.wait()

    task = asyncio.create_task(stuck())
    await asyncio.sleep(0)
    assert await in_flight.drain(timeout=0.01) == 1
    task.cancel()


async def test_nothing_in_flight_returns_at_once() -> None:
    assert await InFlight().drain(timeout=0) == 0
