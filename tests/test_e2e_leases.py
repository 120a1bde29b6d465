"""End to end: reminders are not lost when `python bot.py` is stopped (SIGTERM) or killed
(SIGKILL) in the middle of a batch, with every send slow. Twelve reminders are due at start; the
bot claims ten with a short lease and sends them one by one."""

from __future__ import annotations

import contextlib
import sqlite3
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from database.engine import Conn
from database.sqlite import SqliteDatabase
from domain.rules import Rules
from services.booking import ClientBookingService
from services.schedule import ScheduleService
from tests.support.botapi_emulator import BotAPIEmulator
from tests.test_e2e import TZ_NAME, assert_clean, bot_env, prepare_db, running_bot, t
from utils.hours import parse_weekly
from utils.timeutil import get_tz, system_clock, to_ts

pytestmark = pytest.mark.slow

CLIENTS = [800 + n for n in range(12)]
SEND_DELAY = 1.0  # seconds every sendMessage takes


async def twelve_due(db_path: Path) -> None:
    """Twelve bookings from three hours ahead, each with one reminder already due."""
    service_id = await prepare_db(db_path)
    tz = get_tz(TZ_NAME)
    now = system_clock()
    async with SqliteDatabase(db_path) as db:
        await ScheduleService(db).seed_weekly_hours(parse_weekly("mon-sun 00:00-24:00"))
        booking = ClientBookingService(db, Rules(tz, min_lead_minutes=0, reminder_offsets=()))
        starts = sorted(await booking.free_times(service_id, (now + timedelta(hours=26)).date()))
        for client, start in zip(CLIENTS, starts[::2], strict=False):
            made = await booking.book(client, service_id, start)
            assert made.booking is not None, made

        def due_now(conn: Conn) -> None:
            conn.execute(
                "INSERT INTO reminders (booking_id, kind, offset_minutes, due_at, status,"
                " updated_at) SELECT id, 'reminder', 60, ?, 'pending', ? FROM bookings",
                (to_ts(now) - 60, to_ts(now)),
            )

        await db.write(due_now)


def reminders_sent(api: BotAPIEmulator) -> Counter[int]:
    """Reminder messages Telegram received, by client (a call counts once it reached it)."""
    return Counter(
        int(call.params["chat_id"])
        for call in api.calls_of("sendMessage")
        if t("reminder.title") in str(call.params.get("text", ""))
    )


def states(db_path: Path) -> Counter[str]:
    """Reminders by status; ``in flight``: claimed rows whose send had started."""
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        rows = conn.execute(
            "SELECT status, attempt_started_at IS NOT NULL FROM reminders WHERE kind = 'reminder'"
        )
        found: Counter[str] = Counter()
        for status, started in rows:
            found[status] += 1
            found["in flight"] += status == "sending" and started
        return found


async def until_sent(api: BotAPIEmulator, count: int, timeout: float) -> None:  # noqa: ASYNC109
    await api.wait_for(lambda c: sum(reminders_sent(api).values()) >= count, timeout=timeout)


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGKILL"])
async def test_a_stop_mid_batch_loses_no_reminder_and_sends_none_twice(
    tmp_path: Path, stop: str
) -> None:
    db_path = tmp_path / "data" / "bot.db"
    await twelve_due(db_path)
    env = bot_env(
        "", db_path, REMINDER_POLL_SECONDS="1", REMINDER_LEASE_SECONDS="5", ADMIN_DIGEST_TIME=""
    )
    async with BotAPIEmulator() as api:
        env["TELEGRAM_API_URL"] = api.base_url
        api.send_delay = SEND_DELAY
        async with running_bot(env, tmp_path) as bot:
            await bot.while_running(until_sent(api, 3, 40), "three reminders")
            if stop == "SIGTERM":
                assert await bot.terminate() == 0, bot.output
                assert_clean(bot)
            else:
                await bot.kill()
        first = reminders_sent(api)
        after_stop = states(db_path)
        if stop == "SIGTERM":
            # The one being sent finished; the rest went back to the queue, none failed.
            assert after_stop["failed"] == 0 and after_stop["sending"] == 0
            assert after_stop["sent"] == sum(first.values())
        else:
            # Killed: its claims wait for the lease (5 s) in 'sending'; at most one send was in
            # flight (none if the kill fell between two sends).
            assert after_stop["sending"] >= 1 and after_stop["in flight"] <= 1

        async with running_bot(env, tmp_path) as bot:
            expected = 12 - after_stop["in flight"]  # killed: the one in flight is not re-sent
            await bot.while_running(until_sent(api, 12, 60), "the rest of the reminders")
            assert await bot.terminate() == 0, bot.output
            assert_clean(bot)

    sent = reminders_sent(api)
    assert set(sent) == set(CLIENTS)  # every client got their reminder
    assert max(sent.values()) == 1, sent  # and nobody got two
    final = states(db_path)
    assert final["sent"] == expected
    assert final["pending"] == 0 and final["failed"] == 0
    assert final["sending"] == after_stop["in flight"]  # failed once ten minutes pass
