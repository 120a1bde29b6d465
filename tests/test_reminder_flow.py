"""Reminders as the client receives them (through the real routers), and answering them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from config import load_settings
from handlers.digest import RETRY_PAUSES, make_digest
from handlers.notify import TelegramOutbox
from handlers.scheduler import digest_missed, digest_trigger
from services.outbox import OutboxService
from tests import test_flow_client as flow_tests
from tests.conftest import ADMIN, at
from tests.support.botapi_emulator import FakeUser
from tests.support.outbox import BoundReminders
from tests.test_flow_client import (
    ANN_ID,
    BUSINESS,
    THU,
    TR,
    TUE,
    WED,
    WED_LONG,
    MakeWorld,
    World,
    ann,
    plain,
    text_of,
)
from utils.timeutil import get_tz

# The flow tests' world (dispatcher, services, clock) and their no-logged-errors guard.
make_world = flow_tests.make_world
no_handler_errors = flow_tests.no_handler_errors
db = flow_tests.db

ADMIN_CHAT = -1001234567890


class Waits:
    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def reminders_for(world: World, waits: Waits | None = None) -> BoundReminders:
    settings, bot, services = world.settings, world.flow.bot, world.services
    channel = TelegramOutbox(bot, TR, services.business, services.clients, settings)
    service = OutboxService(world.db, services.rules, clock=world.clock, sleep=waits or Waits())
    return BoundReminders(service, channel)


async def booked(world: World, language: str, hhmm: str = "10:00") -> int:
    user = ann(language)
    await world.register(user)
    result = await world.services.booking.book(user.id, world.haircut.id, at(world.tz, WED, hhmm))
    assert result.booking is not None
    await world.handled(result.booking.id)
    return result.booking.id


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_the_reminder_shows_the_appointment_and_i_will_come_is_recorded(
    make_world: MakeWorld, language: str
) -> None:
    world = await make_world()
    booking_id = await booked(world, language)
    t = TR(language)
    world.clock.set(at(world.tz, TUE, "10:00"))  # 24 hours before

    report = await reminders_for(world).dispatch_due()

    assert len(report.sent) == 1
    client = world.client(ann(language))
    text = text_of(client.last_message)
    assert text.startswith(plain(t("reminder.title")))
    for part in ("Haircut", WED_LONG[language], "10:00", BUSINESS["business_address"]):
        assert part in text
    assert client.buttons() == [t("reminder.come"), t("reminder.move"), t("reminder.cancel")]

    await client.click(t("reminder.come"))
    assert client.last_answer is not None
    assert client.last_answer.text == t("reminder.thanks")
    assert text_of(client.last_message).endswith(plain(t("reminder.confirmed_line")))
    assert t("reminder.come") not in client.buttons()
    rows = await world.rows("SELECT confirmed_at FROM bookings WHERE id = ?", booking_id)
    assert rows[0][0] is not None
    audit = await world.rows(
        "SELECT actor_id FROM audit_log WHERE action = 'booking.confirmed_by_client'"
    )
    assert [r[0] for r in audit] == [ANN_ID]


async def test_the_last_reminder_inside_the_cutoff_offers_no_cancel_or_reschedule(
    make_world: MakeWorld,
) -> None:
    world = await make_world()  # cutoff 120 minutes
    await booked(world, "en")
    t = TR("en")
    world.clock.set(at(world.tz, WED, "08:00"))  # the 2-hour reminder
    await reminders_for(world).dispatch_due()
    client = world.client(ann("en"))
    assert client.buttons() == [t("reminder.come")]
    await client.click(t("reminder.come"))
    assert client.buttons() == []


async def test_cancel_from_the_reminder_asks_first_then_cancels(make_world: MakeWorld) -> None:
    world = await make_world()
    booking_id = await booked(world, "en")
    t = TR("en")
    world.clock.set(at(world.tz, TUE, "10:00"))
    await reminders_for(world).dispatch_due()
    client = world.client(ann("en"))

    await client.click(t("reminder.cancel"))
    assert t("my.cancel_yes") in client.buttons()
    await client.click(t("my.cancel_yes"))
    rows = await world.rows("SELECT status FROM bookings WHERE id = ?", booking_id)
    assert rows[0][0] == "cancelled"
    # The 2-hour reminder of the cancelled booking never comes.
    world.clock.set(at(world.tz, WED, "08:00"))
    assert (await reminders_for(world).dispatch_due()).sent == []


async def test_a_stale_or_forged_i_will_come_changes_nothing(make_world: MakeWorld) -> None:
    world = await make_world()
    booking_id = await booked(world, "en")
    t = TR("en")
    world.clock.set(at(world.tz, TUE, "10:00"))
    await reminders_for(world).dispatch_due()
    client = world.client(ann("en"))
    reminder = client.last_message

    intruder = world.client(FakeUser(id=4242, first_name="Eve", language_code="en"))
    await intruder.send("/start")
    await intruder.click_data(f"come:{booking_id}", message=reminder)
    assert intruder.last_answer is not None
    assert intruder.last_answer.text == t("outcome.not_found")

    assert (await world.services.staff.cancel(booking_id, ADMIN)).ok
    await client.click(t("reminder.come"), message=reminder)
    assert client.last_answer is not None
    assert client.last_answer.text == t("outcome.not_active")
    rows = await world.rows("SELECT confirmed_at FROM bookings WHERE id = ?", booking_id)
    assert rows[0][0] is None


async def test_a_blocked_client_is_reported_to_the_admin_chat_once(make_world: MakeWorld) -> None:
    world = await make_world(admin_chat_id=ADMIN_CHAT)
    await booked(world, "en", "10:00")
    await booked(world, "en", "15:00")
    world.flow.emulator.block_user(ANN_ID)
    reminders = reminders_for(world)
    mark = world.flow.emulator.mark()  # after the two booking cards

    world.clock.set(at(world.tz, TUE, "10:00"))
    first = await reminders.dispatch_due()
    world.clock.set(at(world.tz, TUE, "15:00"))
    second = await reminders.dispatch_due()

    assert len(first.failed) == 1
    assert second.skipped and not second.sent
    notices = world.flow.emulator.sent_to(ADMIN_CHAT, since=mark)
    assert len(notices) == 1
    assert "(id 1001)" in str(notices[0].get("text"))
    assert "@ann" in str(notices[0].get("text"))


async def test_flood_control_from_telegram_is_waited_out(make_world: MakeWorld) -> None:
    world = await make_world()
    await booked(world, "en")
    world.flow.emulator.fail_next(
        "sendMessage",
        error_code=429,
        description="Too Many Requests: retry after 7",
        retry_after=7,
    )
    waits = Waits()
    world.clock.set(at(world.tz, TUE, "10:00"))
    report = await reminders_for(world, waits).dispatch_due()
    assert len(report.sent) == 1
    assert waits.seconds == [7]


async def test_the_client_rates_a_visit_from_the_request(make_world: MakeWorld) -> None:
    world = await make_world(feedback_delay_minutes=60)
    booking_id = await booked(world, "ru")
    t = TR("ru")
    world.clock.set(at(world.tz, WED, "12:00"))  # the visit ended at 11:00
    await world.services.jobs.complete_past()
    await reminders_for(world).dispatch_due()
    client = world.client(ann("ru"))
    assert text_of(client.last_message).startswith(
        plain(t("feedback.ask", service="Haircut", specialist="Master", day=WED_LONG["ru"]))
    )
    assert client.buttons() == ["1★", "2★", "3★", "4★", "5★"]

    await client.click("4★")
    assert text_of(client.last_message) == t("feedback.thanks", stars="★★★★☆")
    rows = await world.rows("SELECT rating FROM bookings WHERE id = ?", booking_id)
    assert rows[0][0] == 4

    intruder = world.client(FakeUser(id=4243, first_name="Eve", language_code="ru"))
    await intruder.send("/start")
    await intruder.click_data(f"rate:{booking_id}:1", message=client.last_message)
    assert intruder.last_answer is not None
    assert intruder.last_answer.text == t("outcome.not_found")
    await intruder.click_data(f"rate:{booking_id}:9", message=client.last_message)
    assert intruder.last_answer is not None
    assert intruder.last_answer.text == t("alert.stale")
    assert (await world.rows("SELECT rating FROM bookings WHERE id = ?", booking_id))[0][0] == 4


async def test_the_admin_chat_gets_the_morning_digest(make_world: MakeWorld) -> None:
    world = await make_world(admin_chat_id=ADMIN_CHAT, default_language="en")
    await booked(world, "en", "10:00")
    world.clock.set(at(world.tz, WED, "09:00"))
    mark = world.flow.emulator.mark()  # after the booking's card
    await make_digest(world.flow.bot, world.services, TR, world.settings)()
    (digest,) = world.flow.emulator.sent_to(ADMIN_CHAT, since=mark)
    assert WED_LONG["en"] in str(digest.get("text"))
    assert "Haircut" in str(digest.get("text"))
    assert "10:00" in str(digest.get("text"))


async def test_a_digest_that_meets_telegram_s_5xx_is_sent_again_after_a_pause(
    make_world: MakeWorld,
) -> None:
    """The digest is claimed before it is sent: nobody else sends it today, so a failure that
    may pass (a 5xx, the network) is tried again by the same process; a refusal is not."""
    world = await make_world(admin_chat_id=ADMIN_CHAT, default_language="en")
    await booked(world, "en", "10:00")
    world.clock.set(at(world.tz, WED, "09:00"))
    mark = world.flow.emulator.mark()
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:  # the pauses, without waiting them out
        pauses.append(seconds)

    world.flow.emulator.fail_next(
        "sendMessage", error_code=502, description="Bad Gateway", times=2, chat_id=ADMIN_CHAT
    )
    await make_digest(world.flow.bot, world.services, TR, world.settings, sleep=sleep)()
    (digest,) = world.flow.emulator.sent_to(ADMIN_CHAT, since=mark)
    assert WED_LONG["en"] in str(digest.get("text"))
    assert pauses == list(RETRY_PAUSES[:2])

    # Tomorrow the admin chat refuses the bot (it was removed): told once, not retried.
    world.clock.set(at(world.tz, THU, "09:00"))
    world.flow.emulator.fail_next(
        "sendMessage", error_code=403, description="Forbidden: bot was kicked", chat_id=ADMIN_CHAT
    )
    await make_digest(world.flow.bot, world.services, TR, world.settings, sleep=sleep)()
    assert pauses == list(RETRY_PAUSES[:2])
    assert len(world.flow.emulator.sent_to(ADMIN_CHAT, since=mark)) == 1


async def test_no_digest_without_an_admin_chat(make_world: MakeWorld) -> None:
    world = await make_world()
    await booked(world, "en", "10:00")
    await make_digest(world.flow.bot, world.services, TR, world.settings)()
    assert world.flow.emulator.calls_of("sendMessage") == []


def test_the_digest_fires_at_the_local_time_across_the_dst_change() -> None:
    settings = load_settings(_env_file=None, timezone="Europe/Berlin", admin_digest_time="09:00")
    trigger = digest_trigger(settings)
    before = trigger.get_next_fire_time(None, datetime(2026, 3, 27, 11, 0, tzinfo=UTC))
    assert before.astimezone(UTC) == datetime(2026, 3, 28, 8, 0, tzinfo=UTC)  # 09:00 CET
    after = trigger.get_next_fire_time(None, datetime(2026, 3, 28, 11, 0, tzinfo=UTC))
    assert after.astimezone(UTC) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)  # 09:00 CEST


async def test_the_digest_goes_once_a_day_even_with_a_catch_up_after_a_restart(
    make_world: MakeWorld,
) -> None:
    world = await make_world(admin_chat_id=ADMIN_CHAT, default_language="en")
    await booked(world, "en", "10:00")
    world.clock.set(at(world.tz, WED, "09:00"))
    mark = world.flow.emulator.mark()  # after the booking's card
    send = make_digest(world.flow.bot, world.services, TR, world.settings)
    await send()
    await send()  # the catch-up of a restarted process, the same morning
    assert len(world.flow.emulator.sent_to(ADMIN_CHAT, since=mark)) == 1
    world.clock.set(at(world.tz, THU, "09:00"))
    await send()
    assert len(world.flow.emulator.sent_to(ADMIN_CHAT, since=mark)) == 2


def test_a_start_within_three_hours_after_the_digest_time_catches_up() -> None:
    settings = load_settings(_env_file=None, timezone="Europe/Moscow", admin_digest_time="09:00")
    msk = get_tz("Europe/Moscow")
    assert not digest_missed(settings, at(msk, WED, "08:59"))
    assert digest_missed(settings, at(msk, WED, "09:00"))
    assert digest_missed(settings, at(msk, WED, "11:59"))
    assert not digest_missed(settings, at(msk, WED, "12:01"))
