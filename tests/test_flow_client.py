"""The client conversation through the real Dispatcher and routers, in Russian and English.

Each test plays a client in their private chat (``FlowClient``) against the Dispatcher that
bot.py runs (``build_dispatcher``), with services on a temp SQLite file and a FakeClock at
Tue 2026-12-01 08:00 Moscow. Hours: mon-fri 10-14, 15-19; sat 11-16; Sundays closed.
What is asserted is what the client sees (texts from the catalogs, buttons, alerts, files) and
what the database then holds.
"""

from __future__ import annotations

import html
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

import pytest
from pytz.tzinfo import BaseTzInfo

from config import Settings, load_settings
from database.engine import Conn, Database
from domain.catalog import Service
from handlers import build_dispatcher
from handlers.callback_data import CalendarCb, ConfirmCb, DayCb, TimeCb
from handlers.notify import TelegramOutbox
from services.container import Container, build_services
from tests.conftest import ADMIN, AddService, at
from tests.support.botapi_emulator import FakeUser
from tests.support.clock import FakeClock
from tests.support.flow import Answer, FlowClient, FlowHarness
from utils.i18n import Translations, Translator
from utils.throttle import Limiter

JSON = dict[str, Any]
LANGS = ("ru", "en")
TR = Translations()

TUE = date(2026, 12, 1)  # today
WED = date(2026, 12, 2)
THU = date(2026, 12, 3)
SUN = date(2026, 12, 6)

NAMES = {"ru": "Анна", "en": "Ann"}
ANN_ID, BOB_ID = 1001, 1002
BOB = FakeUser(id=BOB_ID, first_name="Bob", language_code="en")

BUSINESS = {
    "business_name": "Studio <Lime> & Co",
    "business_address": "12 Garden St",
    "business_phone": "+7 900 000-00-00",
}
PRICE = {"ru": "1\xa0500 ₽", "en": "1,500 ₽"}
WEEKDAYS = {
    "ru": ["Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс"],
    "en": ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"],
}
DECEMBER = {"ru": "Декабрь 2026", "en": "December 2026"}
JANUARY = {"ru": "Январь 2027", "en": "January 2027"}
WED_LONG = {"ru": "среда, 2 декабря", "en": "Wednesday, 2 December"}
THU_LONG = {"ru": "четверг, 3 декабря", "en": "Thursday, 3 December"}


