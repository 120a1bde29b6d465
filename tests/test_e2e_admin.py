"""End to end for the admin chat: `python bot.py` polling the local Bot API emulator over HTTP.

An admin adds a service and sets the hours from the admin group, a client books it, the admin
chat gets the card and sees the booking in the agenda, /dayoff cancels it and the client is told.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from database.migrate import migrate
from database.migrations.base import MigrationContext
from handlers.callback_data import TimeCb
from tests.support.botapi_emulator import BotAPIEmulator, FakeUser
from tests.test_e2e import (
    STEP_TIMEOUT,
    TZ_NAME,
    assert_clean,
    bot_env,
    first_time,
    polling_started,
    press,
    running_bot,
    t,
    to_calendar,
)
from utils.formatting import day_long
from utils.hours import WEEKDAYS
from utils.timeutil import from_ts, get_tz, system_clock, to_local

pytestmark = pytest.mark.slow

GROUP = -100777
ADMIN = FakeUser(id=900, first_name="Olga", username="olga")

JSON = dict[str, Any]


async def admin_says(api: BotAPIEmulator, text: str, expect: str) -> JSON:
    mark = api.mark()
    api.send_message(ADMIN, text, chat_id=GROUP)
    call = await api.wait_for_message(GROUP, contains=expect, since=mark, timeout=STEP_TIMEOUT)
    reply: JSON = call.result
    return reply


async def test_admin_runs_the_day_from_the_group(tmp_path: Path) -> None:
    db_path = tmp_path / "data" / "bot.db"
    tz = get_tz(TZ_NAME)
    migrate(db_path, MigrationContext(tz=tz, now=system_clock()))
    ann = FakeUser(id=801, first_name="Ann", username="ann")
    env = bot_env(
        "",
        db_path,
        WORKING_HOURS="mon 10:00-11:00",
        ADMIN_IDS=str(ADMIN.id),
        ADMIN_CHAT_ID=str(GROUP),
    )
    async with BotAPIEmulator() as api:
        env["TELEGRAM_API_URL"] = api.base_url
        async with running_bot(env, tmp_path) as bot:
            await polling_started(api, bot)
            added = await admin_says(api, "/service_add 60 1500 Massage", "Massage")
            assert added["text"] == t("admin.service.added", id=1, name="Massage")
            for day in WEEKDAYS:
                await admin_says(api, f"/hours_set {day} 00:00-24:00", f"Hours on {day}")

            calendar = await to_calendar(api, ann, 1)
            times, chosen = await first_time(api, ann, calendar)
            start = to_local(tz, from_ts(TimeCb.unpack(chosen).start))
            card = await press(api, ann, times, chosen)
            mark = api.mark()
            booked = await press(api, ann, card, text=t("book.confirm"))
            assert booked["text"].startswith(t("book.done"))
            new = await api.wait_for_message(
                GROUP, contains="New booking #1", since=mark, timeout=STEP_TIMEOUT
            )
            assert "Ann @ann" in new.result["text"] and "Massage" in new.result["text"]

            today = to_local(tz, system_clock()).date()
            agenda_command = "/today" if start.date() == today else f"/day {start.date()}"
            agenda = await admin_says(api, agenda_command, "#1 ")
            assert f"{start:%H:%M} Ann @ann" in agenda["text"]

            question = await admin_says(api, f"/dayoff {start.date()} storm", "#1 ")
            mark = api.mark()
            await press(api, ADMIN, question, text=t("admin.button.cancel_all"))
            told = await api.wait_for_message(
                ann.id, contains="is closed on", since=mark, timeout=STEP_TIMEOUT
            )
            assert day_long(start.date(), "en") in told.result["text"]
            assert "Reason: storm" in told.result["text"]
            # The question becomes the result (waited for: SIGTERM must not cut the handler).
            summary = t("admin.dayoff.cancelled", day=day_long(start.date(), "en"), count=1, told=1)
            await api.wait_for_message(GROUP, contains=summary, since=mark, timeout=STEP_TIMEOUT)
            code = await bot.terminate()

        assert code == 0, bot.output
        assert_clean(bot)

    with sqlite3.connect(db_path) as conn:
        status, role, by = conn.execute(
            "SELECT status, cancelled_by_role, cancelled_by FROM bookings WHERE id = 1"
        ).fetchone()
        admins = conn.execute(
            "SELECT count(*) FROM audit_log WHERE actor_role = 'admin' AND actor_id = ?",
            (ADMIN.id,),
        ).fetchone()[0]
    assert (status, role, by) == ("cancelled", "admin", ADMIN.id)
    assert admins >= 1 + 7 + 2  # the service, the hours, the day off and the cancel
