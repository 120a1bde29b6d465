"""End to end: `python bot.py` polling the local Bot API emulator over HTTP. An admin books by
phone, from the admin group, for a client who is on Telegram: the client receives the booked
card and the .ics file in their chat, the admin chat gets the card, and the specialist, linked
to their own chat by a one-time link, gets theirs."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

import pytest

from database.migrate import migrate
from database.migrations.base import MigrationContext
from handlers.callback_data import StaffCalendarCb, StaffDayCb, StaffServiceCb, StaffTimeCb
from tests.support.botapi_emulator import BotAPIEmulator, FakeUser
from tests.test_e2e import (
    BUSINESS,
    SAFETY_SECONDS,
    STEP_TIMEOUT,
    TZ_NAME,
    assert_clean,
    bot_env,
    data_with,
    polling_started,
    press,
    running_bot,
    say,
    t,
)
from tests.test_e2e_admin import ADMIN, GROUP, JSON, admin_says
from utils.timeutil import get_tz, system_clock

pytestmark = pytest.mark.slow

ANN = FakeUser(id=801, first_name="Ann", username="ann", language_code="en")
OLGA = FakeUser(id=802, first_name="Olga", language_code="en")  # the specialist


async def registers_with_phone(api: BotAPIEmulator, phone: str) -> None:
    """Ann opens the bot and gives her name and (REQUIRE_PHONE) her phone, as clients do."""
    menu = await say(api, ANN, "/start", t("menu.greeting", name="Ann", business=BUSINESS))
    mark = api.mark()
    api.click(ANN, menu, text=t("menu.book"))
    await api.wait_for_message(ANN.id, contains=t("reg.ask_name"), since=mark, timeout=STEP_TIMEOUT)
    await say(api, ANN, "Ann", t("reg.ask_phone"))
    mark = api.mark()
    api.send_contact(ANN, phone)
    await api.wait_for_message(
        ANN.id, contains=t("book.choose_service"), since=mark, timeout=STEP_TIMEOUT
    )


async def a_time_ahead(api: BotAPIEmulator, calendar: JSON) -> tuple[JSON, str]:
    """The staff's times screen of the first day with a time safely ahead, and that button."""
    not_before = time.time() + SAFETY_SECONDS
    for _ in range(2):
        for day in data_with(calendar, StaffDayCb):
            times = await press(api, ADMIN, calendar, day)
            for data in data_with(times, StaffTimeCb):
                if StaffTimeCb.unpack(data).start >= not_before:
                    return times, data
        calendar = await press(api, ADMIN, calendar, text="▶")
    raise AssertionError("no time far enough ahead")


async def test_an_admin_books_by_phone_and_the_client_gets_the_card_and_the_ics(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "data" / "bot.db"
    migrate(db_path, MigrationContext(tz=get_tz(TZ_NAME), now=system_clock()))
    env = bot_env(
        "", db_path, ADMIN_IDS=str(ADMIN.id), ADMIN_CHAT_ID=str(GROUP), REQUIRE_PHONE="true"
    )
    async with BotAPIEmulator() as api:
        env["TELEGRAM_API_URL"] = api.base_url
        async with running_bot(env, tmp_path) as bot:
            await polling_started(api, bot)
            await admin_says(api, "/service_add 60 1500 Haircut", "Haircut")
            await registers_with_phone(api, "79991234567")
            answer = await admin_says(api, "/specialist_link 1", "?start=sp-")
            found = re.search(r"\?start=(sp-[A-Za-z0-9_-]+)", answer["text"])
            assert found, answer["text"]
            await say(api, OLGA, f"/start {found.group(1)}", "/today")

            services = await admin_says(api, "/book +7 999 123-45-67", t("book.choose_service"))
            assert "Ann @ann" in services["text"]
            (haircut,) = data_with(services, StaffServiceCb)
            calendar = await press(api, ADMIN, services, haircut)
            assert data_with(calendar, StaffCalendarCb) or data_with(calendar, StaffDayCb)
            times, chosen = await a_time_ahead(api, calendar)
            check = await press(api, ADMIN, times, chosen)
            assert "Ann @ann, 79991234567" in check["text"]  # the phone as Telegram shared it
            mark = api.mark()
            answer = await press(api, ADMIN, check, text=t("book.confirm"))

            news = await api.wait_for_message(
                ANN.id,
                contains=t("book.done_by_staff", business=BUSINESS),
                since=mark,
                timeout=STEP_TIMEOUT,
            )
            assert "Haircut" in news.result["text"]
            ics = await api.wait_for(
                lambda c: c.method == "sendDocument" and c.params.get("chat_id") == ANN.id,
                since=mark,
                timeout=STEP_TIMEOUT,
            )
            assert ics.result["document"]["file_name"] == "booking-1.ics"
            card = await api.wait_for_message(
                GROUP, contains="Booked by the staff: #1", since=mark, timeout=STEP_TIMEOUT
            )
            assert "Ann @ann" in card.result["text"]
            theirs = await api.wait_for_message(
                OLGA.id, contains="Your new booking #1", since=mark, timeout=STEP_TIMEOUT
            )
            assert "Ann @ann" in theirs.result["text"] and "Haircut" in theirs.result["text"]
            assert t("admin.book.told") in answer["text"]
            code = await bot.terminate()

        assert code == 0, bot.output
        assert_clean(bot)

    with sqlite3.connect(db_path) as conn:
        booking = conn.execute("SELECT client_id, status FROM bookings").fetchall()
        audit = conn.execute(
            "SELECT actor_id, actor_role FROM audit_log WHERE action = 'booking.created'"
        ).fetchall()
    assert booking == [(ANN.id, "active")]
    assert audit == [(ADMIN.id, "admin")]
