"""End to end: `python bot.py` killed (SIGKILL) in the middle of a storm of Confirm taps, then
started again. Every booking that was committed has its card in the admin chat and its client
told they are booked, whatever the kill interrupted: the answer, the .ics or the card."""

from __future__ import annotations

import contextlib
import sqlite3
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from database.sqlite import SqliteDatabase
from handlers.callback_data import ConfirmCb
from services.clients import ClientService
from tests.support.botapi_emulator import ApiCall, BotAPIEmulator, FakeUser
from tests.test_e2e import (
    BUSINESS,
    STEP_TIMEOUT,
    TZ_NAME,
    assert_clean,
    bot_env,
    polling_started,
    prepare_db,
    running_bot,
    say,
    t,
)
from utils.timeutil import get_tz, local_midnight, local_today, system_clock, to_ts

pytestmark = pytest.mark.slow

CLIENTS = [FakeUser(id=900 + n, first_name=f"Storm{n}") for n in range(12)]
ADMIN_CHAT = -1009002
TOLD_TIMEOUT = 60.0  # the restarted bot: leases of 5 s, polls every second


async def register(db_path: Path) -> None:
    """Returning clients: their name is known, so a Confirm books at once."""
    async with SqliteDatabase(db_path) as db:
        clients = ClientService(db, "en")
        for user in CLIENTS:
            await clients.touch(user.id, None, user.first_name, "en")
            await clients.set_name(user.id, user.first_name)


def committed(db_path: Path) -> dict[int, int]:
    """Active booking id → client."""
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        rows = conn.execute("SELECT id, client_id FROM bookings WHERE status = 'active'")
        return dict(rows.fetchall())


def cards(api: BotAPIEmulator) -> Counter[int]:
    """Booking id → cards about it that reached the admin chat."""
    found: Counter[int] = Counter()
    for call in api.calls_of("sendMessage"):
        if int(call.params.get("chat_id", 0)) == ADMIN_CHAT:
            for booking_id in range(1, 100):
                if f"#{booking_id} " in str(call.params.get("text", "")):
                    found[booking_id] += 1
    return found


def told(api: BotAPIEmulator) -> Counter[int]:
    """Client → times they were shown their booked card (the answer, or the outbox's)."""
    return Counter(
        int(m["chat"]["id"])
        for user in CLIENTS
        for m in api.sent_to(user.id)
        if t("book.done") in str(m.get("text", ""))
    )


def everyone_told(db_path: Path, api: BotAPIEmulator) -> bool:
    made, carded, shown = committed(db_path), cards(api), told(api)
    return bool(made) and all(carded[b] and shown[c] for b, c in made.items())


async def test_a_kill_mid_storm_loses_no_card_and_no_clients_answer(tmp_path: Path) -> None:
    db_path = tmp_path / "data" / "bot.db"
    service_id = await prepare_db(db_path)
    await register(db_path)
    tz = get_tz(TZ_NAME)
    tomorrow = local_today(tz, system_clock()) + timedelta(days=1)
    env = bot_env(
        "",
        db_path,
        ADMIN_CHAT_ID=str(ADMIN_CHAT),
        REMINDER_POLL_SECONDS="1",
        REMINDER_LEASE_SECONDS="5",
        ADMIN_DIGEST_TIME="",
    )
    async with BotAPIEmulator() as api:
        env["TELEGRAM_API_URL"] = api.base_url
        async with running_bot(env, tmp_path) as bot:
            await polling_started(api, bot)
            menus = [
                await say(
                    api, u, "/start", t("menu.greeting", name=u.first_name, business=BUSINESS)
                )
                for u in CLIENTS
            ]
            api.send_delay = 1.0  # Telegram slows down: answers, files and cards take a second
            for n, (user, menu) in enumerate(zip(CLIENTS, menus, strict=True)):
                start = local_midnight(tz, tomorrow) + timedelta(hours=n)  # their own hour
                data = ConfirmCb(service=service_id, specialist=0, start=to_ts(start)).pack()
                api.click_data(user, menu, data)

            def a_card(call: ApiCall) -> bool:
                return (
                    call.method == "sendMessage"
                    and int(call.params.get("chat_id", 0)) == ADMIN_CHAT
                )

            await bot.while_running(api.wait_for(a_card, timeout=4 * STEP_TIMEOUT), "a card")
            await bot.kill()  # while the other answers, files and cards are on their way

        before = committed(db_path)
        assert before, bot.output
        assert not everyone_told(db_path, api)  # the kill did interrupt something
        # The confirmations wait a minute for the chat's answer; that minute has passed.
        with contextlib.closing(sqlite3.connect(db_path)) as conn, conn:
            conn.execute("UPDATE reminders SET due_at = due_at - 60 WHERE kind = 'confirmation'")

        api.send_delay = 0.0
        async with running_bot(env, tmp_path) as bot:
            await bot.while_running(
                api.wait_for(lambda _: everyone_told(db_path, api), timeout=TOLD_TIMEOUT),
                "every booking's card and answer",
                timeout=TOLD_TIMEOUT,
            )
            assert await bot.terminate() == 0, bot.output
            assert_clean(bot)

    made = committed(db_path)
    assert set(before) <= set(made)  # the taps the kill cut short were answered after the restart
    assert len(set(made.values())) == len(made)  # one booking per client: no tap booked twice
    # At least once: a card whose send the kill interrupted may come twice, never three times.
    assert all(1 <= cards(api)[b] <= 2 for b in made), cards(api)
    assert all(1 <= told(api)[c] <= 2 for c in made.values()), told(api)
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        left = conn.execute(
            "SELECT kind, status FROM reminders WHERE kind NOT IN ('reminder', 'feedback')"
            " AND status NOT IN ('sent', 'skipped')"
        ).fetchall()
    assert left == []
