"""End to end: `python bot.py` sends a due reminder over HTTP exactly once, and the client's
"I'll come" is recorded. The reminder is made due within a minute of start-up by booking
directly through ClientBookingService with a matching offset; the bot polls reminders every
second."""

from __future__ import annotations

import math
import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from database.sqlite import SqliteDatabase
from domain.rules import Rules
from services.booking import ClientBookingService
from services.schedule import ScheduleService
from tests.support.botapi_emulator import BotAPIEmulator, FakeUser
from tests.test_e2e import (
    TZ_NAME,
    assert_clean,
    bot_env,
    polling_started,
    prepare_db,
    press,
    running_bot,
    t,
)
from utils.hours import parse_weekly
from utils.timeutil import get_tz, local_today, system_clock, to_local

pytestmark = pytest.mark.slow

REMINDER_WAIT = 90.0  # the reminder is due 5-65 s after booking; polled every second


ADMIN = FakeUser(id=9001, first_name="Olga", username="olga")
ADMIN_CHAT = -1009001


async def book_soon(db_path: Path, service_id: int, client: FakeUser) -> tuple[int, int, datetime]:
    """Book the first start at least 3 minutes ahead; returns (booking id, offset minutes) with
    the offset chosen so that the reminder falls due within a minute (5 to 65 s) from now."""
    tz = get_tz(TZ_NAME)
    rules = Rules(tz, step_minutes=5, min_lead_minutes=0, horizon_days=2)
    async with SqliteDatabase(db_path) as db:
        await ScheduleService(db).seed_weekly_hours(parse_weekly("mon-sun 00:00-24:00"))
        probe = ClientBookingService(db, rules)
        now = system_clock()
        starts = [
            s
            for day in (local_today(tz, now), local_today(tz, now) + timedelta(days=1))
            for s in await probe.free_times(service_id, day)
            if s - now >= timedelta(minutes=3)
        ]
        start = starts[0]
        offset = math.floor((start - now - timedelta(seconds=5)).total_seconds() / 60)
        booking = ClientBookingService(db, replace(rules, reminder_offsets=(offset,)))
        result = await booking.book(client.id, service_id, start)
        assert result.booking is not None, result
        return result.booking.id, offset, start


async def test_a_due_reminder_arrives_once_and_i_will_come_is_recorded(tmp_path: Path) -> None:
    db_path = tmp_path / "data" / "bot.db"
    service_id = await prepare_db(db_path)
    ann = FakeUser(id=701, first_name="Ann", username="ann")
    booking_id, offset, start = await book_soon(db_path, service_id, ann)
    env = bot_env(
        "",
        db_path,
        REMINDER_POLL_SECONDS="1",
        REMINDER_OFFSETS=str(offset),
        ADMIN_IDS=str(ADMIN.id),
        ADMIN_CHAT_ID=str(ADMIN_CHAT),
        ADMIN_DIGEST_TIME="",
    )
    async with BotAPIEmulator() as api:
        env["TELEGRAM_API_URL"] = api.base_url
        async with running_bot(env, tmp_path) as bot:
            await polling_started(api, bot)
            call = await bot.while_running(
                api.wait_for_message(ann.id, contains=t("reminder.title"), timeout=REMINDER_WAIT),
                "the reminder",
                timeout=REMINDER_WAIT,
            )
            reminder = call.result
            assert "Haircut" in reminder["text"]
            answered = await press(api, ann, reminder, text=t("reminder.come"))
            assert answered["text"].endswith(t("reminder.confirmed_line"))
            # The staff see it in the agenda of that day.
            day = to_local(get_tz(TZ_NAME), start).date()
            mark = api.mark()
            api.send_message(ADMIN, f"/day {day.isoformat()}", chat_id=ADMIN_CHAT)
            agenda = await bot.while_running(
                api.wait_for_message(ADMIN_CHAT, contains="Ann", since=mark, timeout=20),
                "the agenda",
            )
            code = await bot.terminate()
        assert code == 0, bot.output
        assert_clean(bot)

    reminders = [m for m in api.sent_to(ann.id) if t("reminder.title") in str(m.get("text"))]
    assert len({m["message_id"] for m in reminders}) == 1  # one message (edited once), not two
    conn = sqlite3.connect(db_path)
    try:
        confirmed = conn.execute(
            "SELECT confirmed_at FROM bookings WHERE id = ?", (booking_id,)
        ).fetchone()[0]
        statuses = conn.execute(
            "SELECT status FROM reminders WHERE booking_id = ? AND kind = 'reminder'",
            (booking_id,),
        ).fetchall()
    finally:
        conn.close()
    assert confirmed is not None
    assert statuses == [("sent",)]
    agenda_text = str(agenda.result["text"])
    assert t("admin.confirmed.yes") in agenda_text
    assert t("admin.confirmed.no") not in agenda_text