def plain(text: str) -> str:
    """A catalog text as the client reads it: HTML tags gone, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def text_of(message: JSON | None) -> str:
    assert message is not None, "the bot showed nothing"
    return str(message.get("text") or message.get("caption") or "")


def struck(day: int) -> str:
    """A closed day as the calendar draws it (each digit struck through)."""
    return "\u0336".join(str(day)) + "\u0336"


def quietly_answered(client: FlowClient) -> bool:
    """The last click stopped the spinner without any toast or popup."""
    return client.answered and client.last_answer is None


def ann(language: str) -> FakeUser:
    return FakeUser(id=ANN_ID, first_name=NAMES[language], username="ann", language_code=language)


def service_label(t: Translator, service: Service) -> str:
    price = PRICE[t.language] if service.price == 1500 else f"{service.price} ₽"
    minutes = {"ru": "мин", "en": "min"}[t.language]
    return f"{service.name} · {service.duration_minutes} {minutes} · {price}"


@dataclass
class World:
    flow: FlowHarness
    services: Container
    settings: Settings
    db: Database
    clock: FakeClock
    tz: BaseTzInfo
    haircut: Service

    def client(self, user: FakeUser) -> FlowClient:
        return self.flow.client(user)

    async def register(self, user: FakeUser, name: str | None = None) -> None:
        """A returning client: known name (and phone), so Book goes straight to the services."""
        clients = self.services.clients
        await clients.touch(user.id, user.username, user.first_name, user.language_code)
        await clients.set_name(user.id, name or user.first_name)
        await clients.set_phone(user.id, "+70000000000")

    async def handled(self, *booking_ids: int) -> None:
        """After a booking made here rather than in the chat: what the Confirm handler does next
        (the admin chat's card goes out; the client's answer counts as shown, so the outbox
        sends no confirmation)."""
        await self.services.outbox.flush(self.outbox_channel(), booking_ids, answered=True)

    def outbox_channel(self) -> TelegramOutbox:
        """The outbox's way to Telegram, as bot.py's background dispatch has it."""
        services = self.services
        return TelegramOutbox(self.flow.bot, TR, services.business, services.clients, self.settings)

    async def rows(self, sql: str, *args: object) -> list[sqlite3.Row]:
        return await self.db.read(lambda c: c.execute(sql, args).fetchall())

    async def bookings(self) -> list[tuple[int, int, str, int, int, int | None]]:
        """(id, client, status, start, specialist, rescheduled_from) of every booking."""
        rows = await self.rows(
            "SELECT id, client_id, status, start_at, specialist_id, rescheduled_from"
            " FROM bookings ORDER BY id"
        )
        return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]

    def ts(self, day: date, hhmm: str) -> int:
        return int(at(self.tz, day, hhmm).timestamp())

    async def add_specialist(self, name: str, service_ids: list[int]) -> int:
        def work(conn: Conn) -> int:
            cur = conn.execute(
                "INSERT INTO specialists (name, created_at) VALUES (?, 0) RETURNING id", (name,)
            )
            sid = int(cur.fetchone()[0])
            conn.execute(
                "INSERT INTO working_hours (specialist_id, weekday, start_minute, end_minute)"
                " SELECT ?, weekday, start_minute, end_minute FROM working_hours"
                " WHERE specialist_id = 1",
                (sid,),
            )
            conn.executemany(
                "INSERT INTO specialist_services VALUES (?, ?)", [(sid, s) for s in service_ids]
            )
            return sid

        return await self.db.write(work)


MakeWorld = Callable[..., Awaitable[World]]


@pytest.fixture
def db(sqlite_db: Database) -> Database:
    """The conversation tests run on SQLite; the database tests cover both engines."""
    return sqlite_db


@pytest.fixture(autouse=True)
def no_handler_errors(caplog: pytest.LogCaptureFixture) -> Any:
    """The bot's error handler swallows exceptions (and apologises); here any is a failure,
    as is a missing translation."""
    yield
    records = caplog.get_records("setup") + caplog.get_records("call")
    errors = [r for r in records if r.levelno >= logging.ERROR]
    details = [
        f"{r.name}: {r.getMessage()}\n{logging.Formatter().formatException(r.exc_info)}"
        if r.exc_info
        else f"{r.name}: {r.getMessage()}"
        for r in errors
    ]
    assert not errors, "\n".join(details)


@pytest.fixture
async def make_world(
    db: Database, db_path: Any, clock: FakeClock, tz: BaseTzInfo, add_service: AddService
) -> AsyncIterator[MakeWorld]:
    async with AsyncExitStack() as stack:
        haircut: list[Service] = []

        async def make(**overrides: object) -> World:
            values: dict[str, object] = {
                "_env_file": None,
                "database_url": f"sqlite:///{db_path}",
                "timezone": "Europe/Moscow",
                "default_language": "ru",
                "booking_horizon_days": 40,
                "min_lead_minutes": 60,
                "slot_step_minutes": 30,
                "max_active_bookings_per_user": 3,
                "cancel_cutoff_minutes": 120,
                "require_phone": False,
                "currency": "₽",
                # Tests tap faster than any person: throttling is tested on its own.
                "rate_limit": 0,
                **BUSINESS,
            }
            limiter = cast("Limiter | None", overrides.pop("limiter", None))
            values.update(overrides)
            settings = load_settings(**values)
            services = build_services(settings, db, clock)
            if not haircut:
                haircut.append(await add_service("Haircut", 60, 1500))
            flow = await stack.enter_async_context(
                FlowHarness(build_dispatcher(settings, services, limiter=limiter))
            )
            return World(flow, services, settings, db, clock, tz, haircut[0])

        yield make


@pytest.fixture
async def world(make_world: MakeWorld) -> World:
    return await make_world()


async def start_booking(world: World, user: FakeUser) -> tuple[FlowClient, Translator, JSON]:
    """A registered client opens the services list with /book; returns the list message."""
    await world.register(user)
    client = world.client(user)
    shown = await client.send("/book")
    assert shown is not None
    return client, TR(user.language_code), shown


async def to_confirm(
    world: World, user: FakeUser, day: date = WED, hhmm: str = "10:00"
) -> tuple[FlowClient, Translator, JSON]:
    """Walk a registered client to the confirmation card of Haircut on ``day`` at ``hhmm``."""
    client, t, shown = await start_booking(world, user)
    await client.click(service_label(t, world.haircut))
    await client.click(str(day.day))
    await client.click(hhmm)
    assert text_of(client.last_message).startswith(t("book.check"))
    return client, t, shown


# ------------------------------------------------------------------ menu, help, language


@pytest.mark.parametrize("language", LANGS)
async def test_start_greets_by_first_name_and_shows_the_main_menu(
    world: World, language: str
) -> None:
    t = TR(language)
    client = world.client(ann(language))

    shown = await client.send("/start")

    greeting = {
        "ru": f"Здравствуйте, {NAMES['ru']}! Здесь можно записаться в Studio <Lime> & Co.",
        "en": f"Hello, {NAMES['en']}! I can book you in at Studio <Lime> & Co.",
    }[language]
    assert text_of(shown).startswith(greeting)
    assert client.buttons() == [
        t("menu.book"),
        t("menu.my"),
        t("menu.services"),
        t("menu.contacts"),
        t("menu.language"),
    ]
    assert client.buttons()[0] == {"ru": "📅 Записаться", "en": "📅 Book"}[language]


@pytest.mark.parametrize("language", LANGS)
async def test_help_lists_the_commands_and_leads_home(world: World, language: str) -> None:
    t = TR(language)
    client = world.client(ann(language))

    shown = await client.send("/help")

    assert text_of(shown) == plain(t("help.text"))
    assert "/book" in text_of(shown) and "/my" in text_of(shown)
    home = await client.click(t("nav.home"))
    assert home is not None and shown is not None
    assert home["message_id"] == shown["message_id"]
    assert client.buttons()[0] == t("menu.book")


async def test_language_switch_is_remembered(world: World) -> None:
    # Telegram says English; the client prefers Russian.
    client = world.client(ann("en"))
    en, ru = TR("en"), TR("ru")

    await client.send("/language")
    assert text_of(client.last_message) == en("lang.choose")
    switched = await client.click("Русский")

    assert text_of(switched).startswith("Теперь я говорю по-русски.")
    assert client.buttons()[0] == ru("menu.book")
    again = await client.send("/start")
    assert text_of(again).startswith(f"Здравствуйте, {NAMES['en']}!")
    assert client.buttons() == [
        ru("menu.book"),
        ru("menu.my"),
        ru("menu.services"),
        ru("menu.contacts"),
        ru("menu.language"),
    ]

    # And back through the menu button.
    await client.click(ru("menu.language"))
    assert text_of(client.last_message) == ru("lang.choose")
    await client.click("English")
    assert text_of(client.last_message).startswith("The language is now English.")
    assert text_of(await client.send("/help")) == plain(en("help.text"))


@pytest.mark.parametrize("language", LANGS)
async def test_contacts_show_the_business(world: World, language: str) -> None:
    t = TR(language)
    client = world.client(ann(language))
    menu = await client.send("/start")

    shown = await client.click(t("menu.contacts"))

    assert text_of(shown).split("\n") == [
        "Studio <Lime> & Co",
        plain(t("contacts.address", address="12 Garden St")),
        plain(t("contacts.phone", phone="+7 900 000-00-00")),
    ]
    assert menu is not None and shown is not None
    assert shown["message_id"] == menu["message_id"]
    await client.click(t("nav.back"))
    assert NAMES[language] in text_of(client.last_message)
    assert client.buttons()[0] == t("menu.book")


@pytest.mark.parametrize("language", LANGS)
async def test_price_list_shows_active_services_only(
    world: World, add_service: AddService, language: str
) -> None:
    t = TR(language)
    beard = await add_service("Beard", 30, 700)
    await add_service("Colouring", 120, 4000)
    await world.services.catalog.set_active(beard.id, False, ADMIN)
    client = world.client(ann(language))
    await client.send("/start")

    shown = await client.click(t("menu.services"))

    lines = text_of(shown).split("\n")
    assert lines[0] == plain(t("services.title"))
    minutes = {"ru": "мин", "en": "min"}[language]
    assert f"Haircut — 60 {minutes}, {PRICE[language]}" in lines
    assert any(line.startswith(f"Colouring — 120 {minutes}") for line in lines)
    assert "Beard" not in text_of(shown)
    assert client.buttons() == [t("menu.book"), t("nav.back")]


# ------------------------------------------------------------------ registration


@pytest.mark.parametrize("language", LANGS)
async def test_first_booking_asks_name_then_own_phone(make_world: MakeWorld, language: str) -> None:
    world = await make_world(require_phone=True)
    t = TR(language)
    user = ann(language)
    client = world.client(user)
    await client.send("/start")

    asked = await client.click(t("menu.book"))

    assert text_of(asked) == t("reg.ask_name")
    assert client.reply_buttons() == [NAMES[language]]  # Telegram's first name, one tap away
    # A command is not a name (an unknown one is said so, and the question stays open).
    await client.send("/nonsense")
    assert text_of(client.last_message) == t("hint.unknown_command")

    await client.send(f"  {NAMES[language]}  Petrova ")
    assert text_of(client.last_message) == t("reg.ask_phone")
    assert client.reply_buttons() == [t("reg.share_phone")]
    share = client.calls_since_last_action[-1].params["reply_markup"]
    assert share["keyboard"][0][0]["request_contact"] is True

    # Somebody else's contact card, then plain text: refused, asked again.
    await client.send_contact("+79990000000", owner=BOB)
    assert text_of(client.last_message) == t("reg.phone_button_only")
    await client.send("+7 999 000 00 00")
    assert text_of(client.messages[-2]) == t("reg.phone_button_only")
    assert text_of(client.last_message) == t("reg.ask_phone")
    stored = await world.rows("SELECT name, phone FROM clients WHERE id = ?", ANN_ID)
    assert tuple(stored[0]) == (f"{NAMES[language]} Petrova", None)

    services = await client.send_contact("+79161234567")

    assert text_of(client.messages[-2]) == plain(t("reg.thanks", name=f"{NAMES[language]} Petrova"))
    assert client.reply_buttons() == []  # the contact keyboard is gone
    assert text_of(services) == t("book.choose_service")
    assert client.buttons() == [service_label(t, world.haircut), t("nav.back")]
    stored = await world.rows("SELECT name, phone FROM clients WHERE id = ?", ANN_ID)
    assert tuple(stored[0]) == (f"{NAMES[language]} Petrova", "+79161234567")

    # Known now: the next Book goes straight to the services.
    await client.send("/start")
    again = await client.click(t("menu.book"))
    assert text_of(again) == t("book.choose_service")


async def test_leaving_the_registration_forgets_it(world: World) -> None:
    t = TR("en")
    client = world.client(ann("en"))
    await client.send("/start")
    await client.click(t("menu.book"))
    assert text_of(client.last_message) == t("reg.ask_name")

    await client.click(t("menu.contacts"))
    await client.click(t("nav.back"))  # back in the main menu

    assert text_of(await client.send("hello")) == t("hint.free_text")
    stored = await world.rows("SELECT name FROM clients WHERE id = ?", ANN_ID)
    assert stored[0][0] is None


async def test_name_only_when_phone_is_not_required(world: World) -> None:
    t = TR("en")
    client = world.client(ann("en"))

    await client.send("/book")
    assert text_of(client.last_message) == t("reg.ask_name")
    await client.send("x" * 65)
    assert text_of(client.last_message) == t("reg.bad_name_long", max=64)

    shown = await client.send("Ann")  # the reply button sends the first name as text

    assert text_of(client.messages[-2]) == "Thank you, Ann!"
    assert text_of(shown) == t("book.choose_service")


# ------------------------------------------------------------------ the booking flow


@pytest.mark.parametrize("language", LANGS)
async def test_booking_from_service_to_calendar_file(world: World, language: str) -> None:
    user = ann(language)
    client, t, services_msg = await start_booking(world, user)
    mid = services_msg["message_id"]
    assert text_of(services_msg) == t("book.choose_service")
    assert client.buttons() == [service_label(t, world.haircut), t("nav.back")]

    calendar = await client.click(service_label(t, world.haircut))

    # One specialist: no specialist step. The month, from Monday, today on.
    assert calendar is not None and calendar["message_id"] == mid
    assert text_of(calendar) == "Haircut\n\n" + t("book.choose_day")
    buttons = client.buttons()
    assert buttons[0] == DECEMBER[language]
    assert buttons[1:8] == WEEKDAYS[language]
    assert buttons[8:15] == [" ", "1", "2", "3", "4", "5", struck(6)]  # Nov 30 is blank
    assert struck(13) in buttons and "14" in buttons and "31" in buttons
    assert "◀" not in buttons and "▶" in buttons  # today's month is the first one

    times = await client.click("2")

    assert times is not None and times["message_id"] == mid
    assert text_of(times) == "Haircut\n\n" + plain(t("book.choose_time", day=WED_LONG[language]))
    slots = [b for b in client.buttons() if ":" in b]
    assert slots[0] == "10:00" and slots[-1] == "18:00"
    assert "13:00" in slots and "13:30" not in slots and "14:00" not in slots  # ends by 14:00
    assert client.buttons()[-2:] == [t("nav.back"), t("nav.cancel")]

    card = await client.click("10:30")

    assert card is not None and card["message_id"] == mid
    assert text_of(card).split("\n") == [
        t("book.check"),
        "",
        "Haircut",
        t("card.specialist", name="Master"),
        t("card.date", day=WED_LONG[language]),
        t("card.time", time="10:30"),
        t("card.duration", minutes=60),
        t("card.price", price=PRICE[language]),
        t("contacts.address", address="12 Garden St"),
    ]
    assert client.buttons() == [t("book.confirm"), t("nav.back"), t("nav.cancel")]

    booked = await client.click(t("book.confirm"))

    assert booked is not None and booked["message_id"] != mid  # the .ics file came after it
    done = client.messages[-2]
    assert done["message_id"] == mid
    assert text_of(done).split("\n")[0] == t("book.done")
    assert t("card.time", time="10:30") in text_of(done)
    assert client.buttons(done) == [t("menu.my"), t("nav.home")]
    assert booked["caption"] == t("book.ics_caption")
    [ics] = client.documents
    assert ics.filename.endswith(".ics")
    body = ics.content.decode()
    assert "DTSTART:20261202T073000Z\r\n" in body  # 10:30 Moscow (UTC+3)
    assert "DTEND:20261202T083000Z\r\n" in body
    assert "SUMMARY:Haircut — Studio <Lime> & Co\r\n" in body
    assert await world.bookings() == [
        (1, ANN_ID, "active", world.ts(WED, "10:30"), 1, None),
    ]
    assert client.alerts == []


@pytest.mark.parametrize("language", LANGS)
async def test_back_works_at_every_step_and_cancel_leaves(world: World, language: str) -> None:
    client, t, services_msg = await start_booking(world, ann(language))
    label = service_label(t, world.haircut)
    mid = services_msg["message_id"]

    await client.click(label)
    assert text_of(await client.click(t("nav.back"))) == t("book.choose_service")
    await client.click(label)
    await client.click("▶")
    await client.click("4")  # January 4th, a Monday
    assert text_of(client.last_message).endswith(
        {"ru": "понедельник, 4 января", "en": "Monday, 4 January"}[language]
        + "\n"
        + {"ru": "Выберите время:", "en": "Choose a time:"}[language]
    )
    back = await client.click(t("nav.back"))  # the calendar of the day's month
    assert client.buttons()[0] == JANUARY[language]
    await client.click("◀")
    await client.click("2")
    await client.click("11:00")
    back = await client.click(t("nav.back"))  # the times of that day again
    assert text_of(back).endswith(plain(t("book.choose_time", day=WED_LONG[language])))
    await client.click("11:00")
    left = await client.click(t("nav.cancel"))

    assert left is not None and left["message_id"] == mid
    assert client.buttons()[0] == t("menu.book")
    assert text_of(left).startswith({"ru": "Здравствуйте, Анна!", "en": "Hello, Ann!"}[language])
    assert await world.bookings() == []
    # Cancel from the calendar and from the times leaves too.
    await client.click(t("menu.book"))
    await client.click(label)
    await client.click(t("nav.cancel"))
    assert client.buttons()[0] == t("menu.book")
    await client.click(t("menu.book"))
    await client.click(label)
    await client.click("3")
    await client.click(t("nav.cancel"))
    assert client.buttons()[0] == t("menu.book")
    assert client.messages[-1]["message_id"] == mid


@pytest.mark.parametrize("language", LANGS)
async def test_calendar_limits_and_closed_days(world: World, language: str) -> None:
    client, t, _ = await start_booking(world, ann(language))
    await client.click(service_label(t, world.haircut))

    await client.click(struck(6))  # a Sunday
    assert client.last_answer == Answer(t("alert.day_unavailable"), show_alert=True)
    assert client.buttons()[0] == DECEMBER[language]  # nothing moved

    await client.click("▶")
    january = client.buttons()
    assert january[0] == JANUARY[language]
    # Horizon: today + 40 days = 10 January; the 11th on is closed, and there is no ▶.
    assert "9" in january and struck(10) in january  # the 10th is a Sunday
    assert struck(11) in january and struck(31) in january and "11" not in january
    assert "◀" in january and "▶" not in january
    assert january[8:15] == [" ", " ", " ", " ", "1", "2", struck(3)]  # Friday the 1st
    await client.click(struck(11))
    assert client.last_answer == Answer(t("alert.day_unavailable"), show_alert=True)

    # Header labels only stop the spinner.
    await client.click(JANUARY[language])
    assert quietly_answered(client)
    await client.click(WEEKDAYS[language][0])
    assert quietly_answered(client)

    # A month beyond the horizon (forged or kept from an old screen) starts from today's.
    await client.click_data(f"cal:{world.haircut.id}:0:202703:0")
    assert client.buttons()[0] == DECEMBER[language]


async def test_today_offers_only_times_after_the_minimum_notice(world: World) -> None:
    world.clock.set(at(world.tz, TUE, "11:10"))
    client, t, _ = await start_booking(world, ann("en"))
    await client.click(service_label(t, world.haircut))

    await client.click("1")

    slots = [b for b in client.buttons() if ":" in b]
    assert slots[0] == "12:30"  # 11:10 + 60 min, on the half-hour grid


@pytest.mark.parametrize("language", LANGS)
async def test_specialist_step_appears_with_a_second_specialist(
    world: World, language: str
) -> None:
    olga = await world.add_specialist("Olga", [world.haircut.id])
    client, t, shown = await start_booking(world, ann(language))

    step = await client.click(service_label(t, world.haircut))

    assert step is not None and step["message_id"] == shown["message_id"]
    assert text_of(step) == plain(t("book.choose_specialist", service="Haircut"))
    assert client.buttons() == [t("book.any_specialist"), "Master", "Olga", t("nav.back")]
    await client.click(t("nav.back"))
    assert text_of(client.last_message) == t("book.choose_service")
    await client.click(service_label(t, world.haircut))

    await client.click("Olga")
    assert text_of(client.last_message).startswith(
        "Haircut\n" + t("book.specialist_line", name="Olga")
    )
    await client.click(t("nav.back"))  # back to the specialists
    assert client.buttons()[0] == t("book.any_specialist")
    await client.click("Olga")
    await client.click("2")
    await client.click("10:00")
    assert t("card.specialist", name="Olga") in text_of(client.last_message)
    await client.click(t("book.confirm"))
    assert t("card.specialist", name="Olga") in text_of(client.messages[-2])

    # "Any specialist": Olga is busy at 10:00 now, so Bob gets Master.
    bob, bob_t, _ = await start_booking(world, BOB)
    await bob.click(service_label(bob_t, world.haircut))
    await bob.click(bob_t("book.any_specialist"))
    assert bob_t("book.specialist_line", name="Olga") not in text_of(bob.last_message)
    await bob.click("2")
    await bob.click("10:00")
    assert "Specialist: Any specialist" in text_of(bob.last_message)
    await bob.click(bob_t("book.confirm"))
    assert "Specialist: Master" in text_of(bob.messages[-2])
    assert await world.bookings() == [
        (1, ANN_ID, "active", world.ts(WED, "10:00"), olga, None),
        (2, BOB_ID, "active", world.ts(WED, "10:00"), 1, None),
    ]


# ------------------------------------------------------------------ refusals while booking


@pytest.mark.parametrize("language", LANGS)
async def test_time_taken_between_seeing_and_confirming(world: World, language: str) -> None:
    client, t, shown = await to_confirm(world, ann(language), WED, "10:00")
    taken = await world.services.booking.book(BOB_ID, world.haircut.id, at(world.tz, WED, "10:00"))
    assert taken.ok

    fresh = await client.click(t("book.confirm"))

    assert fresh is not None and fresh["message_id"] == shown["message_id"]
    assert plain(t("book.taken", time="10:00")) in text_of(fresh)
    slots = [b for b in client.buttons() if ":" in b]
    assert "10:00" not in slots and "10:30" not in slots and slots[0] == "11:00"
    assert [b[1:3] for b in await world.bookings()] == [(BOB_ID, "active")]
    await client.click("11:00")
    await client.click(t("book.confirm"))
    assert text_of(client.messages[-2]).startswith(t("book.done"))


@pytest.mark.parametrize("language", LANGS)
async def test_double_click_on_confirm_books_once(world: World, language: str) -> None:
    client, t, _ = await to_confirm(world, ann(language))
    card = client.last_message
    assert card is not None
    confirm_data = client.calls_since_last_action[0].params["reply_markup"]
    data = confirm_data["inline_keyboard"][0][0]["callback_data"]

    await client.click(t("book.confirm"))
    done_text = text_of(client.messages[-2])
    await client.click_data(data, message=card)  # the second tap of a double click

    assert client.last_answer == Answer(t("outcome.already_booked"), show_alert=True)
    assert text_of(client.messages[-2]) == done_text  # the booked card stays
    assert len(client.documents) == 1
    assert [b[2] for b in await world.bookings()] == ["active"]


@pytest.mark.parametrize("language", LANGS)
async def test_limit_reached(make_world: MakeWorld, language: str) -> None:
    world = await make_world(max_active_bookings_per_user=2)
    book = world.services.booking.book
    assert (await book(ANN_ID, world.haircut.id, at(world.tz, THU, "10:00"))).ok
    client, t, _ = await to_confirm(world, ann(language), WED, "10:00")
    # Booked from another device meanwhile: now at the limit.
    assert (await book(ANN_ID, world.haircut.id, at(world.tz, THU, "12:00"))).ok

    refused = await client.click(t("book.confirm"))

    assert text_of(refused) == t("outcome.limit_reached", limit=2)
    assert client.buttons() == [t("menu.my"), t("nav.home")]
    assert len(await world.bookings()) == 2
    # The way forward: My bookings, with cancel buttons.
    await client.click(t("menu.my"))
    assert t("my.cancel", n=1) in client.buttons()

    # At the limit the client is told before walking the calendar.
    await client.send("/book")
    refused = await client.click(service_label(t, world.haircut))
    assert text_of(refused) == t("outcome.limit_reached", limit=2)
    assert client.buttons() == [t("menu.my"), t("nav.home")]


@pytest.mark.parametrize("language", LANGS)
async def test_too_soon_after_the_clock_moved(world: World, language: str) -> None:
    client, t, shown = await to_confirm(world, ann(language), TUE, "10:00")
    world.clock.set(at(world.tz, TUE, "09:30"))

    refused = await client.click(t("book.confirm"))

    assert refused is not None and refused["message_id"] == shown["message_id"]
    assert plain(t("outcome.too_soon", minutes=60)) in text_of(refused)
    slots = [b for b in client.buttons() if ":" in b]
    assert slots and slots[0] == "10:30"  # still possible today
    assert t("nav.back") in client.buttons()
    assert await world.bookings() == []


@pytest.mark.parametrize("language", LANGS)
async def test_service_switched_off_between_steps(world: World, language: str) -> None:
    client, t, _ = await start_booking(world, ann(language))
    await client.click(service_label(t, world.haircut))
    calendar = client.last_message
    await world.services.catalog.set_active(world.haircut.id, False, ADMIN)

    refused = await client.click("2", message=calendar)

    assert text_of(refused) == t("outcome.service_inactive")
    assert t("nav.back") in client.buttons()
    services = await client.click(t("nav.back"))
    assert text_of(services) == t("book.no_services")
    assert await world.bookings() == []


async def test_service_switched_off_at_the_confirm_card(world: World) -> None:
    client, t, _ = await to_confirm(world, ann("en"))
    await world.services.catalog.set_active(world.haircut.id, False, ADMIN)

    refused = await client.click(t("book.confirm"))

    assert text_of(refused) == t("outcome.service_inactive")
    assert client.buttons()[0] == t("nav.back")
    assert await world.bookings() == []


@pytest.mark.parametrize("language", LANGS)
async def test_day_off_set_between_steps(world: World, language: str) -> None:
    client, t, _ = await to_confirm(world, ann(language), WED, "10:00")
    await world.services.schedule.set_day(WED, None, ADMIN, reason="holiday")

    refused = await client.click(t("book.confirm"))

    assert plain(t("outcome.outside_hours")) in text_of(refused)
    assert plain(t("book.no_times", day=WED)) in text_of(refused)
    in_sentence = {"ru": "времени на среду, 2 декабря не", "en": "left on Wednesday, 2 December."}
    assert in_sentence[language] in text_of(refused)
    assert [b for b in client.buttons() if ":" in b] == []
    calendar = await client.click(t("nav.back"))
    assert calendar is not None
    assert struck(2) in client.buttons() and "3" in client.buttons()
    assert await world.bookings() == []


# ------------------------------------------------------------------ my bookings


async def book_for(world: World, client_id: int, day: date, hhmm: str) -> int:
    result = await world.services.booking.book(client_id, world.haircut.id, at(world.tz, day, hhmm))
    assert result.booking is not None, result.outcome
    await world.handled(result.booking.id)
    return result.booking.id


@pytest.mark.parametrize("language", LANGS)
async def test_my_bookings_lists_upcoming_and_cancels_after_asking(
    world: World, language: str
) -> None:
    t = TR(language)
    await world.register(ann(language))
    first = await book_for(world, ANN_ID, WED, "10:00")
    second = await book_for(world, ANN_ID, THU, "15:00")
    gone = await book_for(world, ANN_ID, THU, "11:00")
    await world.services.staff.cancel(gone, ADMIN)
    await book_for(world, BOB_ID, WED, "12:00")
    client = world.client(ann(language))

    listed = await client.send("/my")

    assert text_of(listed).split("\n") == [
        plain(t("my.title")),
        "",
        t(
            "my.item",
            n=1,
            day=WED_LONG[language],
            time="10:00",
            service="Haircut",
            specialist="Master",
        ),
        t(
            "my.item",
            n=2,
            day=THU_LONG[language],
            time="15:00",
            service="Haircut",
            specialist="Master",
        ),
    ]
    assert client.buttons() == [
        t("my.move", n=1),
        t("my.cancel", n=1),
        t("my.move", n=2),
        t("my.cancel", n=2),
        t("menu.book"),
        t("nav.back"),
    ]

    asked = await client.click(t("my.cancel", n=2))
    assert text_of(asked) == plain(t("my.cancel_ask", service="Haircut", day=THU, time="15:00"))
    assert {"ru": "на четверг, 3 декабря, 15:00?", "en": "on Thursday, 3 December at 15:00?"}[
        language
    ] in text_of(asked)
    assert client.buttons() == [t("my.cancel_yes"), t("my.cancel_no")]
    kept = await client.click(t("my.cancel_no"))
    assert text_of(kept) == text_of(listed)

    await client.click(t("my.cancel", n=2))
    done = await client.click(t("my.cancel_yes"))

    assert text_of(done) == plain(t("my.cancelled", service="Haircut", day=THU, time="15:00"))
    assert {"ru": "на четверг, 3 декабря, 15:00 отменена", "en": "on Thursday, 3 December at"}[
        language
    ] in text_of(done)
    assert done is not None and listed is not None
    assert done["message_id"] == listed["message_id"]
    assert client.buttons() == [t("my.book_again"), t("menu.my")]
    statuses = {b[0]: b[2] for b in await world.bookings()}
    assert statuses[first] == "active" and statuses[second] == "cancelled"

    # The second tap of a double click on "Yes, cancel": a short alert, the screen stays.
    await client.click_data(f"bk:cancel_yes:{second}", message=done)
    assert client.last_answer == Answer(t("outcome.not_active"), show_alert=True)
    assert text_of(client.last_message) == text_of(done)
    assert {b[0]: b[2] for b in await world.bookings()} == statuses

    relisted = await client.click(t("menu.my"))
    assert t("my.cancel", n=2) not in client.buttons()
    assert THU_LONG[language] not in text_of(relisted)


@pytest.mark.parametrize("language", LANGS)
async def test_no_bookings(world: World, language: str) -> None:
    t = TR(language)
    client = world.client(ann(language))
    await client.send("/start")

    shown = await client.click(t("menu.my"))

    assert text_of(shown) == t("my.empty")
    assert client.buttons() == [t("menu.book"), t("nav.back")]


@pytest.mark.parametrize("language", LANGS)
async def test_cancel_inside_the_cutoff_is_refused_with_contacts(
    world: World, language: str
) -> None:
    t = TR(language)
    await world.register(ann(language))
    booking = await book_for(world, ANN_ID, WED, "10:00")
    client = world.client(ann(language))
    await client.send("/my")
    await client.click(t("my.cancel", n=1))
    world.clock.set(at(world.tz, WED, "08:30"))  # 90 minutes before; the cutoff is 120

    refused = await client.click(t("my.cancel_yes"))

    expected = t("outcome.too_late", minutes=120, contacts="+7 900 000-00-00, 12 Garden St")
    assert text_of(refused) == plain(expected)
    assert client.buttons() == [t("menu.my"), t("nav.home")]
    # Asking again from the list is refused just the same, as is moving it.
    await client.click(t("menu.my"))
    await client.click(t("my.cancel", n=1))
    assert text_of(client.last_message) == plain(expected)
    await client.click(t("menu.my"))
    await client.click(t("my.move", n=1))
    assert text_of(client.last_message) == plain(expected)
    assert await world.bookings() == [(booking, ANN_ID, "active", world.ts(WED, "10:00"), 1, None)]


@pytest.mark.parametrize("language", LANGS)
async def test_reschedule_swaps_atomically(make_world: MakeWorld, language: str) -> None:
    world = await make_world(max_active_bookings_per_user=1)
    t = TR(language)
    await world.register(ann(language))
    old = await book_for(world, ANN_ID, WED, "10:00")
    client = world.client(ann(language))
    listed = await client.send("/my")

    calendar = await client.click(t("my.move", n=1))

    assert calendar is not None and listed is not None
    assert calendar["message_id"] == listed["message_id"]
    assert text_of(calendar).startswith(
        plain(t("move.header", service="Haircut", day=WED, time="10:00"))
    )
    assert {"ru": "Haircut со среды, 2 декабря, 10:00", "en": "Haircut from Wednesday, 2 December"}[
        language
    ] in text_of(calendar)
    assert client.buttons()[0] == DECEMBER[language]
    await client.click("3")
    await client.click("11:00")
    assert text_of(client.last_message).startswith(t("move.check"))
    assert t("card.date", day=THU_LONG[language]) in text_of(client.last_message)

    await client.click(t("book.confirm"))

    done = client.messages[-2]
    assert done["message_id"] == listed["message_id"]
    assert text_of(done).startswith(t("move.done"))
    assert t("card.time", time="11:00") in text_of(done)
    assert "DTSTART:20261203T080000Z" in client.documents[-1].content.decode()
    rows = await world.bookings()
    assert rows == [
        (old, ANN_ID, "cancelled", world.ts(WED, "10:00"), 1, None),
        (old + 1, ANN_ID, "active", world.ts(THU, "11:00"), 1, old),
    ]
    reason = await world.rows("SELECT cancel_reason FROM bookings WHERE id = ?", old)
    assert reason[0][0] == "rescheduled"
    mine = await client.click(t("menu.my"))
    assert THU_LONG[language] in text_of(mine)
    assert WED_LONG[language] not in text_of(mine)


async def test_reschedule_back_and_double_click(world: World) -> None:
    t = TR("en")
    await world.register(ann("en"))
    old = await book_for(world, ANN_ID, WED, "10:00")
    client = world.client(ann("en"))
    await client.send("/my")
    await client.click(t("my.move", n=1))
    back = await client.click(t("nav.back"))
    assert text_of(back).startswith(plain(t("my.title")))
    await client.click(t("my.move", n=1))
    await client.click("2")
    # Its own hour is free for the move (10:30 overlaps it), but 10:00 is not offered back.
    assert "10:00" not in client.buttons() and "10:30" in client.buttons()
    await client.click("10:30")
    card = client.last_message
    assert card is not None
    data = client.calls_since_last_action[0].params["reply_markup"]["inline_keyboard"][0][0]
    await client.click(t("book.confirm"))
    moved_text = text_of(client.messages[-2])

    await client.click_data(data["callback_data"], message=card)

    assert client.last_answer == Answer(t("outcome.already_booked"), show_alert=True)
    assert text_of(client.messages[-2]) == moved_text
    assert len(client.documents) == 1
    assert await world.bookings() == [
        (old, ANN_ID, "cancelled", world.ts(WED, "10:00"), 1, None),
        (old + 1, ANN_ID, "active", world.ts(WED, "10:30"), 1, old),
    ]


# ------------------------------------------------------------------ forged and stale buttons


async def test_another_clients_booking_cannot_be_touched(world: World) -> None:
    t = TR("en")
    await world.register(ann("en"))
    bobs = await book_for(world, BOB_ID, THU, "15:00")
    client = world.client(ann("en"))
    await client.send("/my")
    ts = world.ts(WED, "11:00")
    sid = world.haircut.id

    for data in (
        f"bk:cancel_yes:{bobs}",
        f"bk:cancel:{bobs}",
        f"bk:move:{bobs}",
        f"cal:{sid}:0:202612:{bobs}",
        f"day:{sid}:0:20261202:{bobs}",
        f"tm:{sid}:0:{ts}:{bobs}",
        f"ok:{sid}:0:{ts}:{bobs}",
    ):
        await client.send("/my")
        await client.click_data(data)
        shown = text_of(client.last_message)
        assert shown == t("outcome.not_found"), data
        assert "15:00" not in shown and "Bob" not in shown

    assert await world.bookings() == [(bobs, BOB_ID, "active", world.ts(THU, "15:00"), 1, None)]


@pytest.mark.parametrize(
    "data",
    [
        "xyz",
        "",
        "svc:",
        "tm:1:0:notanumber:0",
        "day:1:0:20261399:0",  # no 99th day
        "day:1:0:-5:0",
        "day:1:0:19991231:0",  # long past
        "day:1:0:20270301:0",  # beyond the booking horizon
        "day:1:0:10000000000000000000000000:0",  # overflows a date
        "cal:1:0:99999999999999999999:0",
        "svc:99999999999999999999999",  # more than SQLite's integers hold
        "bk:cancel_yes:99999999999999999999999",
        "tm:1:0:99999999999999999:0",  # beyond datetime's years
        "ok:1:0:99999999999999999:0",
        "ok:1:0:-99999999999999:0",
        "sp:1:5",  # no such step
        "lang:de",  # no such language
        "nav:nowhere",
        "bk:explode:1",
        "ok:1:0:0:0",  # 1970: before any date the bot shows
        "tm:1:0:0:0",
        "ok:1:0:946684799:0",  # one second before 2000
    ],
)
async def test_garbage_callback_data_gets_an_alert_and_changes_nothing(
    world: World, data: str
) -> None:
    t = TR("en")
    await world.register(ann("en"))
    mine = await book_for(world, ANN_ID, WED, "10:00")
    client = world.client(ann("en"))
    menu = await client.send("/start")
    before = await world.bookings()

    await client.click_data(data)

    assert client.last_answer == Answer(t("alert.stale"), show_alert=True)
    assert [c.method for c in client.calls_since_last_action] == ["answerCallbackQuery"]
    assert client.last_message == menu
    assert await world.bookings() == before
    details = await world.services.booking.get(mine)
    assert details is not None and details.booking.is_active
    assert client.user.language_code == "en"


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ("svc:0", "outcome.service_inactive"),
        ("svc:77", "outcome.service_inactive"),
        ("cal:1:9:202612:0", "outcome.unknown_specialist"),
        ("ok:1:7:1796198400:0", "outcome.unknown_specialist"),
    ],
)
async def test_unknown_service_or_specialist_is_refused_with_a_way_back(
    world: World, data: str, key: str
) -> None:
    t = TR("en")
    await world.register(ann("en"))
    client = world.client(ann("en"))
    await client.send("/start")

    shown = await client.click_data(data)

    assert text_of(shown) == t(key)
    assert client.buttons() == [t("nav.back"), t("menu.my"), t("nav.home")]
    again = await client.click(t("nav.back"))
    assert text_of(again) == t("book.choose_service")
    assert await world.bookings() == []


async def test_unknown_booking_id(world: World) -> None:
    t = TR("ru")
    client = world.client(ann("ru"))
    await client.send("/my")

    for action in ("cancel", "cancel_yes", "move"):
        await client.click_data(f"bk:{action}:999")
        assert text_of(client.last_message) == t("outcome.not_found")
        assert client.buttons() == [t("menu.my"), t("nav.home")]


async def test_stale_confirm_of_a_time_now_past(world: World) -> None:
    client, t, _ = await to_confirm(world, ann("en"), TUE, "10:00")
    world.clock.set(at(world.tz, WED, "09:00"))  # the next day

    refused = await client.click(t("book.confirm"))

    assert plain(t("outcome.too_soon", minutes=60)) in text_of(refused)
    assert await world.bookings() == []
    # Its day (yesterday now) has no times; Back leads to a live calendar.
    await client.click(t("nav.back"))
    assert client.buttons()[0] == DECEMBER["en"]
    assert struck(1) in client.buttons() and "2" in client.buttons()


async def test_calendar_left_open_overnight(world: World) -> None:
    client, t, _ = await start_booking(world, ann("en"))
    await client.click(service_label(t, world.haircut))
    world.clock.set(at(world.tz, WED, "08:00"))

    await client.click("1")  # yesterday now

    assert client.last_answer == Answer(t("alert.stale"), show_alert=True)
    await client.click("2")
    assert next(b for b in client.buttons() if ":" in b) == "10:00"


async def test_button_of_a_switched_off_service(world: World, add_service: AddService) -> None:
    beard = await add_service("Beard", 30, 700)
    client, t, shown = await start_booking(world, ann("en"))
    await world.services.catalog.set_active(beard.id, False, ADMIN)

    refused = await client.click(service_label(t, beard), message=shown)

    assert text_of(refused) == t("outcome.service_inactive")
    await client.click(t("nav.back"))
    assert client.buttons() == [service_label(t, world.haircut), t("nav.back")]


@pytest.mark.parametrize("language", LANGS)
async def test_a_service_no_active_specialist_offers_is_hidden_and_refused(
    world: World, add_service: AddService, language: str
) -> None:
    beard = await add_service("Beard", 30, 700)
    anna = await world.add_specialist("Anna", [beard.id])
    await world.services.specialists.set_services(1, [world.haircut.id], ADMIN)
    client, t, shown = await start_booking(world, ann(language))
    assert client.buttons() == [
        service_label(t, world.haircut),
        service_label(t, beard),
        t("nav.back"),
    ]
    await world.services.specialists.set_active(anna, False, ADMIN)  # nobody does beards now

    await client.send("/book")
    assert client.buttons() == [service_label(t, world.haircut), t("nav.back")]
    await client.send("/start")
    prices = await client.click(t("menu.services"))
    assert "Haircut" in text_of(prices) and "Beard" not in text_of(prices)

    # The old list's button, and forged data for every later step: the usual refusal.
    refused = await client.click(service_label(t, beard), message=shown)
    assert text_of(refused) == t("outcome.service_inactive")
    assert client.buttons(refused) == [t("nav.back"), t("menu.my"), t("nav.home")]
    start = world.ts(WED, "10:00")
    inactive = "outcome.service_inactive"
    for data, key in (
        (CalendarCb(service=beard.id, specialist=0, month=202612), inactive),
        (CalendarCb(service=beard.id, specialist=anna, month=202612), inactive),
        (DayCb(service=beard.id, specialist=0, day=20261202), inactive),
        (TimeCb(service=beard.id, specialist=0, start=start), inactive),
        (ConfirmCb(service=beard.id, specialist=0, start=start), inactive),
        (ConfirmCb(service=beard.id, specialist=anna, start=start), inactive),
    ):
        await client.click_data(data.pack(), message=shown)
        assert client.answered
        now_shown = world.flow.emulator.message(ANN_ID, shown["message_id"])
        assert text_of(now_shown) == t(key), data
        assert client.buttons(now_shown)[0] == t("nav.back")  # back to the services
    assert await world.bookings() == []


async def test_stale_time_button_shows_the_fresh_times(world: World) -> None:
    client, t, _ = await start_booking(world, ann("en"))
    await client.click(service_label(t, world.haircut))
    await client.click("2")
    await book_for(world, BOB_ID, WED, "10:00")

    shown = await client.click("10:00")

    assert text_of(shown).startswith("Haircut\n\n" + t("book.gone"))
    assert "10:00" not in client.buttons()


# ------------------------------------------------------------------ outside the flow


@pytest.mark.parametrize("language", LANGS)
async def test_free_text_and_unknown_command(world: World, language: str) -> None:
    t = TR(language)
    client = world.client(ann(language))

    assert text_of(await client.send("hello there")) == t("hint.free_text")
    assert text_of(await client.send("/frobnicate")) == t("hint.unknown_command")
    await client.send_contact("+79160000000")
    assert text_of(client.last_message) == t("hint.free_text")


async def test_group_chat_messages_are_ignored(world: World) -> None:
    flow = world.flow
    user = ann("en")
    for text in ("/start", "/book", "hello", "/my"):
        flow.emulator.send_message(user, text, chat_id=-100500)
    mark = len(flow.calls)

    await flow.feed_pending()

    assert flow.calls[mark:] == []
    assert flow.emulator.pending_updates == []


async def test_a_confirm_reached_without_registering_asks_for_the_name_first(
    make_world: MakeWorld,
) -> None:
    world = await make_world(require_phone=True)
    user, t = ann("en"), TR("en")
    client = world.client(user)
    menu = await client.send("/start")
    start = world.ts(WED, "10:00")
    await client.click_data(f"ok:{world.haircut.id}:0:{start}:0", message=menu)
    assert text_of(client.last_message) == plain(t("reg.ask_name"))
    assert await world.bookings() == []


async def test_commands_still_work_while_the_bot_asks_for_a_name(world: World) -> None:
    user, t = ann("en"), TR("en")
    client = world.client(user)
    await client.send("/start")
    await client.click(t("menu.book"))
    assert text_of(client.last_message) == plain(t("reg.ask_name"))
    shown = await client.send("/my")
    assert text_of(shown) == plain(t("my.empty"))
    # The registration was left: the next text is not taken as a name.
    await client.send("hello")
    assert text_of(client.last_message) == plain(t("hint.free_text"))
    client_row = await world.services.clients.get(user.id)
    assert client_row is not None and client_row.name is None


async def test_the_apology_for_an_error_is_in_the_language_the_client_chose(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    user = ann("ru")  # Telegram says Russian...
    client = world.client(user)
    await client.send("/start")
    await world.services.clients.set_language(user.id, "en")  # ...the client chose English
    menu = await client.send("/start")
    world.flow.emulator.fail_next(
        "editMessageText", error_code=500, description="Internal Server Error"
    )
    await client.click(TR("en")("menu.contacts"), message=menu)
    assert client.last_answer == Answer(TR("en")("error.generic"), show_alert=True)
    caplog.clear()  # the error was logged, as it should be; it is the point of this test
