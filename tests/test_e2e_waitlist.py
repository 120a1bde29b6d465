"""End to end: `python bot.py` polling the local Bot API emulator over HTTP. A day is full; Ann
joins its waitlist from the calendar; Bob cancels; within one poll interval Ann is offered the
time, held for her, and books it; Carol, looking at the calendar during the hold, never sees
that time."""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from handlers.callback_data import DayCb, JoinCb, TimeCb, WaitCb
from tests.support.botapi_emulator import BotAPIEmulator, FakeUser
from tests.test_e2e import (
    JSON,
    STEP_TIMEOUT,
    TZ_NAME,
    assert_clean,
    bot_env,
    data_with,
    polling_started,
    prepare_db,
    press,
    running_bot,
    say,
    t,
    to_calendar,
)
from tests.test_e2e_admin import ADMIN, GROUP, admin_says
from utils.formatting import day_long
from utils.timeutil import get_tz, local_today, system_clock

pytestmark = pytest.mark.slow

ANN = FakeUser(id=811, first_name="Ann", language_code="en")
BOB = FakeUser(id=812, first_name="Bob", language_code="en")
CAROL = FakeUser(id=813, first_name="Carol", language_code="en")
POLL_SECONDS = 2


async def month_of(api: BotAPIEmulator, user: FakeUser, calendar: JSON, day: date) -> JSON:
    """The calendar turned to the month of ``day`` (it opens on today's)."""
    today = local_today(get_tz(TZ_NAME), system_clock())
    if (today.year, today.month) != (day.year, day.month):
        return await press(api, user, calendar, text="▶")
    return calendar


def packed(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


async def test_a_waiter_gets_the_freed_time_and_nobody_else_sees_it(tmp_path: Path) -> None:
    db_path = tmp_path / "data" / "bot.db"
    service_id = await prepare_db(db_path)
    env = bot_env(
        "",
        db_path,
        ADMIN_IDS=str(ADMIN.id),
        ADMIN_CHAT_ID=str(GROUP),
        REMINDER_POLL_SECONDS=str(POLL_SECONDS),
        WAITLIST_HOLD_MINUTES="15",
    )
    day = local_today(get_tz(TZ_NAME), system_clock()) + timedelta(days=2)
    async with BotAPIEmulator() as api:
        env["TELEGRAM_API_URL"] = api.base_url
        async with running_bot(env, tmp_path) as bot:
            await polling_started(api, bot)
            # The day has one hour, and Bob takes it.
            await admin_says(api, f"/hours_on {day.isoformat()} 10:00-11:00", "10:00")
            bob_calendar = await month_of(api, BOB, await to_calendar(api, BOB, service_id), day)
            [bob_day] = [
                d for d in data_with(bob_calendar, DayCb) if DayCb.unpack(d).day == packed(day)
            ]
            times = await press(api, BOB, bob_calendar, bob_day)
            [ten] = data_with(times, TimeCb)
            check = await press(api, BOB, times, ten)
            await press(api, BOB, check, text=t("book.confirm"))

            # Ann finds the day full: the calendar offers to tell her when a time frees up.
            ann_calendar = await month_of(api, ANN, await to_calendar(api, ANN, service_id), day)
            waits = [
                w for w in data_with(ann_calendar, WaitCb) if WaitCb.unpack(w).day == packed(day)
            ]
            assert waits, ann_calendar
            asked = await press(api, ANN, ann_calendar, waits[0])
            assert t("wait.part.any") in str(asked["reply_markup"])
            [any_time] = [j for j in data_with(asked, JoinCb) if JoinCb.unpack(j).part == "any"]
            joined = await press(api, ANN, asked, any_time)
            assert joined["text"].startswith("🔔")

            # Bob cancels from his bookings.
            mine = await say(api, BOB, "/my", t("my.title"))
            ask = await press(api, BOB, mine, text=t("my.cancel", n=1))
            mark = api.mark()
            cancelled_at = time.monotonic()
            await press(api, BOB, ask, text=t("my.cancel_yes"))

            # Within one poll interval (plus a round trip) Ann is offered the time.
            offer = await api.wait_for_message(
                ANN.id,
                contains=day_long(day, "en"),
                since=mark,
                timeout=POLL_SECONDS + STEP_TIMEOUT,
            )
            waited = time.monotonic() - cancelled_at
            assert waited <= POLL_SECONDS + STEP_TIMEOUT
            assert t("wait.book") in str(offer.result["reply_markup"])

            # Carol, during the hold: the day is still full for her.
            carol_calendar = await month_of(
                api, CAROL, await to_calendar(api, CAROL, service_id), day
            )
            days = [DayCb.unpack(d).day for d in data_with(carol_calendar, DayCb)]
            assert packed(day) not in days
            assert any(
                WaitCb.unpack(w).day == packed(day) for w in data_with(carol_calendar, WaitCb)
            )

            # Ann books it.
            mark = api.mark()
            booked = await press(api, ANN, offer.result, text=t("wait.book"))
            assert booked["text"].startswith(t("book.done"))
            ics = await api.wait_for(
                lambda c: c.method == "sendDocument" and c.params.get("chat_id") == ANN.id,
                since=mark,
                timeout=STEP_TIMEOUT,
            )
            assert ics.result["document"]["file_name"].endswith(".ics")
            card = await api.wait_for_message(
                GROUP, contains="New booking #2", since=mark, timeout=STEP_TIMEOUT
            )
            assert "Ann" in card.result["text"]
        assert_clean(bot)
