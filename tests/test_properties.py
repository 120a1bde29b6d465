"""Property-based tests (Hypothesis), deterministic and bounded in time.

1. Forged buttons: any callback data Telegram could deliver (text of up to 64 UTF-8 bytes,
   arbitrary bytes as Telegram would decode them, near-misses of the real prefixes with random
   fields, and well-formed data of every button with random ids, instants and days), pressed by a
   client in their chat and by an admin in the admin group and in their private chat, through the
   real Dispatcher: never an error, always exactly one answer (never the apology), and not one
   row of any table changes. The few presses that are legitimate changes in this world are left
   out (``Stage.legitimate``), so the world stays as it was set up, once per test.
2. The slot engine (services/slots.py) against a brute-force reference written from the
   documented rules only: random weekly hours with breaks, date exceptions, bookings with
   buffers, service lengths, steps, lead times, horizons and clocks, in four zones on dates
   around their clock changes (Lord Howe's is 30 minutes). The reference never localizes a wall
   time: it reads the wall clock of every UTC minute (the direction with no ambiguity) and takes
   a wall time's instant to be the first minute showing it.

Every example set is fixed (``derandomize=True``, no example database), so CI runs the same
examples each time.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import itertools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

import pytest
import pytz
from aiogram.filters.callback_data import CallbackData
from hypothesis import HealthCheck, assume, example, given, reject, settings
from hypothesis import strategies as st
from pydantic.fields import FieldInfo

import handlers.callback_data as buttons
from domain.bookings import BookingStatus, BusyInterval
from domain.rules import Rules
from domain.schedule import ScheduleException
from handlers.callback_data import AdminAction, AdminBookingCb, LanguageCb, StaffConfirmCb
from services.slots import (
    SlotQuery,
    SpecialistSchedule,
    busy_by_specialist,
    free_starts,
    is_candidate,
)
from tests.conftest import ADMIN as ADMIN_ACTOR
from tests.conftest import AddService, at
from tests.support.botapi_emulator import FakeUser
from tests.test_flow_client import (  # noqa: F401 - fixtures used by name
    ANN_ID,
    BOB_ID,
    TR,
    TUE,
    WED,
    MakeWorld,
    World,
    ann,
    book_for,
    db,
    make_world,
    no_handler_errors,
)
from utils.hours import Interval, WeeklyHours
from utils.i18n import LANGUAGES
from utils.timeutil import from_ts, to_ts

JSON = dict[str, Any]

# The admin chat as tests/test_admin_flow.py has it.
GROUP = -1001234567890
ADMIN = FakeUser(id=42, first_name="Olga", username="olga", language_code="en")
CAROL = FakeUser(id=1003, first_name="Carol", language_code="en")  # shows the booking buttons

# ================================================================== 1. forged callback data

THU = TUE + timedelta(days=2)
FRI = TUE + timedelta(days=3)  # closed for the whole business (a day off without bookings)
NOW_HHMM = "09:30"  # on WED: the active bookings (10:00, 11:00) are inside the cancel cutoff

# Every kind of button and every action word, read from handlers/callback_data.py itself, so a
# button added there is forged here too.
BUTTON_KINDS: list[type[CallbackData]] = sorted(
    (
        kind
        for kind in vars(buttons).values()
        if isinstance(kind, type)
        and issubclass(kind, CallbackData)
        and kind.__module__ == buttons.__name__
    ),
    key=lambda kind: kind.__prefix__,
)
ACTION_WORDS = sorted(
    {
        member.value
        for kind in vars(buttons).values()
        if isinstance(kind, type)
        and issubclass(kind, StrEnum)
        and kind.__module__ == buttons.__name__
        for member in kind
    }
)
PREFIXES = [kind.__prefix__ for kind in BUTTON_KINDS]
WORDS = [*ACTION_WORDS, *LANGUAGES, "CANCEL_YES", "Home", "de", ""]
# Numbers at and just past every bound the callback data classes and the databases know.
EDGE_NUMBERS = [
    -1,
    0,
    1,
    2**31 - 1,
    2**31,
    2**53,
    2**53 + 1,
    2**63 - 1,
    2**63,
    2**64,
    946_684_799,
    946_684_800,
    4_102_444_800,
    4_102_444_801,
    200001,
    210012,
    210013,
    20000101,
    21001231,
    21001232,
    10**30,
    -(10**30),
]
# Numbers as a tampered client might spell them.
ODD_NUMBERS = [
    "+1",
    " 1",
    "1 ",
    "01",
    "1_0",
    "1.0",
    "1e3",
    "0x10",
    "-0",
    "１",
    "٣",
    "²",
    "∞",
    "NaN",
]


@dataclass
class Presser:
    """One user pressing buttons on one message in one chat."""

    user: FakeUser
    message: JSON
    staff: bool  # ADMIN_IDS: admin buttons act


@dataclass(repr=False)
class Stage:
    """The world the forged presses land in, set up once per test."""

    world: World
    ann: Presser
    admin_group: Presser
    admin_private: Presser
    active: set[int]  # active bookings (an admin may cancel them: a change by design)
    shown: dict[str, list[str]]  # every button the bot has shown anyone, by prefix
    bookings: list[int]  # every booking, and ids just past them
    services: list[int]  # the active one, the switched-off one, none
    specialists: list[int]  # any (0), both, none
    instants: list[int]  # grid starts (free, taken, past, too soon, closed, far) and bookings'
    days: list[int]  # YYYYMMDD around today, closed ones, and impossible ones
    months: list[int]

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text("Stage(...)")  # Hypothesis prints a failing example's arguments: not all this

    @functools.cached_property
    def forged(self) -> st.SearchStrategy[str]:
        return forged_data(self)

    def legitimate(self, presser: Presser, data: str) -> bool:
        """Whether pressing ``data`` is a change the user may make here: such presses are left
        out (other tests cover them), so the world stays as set up, and every other press must
        leave every row as it was.

        Decided with the very parsers the filters use. Every other change a button can ask for
        is refused in this world by the rules: the clients hold their one allowed booking (the
        limit), inside the cancel cutoff (no cancel or move), their visits already confirmed;
        nothing has started (no marks); no booking lies outside its hours (the closed day has
        none), so "cancel them all" finds nothing.
        """
        with contextlib.suppress(TypeError, ValueError):
            StaffConfirmCb.unpack(data)  # staff booking or moving for a client: theirs to make
            return presser.staff
        with contextlib.suppress(TypeError, ValueError):
            staff_action = AdminBookingCb.unpack(data)
            return (
                presser.staff
                and staff_action.action is AdminAction.CANCEL_YES
                and staff_action.booking in self.active
            )
        try:
            language = LanguageCb.unpack(data)
        except (TypeError, ValueError):
            return False
        return language.code in LANGUAGES  # the language screen's buttons


def on_screen(message: JSON | None) -> list[str]:
    """The callback data of the inline buttons of a message (or of a call's params)."""
    markup = (message or {}).get("reply_markup") or {}
    if not isinstance(markup, dict):
        return []
    return [
        str(button["callback_data"])
        for row in markup.get("inline_keyboard", [])
        for button in row
        if "callback_data" in button
    ]


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def fits(text: str) -> bool:
    return utf8_len(text) <= 64


def field_values(stage: Stage, name: str, info: FieldInfo) -> st.SearchStrategy[Any]:
    """Values a button's field may hold: its type's, within its bounds, often the world's own
    ids, instants and days (so the presses reach the services, not only the filters)."""
    kind = info.annotation
    if isinstance(kind, type) and issubclass(kind, StrEnum):
        return st.sampled_from(kind)
    if kind is str:
        return st.one_of(st.sampled_from([*LANGUAGES, "de", "xx"]), st.text("abcxyz_", max_size=4))
    assert kind is int, f"{name}: {kind} (a new kind of field: teach the forger)"
    low = next((m.ge for m in info.metadata if hasattr(m, "ge")), -(2**63))
    high = next((m.le for m in info.metadata if hasattr(m, "le")), 2**63 - 1)
    pools = {
        "service": stage.services,
        "specialist": stage.specialists,
        "booking": stage.bookings,
        "moving": stage.bookings,
        "start": stage.instants,
        "asked": stage.instants,
        "day": stage.days,
        "first": stage.days,
        "last": stage.days,
        "month": stage.months,
    }
    pool = [n for n in pools.get(name, []) if low <= n <= high]
    edges = st.sampled_from([low, high])
    anything = st.integers(low, high)
    if not pool:
        return st.one_of(edges, anything)
    known = st.sampled_from(pool)
    return st.one_of(known, known, known, edges, anything)


def button(stage: Stage, kind: type[CallbackData]) -> st.SearchStrategy[str]:
    """Well-formed data of one kind of button, with any values its fields accept."""

    @st.composite
    def packed(draw: st.DrawFn) -> str:
        values = {
            name: draw(field_values(stage, name, info), label=f"{kind.__name__}.{name}")
            for name, info in kind.model_fields.items()
        }
        try:
            return kind(**values).pack()
        except ValueError:  # longer than 64 bytes: no button can carry it
            reject()

    return packed()


def forged_data(stage: Stage) -> st.SearchStrategy[str]:
    """Any data a client could send, plus near-misses and well-formed forgeries."""
    text = st.text(st.characters(exclude_categories=["Cs"]), max_size=64).filter(fits)
    # Bytes that are not UTF-8: the Bot API hands them on decoded, with replacement characters.
    raw = st.binary(max_size=64).map(lambda b: b.decode("utf-8", errors="replace"))
    numbers = st.one_of(
        st.integers(-5, 10),
        st.sampled_from(EDGE_NUMBERS),
        st.integers(-(2**70), 2**70),
    ).map(str)
    fields = st.one_of(
        numbers,
        st.sampled_from(ODD_NUMBERS),
        st.sampled_from(WORDS),
        st.sampled_from(stage.bookings + stage.services + stage.specialists).map(str),
        st.sampled_from(stage.instants).map(str),
        st.sampled_from(stage.days).map(str),
        st.sampled_from(stage.months).map(str),
        st.text(max_size=6),
    )
    prefix = st.one_of(
        st.sampled_from(PREFIXES),
        st.sampled_from(PREFIXES).map(str.upper),
        st.sampled_from(PREFIXES).map(lambda p: p + " "),
        st.sampled_from(PREFIXES).map(lambda p: p[:-1]),
        st.text(max_size=4),
    )
    separators = st.sampled_from([":", ":", ":", "::", ";", " : "])
    near_miss = st.builds(
        lambda head, sep, parts: sep.join([head, *parts]),
        prefix,
        separators,
        st.lists(fields, max_size=6),
    ).filter(fits)

    well_formed = st.one_of(*(button(stage, kind) for kind in BUTTON_KINDS))

    @st.composite
    def shown(draw: st.DrawFn) -> str:
        """A button the bot showed someone (pressed by another user, or later): as it was, with
        one field changed to another value of its type, or with one part replaced by anything."""
        prefix = draw(st.sampled_from(sorted(stage.shown)))
        data = draw(st.sampled_from(stage.shown[prefix]))
        change = draw(st.sampled_from(["none", "field", "part"]))
        kind = next((k for k in BUTTON_KINDS if k.__prefix__ == prefix), None)
        if change == "field" and kind is not None:
            name, info = draw(st.sampled_from(sorted(kind.model_fields.items())))
            value = draw(field_values(stage, name, info))
            try:
                return kind.unpack(data).model_copy(update={name: value}).pack()
            except ValueError:  # longer than 64 bytes
                reject()
        parts = data.split(":")
        if change != "none" and len(parts) > 1:
            parts[draw(st.integers(1, len(parts) - 1))] = draw(fields)
        return ":".join(parts)

    real = shown().filter(fits)
    return st.one_of(text, raw, near_miss, well_formed, real, real)


async def dump(world: World) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (sqlite_sequence too), in a stable order."""

    def work(conn: Any) -> dict[str, list[tuple[Any, ...]]]:
        names = [
            str(row[0])
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            ).fetchall()
        ]
        return {
            name: sorted(
                (tuple(row) for row in conn.execute(f'SELECT * FROM "{name}"').fetchall()),
                key=repr,
            )
            for name in names
        }

    result: dict[str, list[tuple[Any, ...]]] = await world.db.read(work)
    return result


def grid(world: World, days: Iterable[date]) -> list[int]:
    """Every half hour of the days, local time (the bot's step), as Unix seconds."""
    found = []
    for day in days:
        for minute in range(0, 24 * 60, 30):
            found.append(world.ts(day, f"{minute // 60:02d}:{minute % 60:02d}"))
    return found


@pytest.fixture
async def stage(make_world: MakeWorld, add_service: AddService) -> Stage:  # noqa: F811
    """Clients at their limit (one active booking each, inside the cancel cutoff, visits
    confirmed), another client's bookings (active and not confirmed, cancelled, no-show), a
    switched-off service, a second specialist, a closed day without bookings, and the buttons
    all this put on screens; Wed 2026-12-02 09:30 Moscow."""
    world = await make_world(
        admin_ids=[ADMIN.id],
        admin_chat_id=GROUP,
        max_active_bookings_per_user=1,
        reminder_offsets=[25 * 60, 120],  # Bob's Thursday 10:00 is reminded of by now
    )
    services = world.services
    beard = await add_service("Beard", 30, 700)
    await services.catalog.set_active(beard.id, False, ADMIN_ACTOR)
    vera = await world.add_specialist("Vera", [world.haircut.id])
    bob = FakeUser(id=BOB_ID, first_name="Bob", language_code="en")
    for user in (ann("en"), bob, ADMIN):
        await world.register(user)

    bob_gone = await book_for(world, BOB_ID, TUE, "10:00")
    world.clock.set(at(world.tz, TUE, "10:30"))
    marked = await services.staff.mark(bob_gone, BookingStatus.NO_SHOW, ADMIN_ACTOR)
    assert marked.booking is not None and marked.booking.status is BookingStatus.NO_SHOW
    bob_thu = await book_for(world, BOB_ID, THU, "10:00")
    ann_cancelled = await book_for(world, ANN_ID, THU, "12:00")
    await services.staff.cancel(ann_cancelled, ADMIN_ACTOR)
    ann_wed = await book_for(world, ANN_ID, WED, "11:00")
    admin_wed = await book_for(world, ADMIN.id, WED, "10:00")
    await services.schedule.set_day(FRI, None, ADMIN_ACTOR, reason="holiday")
    world.clock.set(at(world.tz, WED, NOW_HHMM))
    for booking_id, client_id in ((ann_wed, ANN_ID), (admin_wed, ADMIN.id)):
        confirmed = await services.visits.confirm_visit(booking_id, client_id)
        assert confirmed.booking is not None and confirmed.booking.confirmed_at is not None

    # Buttons to forge from: the reminders, the agendas, My bookings, and a client's walk from
    # /book to a Confirm card she leaves unpressed.
    await services.outbox.dispatch_due(world.outbox_channel())
    api = world.flow.emulator
    for command in ("/today", "/tomorrow"):
        api.send_message(ADMIN, command, chat_id=GROUP)
    await world.flow.feed_pending()
    await world.client(ann("en")).send("/my")
    carol = world.client(CAROL)
    await world.register(CAROL)
    await carol.send("/book")
    for prefix in ("svc:", "cal:1:0:", "day:", "tm:"):
        await carol.click_data(
            next(d for d in on_screen(carol.last_message) if d.startswith(prefix))
        )
    assert any(d.startswith("ok:") for d in on_screen(carol.last_message)), "no Confirm card"
    shown: dict[str, list[str]] = {}
    for data in sorted({d for call in api.calls for d in on_screen(call.params)}):
        shown.setdefault(data.split(":")[0], []).append(data)

    # The messages the presses come from (each user's first contact happens here, not in an
    # example: the client row it creates is no forged button's doing).
    ann_menu = await world.client(ann("en")).send("/start")
    admin_menu = await world.client(ADMIN).send("/start")
    mark = api.mark()
    api.send_message(ADMIN, "/tomorrow", chat_id=GROUP)
    await world.flow.feed_pending()
    agenda = api.sent_to(GROUP, since=mark)
    assert ann_menu is not None and admin_menu is not None and len(agenda) == 1

    bookings = [row[0] for row in await world.bookings()]
    assert bookings == [bob_gone, bob_thu, ann_cancelled, ann_wed, admin_wed]
    today = WED
    days = [today + timedelta(days=n) for n in range(-1, 5)]  # Tuesday to Sunday (closed)
    return Stage(
        world=world,
        ann=Presser(ann("en"), ann_menu, staff=False),
        admin_group=Presser(ADMIN, agenda[0], staff=True),
        admin_private=Presser(ADMIN, admin_menu, staff=True),
        active={bob_thu, ann_wed, admin_wed},
        shown=shown,
        bookings=[0, *bookings, max(bookings) + 1],
        services=[0, world.haircut.id, beard.id, 99],
        specialists=[0, 1, vera, vera + 1],
        instants=sorted(
            {
                *grid(world, days),
                *grid(world, [today + timedelta(days=45)]),  # beyond the horizon
                world.ts(WED, "10:15"),  # off the grid
                world.ts(WED, "11:00") + 1,
            }
        ),
        days=[
            int(d.strftime("%Y%m%d")) for d in (*days, today + timedelta(days=45), date(2000, 1, 1))
        ]
        + [20261232, 20261300, 20260229, 20270229],
        months=[202611, 202612, 202701, 202702, 202801, 202600, 202613],
    )


async def press(
    stage: Stage, presser: Presser, data: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Press ``data`` and check what a user and the data would notice; raises AssertionError."""
    world = stage.world
    api = world.flow.emulator
    before = await dump(world)
    logged = len(caplog.records)
    mark = api.mark()
    query = api.click_data(presser.user, presser.message, data)
    await world.flow.feed_pending()

    errors = [r for r in caplog.records[logged:] if r.levelno >= logging.ERROR]
    assert not errors, f"{data!r}: {[r.getMessage() for r in errors]}"
    answers = [
        call
        for call in api.calls[mark:]
        if call.method == "answerCallbackQuery" and call.params.get("callback_query_id") == query
    ]
    assert len(answers) == 1 and answers[0].ok, f"{data!r}: answered {len(answers)} times"
    apologies = {
        TR(lang)(key) for lang in LANGUAGES for key in ("error.generic", "error.unavailable")
    }
    assert answers[0].params.get("text") not in apologies, f"{data!r}: {answers[0].params}"
    after = await dump(world)
    changed = {name for name in before if before[name] != after.get(name)}
    assert after == before, f"{data!r} pressed by {presser.user.id} changed {changed}"


FORGED_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one world per test, dumped around every press
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)


@FORGED_SETTINGS
@given(data=st.data())
async def test_forged_buttons_of_a_client_never_fail_and_change_nothing(
    stage: Stage, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    pressed = data.draw(stage.forged, label="callback_data")
    assume(not stage.legitimate(stage.ann, pressed))
    await press(stage, stage.ann, pressed, caplog)


@FORGED_SETTINGS
@given(data=st.data())
async def test_forged_buttons_of_an_admin_never_fail_and_change_nothing(
    stage: Stage, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    presser = data.draw(st.sampled_from([stage.admin_group, stage.admin_private]), label="chat")
    pressed = data.draw(stage.forged, label="callback_data")
    assume(not stage.legitimate(presser, pressed))
    await press(stage, presser, pressed, caplog)


async def test_every_button_shown_pressed_by_anyone_never_fails_and_changes_nothing(
    stage: Stage, caplog: pytest.LogCaptureFixture
) -> None:
    """Every button on any screen of the world (a client's own, another client's reminder or
    Confirm card, the admin chat's), pressed as it is by the client and by the admin in both
    chats: the stale and forwarded buttons of real life. Exhaustive, so it never misses one."""
    assert {"ok", "tm", "come", "ab", "bk"} <= set(stage.shown), stage.shown
    pressed = 0
    for presser in (stage.ann, stage.admin_group, stage.admin_private):
        for group in stage.shown.values():
            for data in group:
                if not stage.legitimate(presser, data):
                    await press(stage, presser, data, caplog)
                    pressed += 1
    assert pressed > 3 * 40


# ================================================================== 2. the slot engine

# Clock changes (and the days around them) in the zones a business may be in. Moscow's are its
# last two: summer time kept for good in 2011, then back to UTC+3 in 2014.
CLOCK_CHANGES: dict[tuple[str, date], int] = {  # the day's length in minutes
    ("Europe/Moscow", date(2011, 3, 27)): 23 * 60,
    ("Europe/Moscow", date(2014, 10, 26)): 25 * 60,
    ("Europe/Berlin", date(2026, 3, 29)): 23 * 60,
    ("Europe/Berlin", date(2026, 10, 25)): 25 * 60,
    ("America/New_York", date(2026, 3, 8)): 23 * 60,
    ("America/New_York", date(2026, 11, 1)): 25 * 60,
    ("Australia/Lord_Howe", date(2026, 4, 5)): 24 * 60 + 30,  # back by 30 minutes
    ("Australia/Lord_Howe", date(2026, 10, 4)): 24 * 60 - 30,  # forward by 30 minutes
}
EPOCH = date(1970, 1, 1)
SPECIALISTS = (1, 2)
OTHER_DAYS: list[Interval] = [(0, 24 * 60)]  # every other weekday: a wrong weekday shows


def wall(day: date, minute: int) -> int:
    """A wall-clock reading (a local date and minute) as minutes since 1970-01-01 00:00."""
    return (day - EPOCH).days * 24 * 60 + minute


@dataclass(frozen=True)
class WallClock:
    """What the wall clock of a zone reads at every UTC minute from a day before ``day`` to a
    day after it. Only instant -> wall reading is ever computed (pytz's UTC conversion, which
    has no ambiguity); the reverse is read off this table."""

    base: int  # Unix seconds of the first minute read
    readings: tuple[int, ...]  # wall() at base + 60 * i
    first_shown: dict[int, int]  # wall reading -> the first instant showing it
    highest: tuple[int, ...]  # the highest reading so far, at each minute

    def instant(self, reading: int) -> int | None:
        """The instant of a wall time: the first moment the clock shows it; None if it never
        does (the clocks jump over it)."""
        return self.first_shown.get(reading)

    def boundary(self, reading: int) -> int:
        """The instant a wall time is reached: the first moment the clock shows it or later
        (a closing time the clocks jump over is reached at the jump)."""
        index = bisect.bisect_left(self.highest, reading)
        assert index < len(self.readings), reading
        return self.base + 60 * index

    def reading(self, ts: int) -> int:
        index, rest = divmod(ts - self.base, 60)
        assert rest == 0 and 0 <= index < len(self.readings), ts
        return self.readings[index]


@functools.cache
def wall_clock(zone: str, day: date) -> WallClock:
    tz = pytz.timezone(zone)
    base = to_ts(datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=1))
    readings = []
    for i in range(3 * 24 * 60 + 1):
        local = from_ts(base + 60 * i).astimezone(tz)
        readings.append(wall(local.date(), local.hour * 60 + local.minute))
    first_shown: dict[int, int] = {}
    for i, reading in enumerate(readings):
        first_shown.setdefault(reading, base + 60 * i)
    return WallClock(base, tuple(readings), first_shown, tuple(itertools.accumulate(readings, max)))


@dataclass(frozen=True)
class SlotCase:
    zone: str
    day: date
    step: int
    duration: int
    buffer: int
    lead: int
    horizon: int
    now: int
    weekly: dict[int, WeeklyHours]
    exceptions: list[ScheduleException]
    busy: list[BusyInterval]

    @property
    def clock(self) -> WallClock:
        return wall_clock(self.zone, self.day)

    def rules(self) -> Rules:
        return Rules(
            pytz.timezone(self.zone),
            step_minutes=self.step,
            min_lead_minutes=self.lead,
            horizon_days=self.horizon,
        )


def reference_hours(case: SlotCase, specialist: int) -> list[Interval]:
    """ARCHITECTURE: a day off (the business's or the specialist's) closes the day; custom hours
    for the date replace the weekly ones, the specialist's own over the business's."""
    mine = [
        e for e in case.exceptions if e.day == case.day and e.specialist_id in (None, specialist)
    ]
    if any(e.hours is None for e in mine):
        return []
    for owner in (specialist, None):
        custom = sorted(e.hours for e in mine if e.specialist_id == owner and e.hours is not None)
        if custom:
            return custom
    return case.weekly[specialist].get(case.day.weekday(), [])


def reference_candidates(case: SlotCase, hours: Sequence[Interval]) -> dict[int, int]:
    """Starts laid on the wall clock every ``step`` minutes from each interval's start, that
    exist (first occurrence of a repeated time) and end, in real minutes, by the interval's end:
    instant -> wall minute of the day."""
    clock, day = case.clock, case.day
    found: dict[int, int] = {}
    for first, last in hours:
        closing = clock.boundary(wall(day, last))
        for minute in range(first, last, case.step):
            start = clock.instant(wall(day, minute))
            if start is not None and start + case.duration * 60 <= closing:
                found[start] = minute
    return found


def off_grid(case: SlotCase, hours: Sequence[Interval], start: int) -> str:
    """Why an instant is no start of the hours (for failure messages)."""
    clock = case.clock
    if start % 60:
        return "not a whole minute"
    reading = clock.reading(start)
    minute = reading - wall(case.day, 0)
    label = f"{minute // 60:02d}:{minute % 60:02d}"
    if clock.instant(reading) != start:
        return f"the second pass of the repeated wall time {label}"
    if not any(a <= minute < b and (minute - a) % case.step == 0 for a, b in hours):
        return f"{label} is outside the hours or off their {case.step}-minute grid"
    return f"a {case.duration}-minute service from there ends after closing"


def reference_refusal(
    case: SlotCase, specialist: int, start: int, candidates: dict[int, int] | None = None
) -> str | None:
    """Why ``start`` may not be offered for the specialist, or None when it is free."""
    today = from_ts(case.now).astimezone(pytz.timezone(case.zone)).date()
    if not today <= case.day <= today + timedelta(days=case.horizon):
        return f"the day is not bookable on {today} (horizon {case.horizon})"
    hours = reference_hours(case, specialist)
    if candidates is None:
        candidates = reference_candidates(case, hours)
    if start not in candidates:
        return f"not a start of the hours {hours}: {off_grid(case, hours, start)}"
    if start < case.now + case.lead * 60:
        return "sooner than the lead time"
    end = start + (case.duration + case.buffer) * 60
    for busy in case.busy:
        if busy.specialist_id == specialist and busy.start < end and start < busy.until:
            return f"overlaps {busy} (buffer included)"
    return None


def reference_free_starts(case: SlotCase) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for specialist in case.weekly:
        candidates = reference_candidates(case, reference_hours(case, specialist))
        for start in sorted(candidates):
            if reference_refusal(case, specialist, start, candidates) is None:
                found.setdefault(start, []).append(specialist)
    return found


# Strategies are built once: Hypothesis caches what it can about a strategy object.
MINUTES = st.one_of(  # wall minutes, often near the night hours when the clocks change
    st.integers(0, 24 * 60),
    st.sampled_from([0, 60, 90, 105, 120, 135, 150, 180, 24 * 60]),
    st.integers(45, 210),
)
DAYS_AFTER_CHANGE = st.sampled_from([0, 0, 0, -1, 1])
BUSY = st.lists(  # (specialist, start - midnight, length), in seconds
    st.tuples(
        st.sampled_from([*SPECIALISTS, 3]),
        st.builds(
            lambda minute, second: 60 * minute + second,
            st.integers(-600, 30 * 60 + 600),
            st.one_of(st.just(0), st.integers(0, 59)),
        ),
        st.one_of(st.integers(1, 600).map(lambda m: 60 * m), st.integers(1, 36000)),
    ),
    max_size=8,
)
NOW = st.one_of(  # seconds from the day's local midnight
    st.integers(-2 * 86400, 6 * 3600),
    st.integers(-3 * 3600, 4 * 3600),  # the night of the change
    st.integers(-3 * 86400, 86400),
)
STEP = st.one_of(st.sampled_from([5, 10, 15, 20, 30, 45, 60, 90]), st.integers(5, 240))
DURATION = st.one_of(
    st.sampled_from([15, 30, 45, 60, 90]), st.integers(1, 120), st.integers(1, 24 * 60)
)
BUFFER = st.one_of(st.just(0), st.integers(0, 120))
LEAD = st.one_of(st.just(0), st.integers(0, 240), st.integers(0, 7 * 24 * 60))


@st.composite
def day_hours(draw: st.DrawFn, min_size: int = 0) -> list[Interval]:
    """Sorted intervals that may touch but never overlap (as utils.hours reads them)."""
    count = draw(st.integers(min_size, 4))
    points = sorted(draw(st.lists(MINUTES, min_size=2 * count, max_size=2 * count)))
    pairs = [(points[i], points[i + 1]) for i in range(0, len(points), 2)]
    return [(a, b) for a, b in pairs if a < b]


HOURS = day_hours()
CUSTOM_HOURS = day_hours(min_size=1)
OWNERS = st.lists(st.sampled_from([None, *SPECIALISTS]), unique=True, max_size=3)


@st.composite
def slot_cases(draw: st.DrawFn) -> SlotCase:
    zone, change = draw(st.sampled_from(sorted(CLOCK_CHANGES)), label="clock change")
    day = change + timedelta(days=draw(DAYS_AFTER_CHANGE, label="days after"))
    midnight = wall_clock(zone, day).boundary(wall(day, 0))
    specialists = SPECIALISTS[: draw(st.integers(1, 2))]
    weekly = {
        sid: {
            weekday: draw(HOURS) if weekday == day.weekday() else OTHER_DAYS for weekday in range(7)
        }
        for sid in specialists
    }
    exceptions: list[ScheduleException] = []
    for owner in draw(OWNERS):
        when = day + timedelta(days=draw(DAYS_AFTER_CHANGE))
        closed = draw(st.sampled_from([False, False, True]), label="closed")
        for hours in [None] if closed else draw(CUSTOM_HOURS):
            exceptions.append(ScheduleException(len(exceptions) + 1, owner, when, hours, ""))
    busy = [
        BusyInterval(sid, midnight + start, midnight + start + length, number)
        for number, (sid, start, length) in enumerate(draw(BUSY), start=1)
    ]
    now = midnight + draw(NOW, label="now - midnight")
    return SlotCase(
        zone=zone,
        day=day,
        step=draw(STEP, label="step"),
        duration=draw(DURATION, label="duration"),
        buffer=draw(BUFFER, label="buffer"),
        lead=draw(LEAD, label="lead"),
        horizon=draw(st.integers(0, 3), label="horizon"),
        now=now,
        weekly=weekly,
        exceptions=exceptions,
        busy=busy,
    )


def engine_free_starts(case: SlotCase) -> dict[datetime, list[int]]:
    index = busy_by_specialist(case.busy, list(case.weekly))
    schedules = [SpecialistSchedule(sid, hours, index[sid]) for sid, hours in case.weekly.items()]
    query = SlotQuery(case.rules(), case.duration, case.buffer, from_ts(case.now))
    return free_starts(case.day, schedules, case.exceptions, query)


def local_label(case: SlotCase, ts: int) -> str:
    return from_ts(ts).astimezone(pytz.timezone(case.zone)).strftime("%Y-%m-%d %H:%M %Z%z")


def night_case(
    zone: str,
    day: date,
    hours: list[Interval],
    *,
    step: int = 30,
    duration: int = 30,
    buffer: int = 0,
    busy: Sequence[tuple[int, int]] = (),
    exceptions: Sequence[tuple[int | None, Interval | None]] = (),
) -> SlotCase:
    """A hand-picked case: one specialist, the clock read the evening before; ``busy`` as
    (start, end) wall minutes of the day; ``exceptions`` as (owner, hours) on the day."""
    clock = wall_clock(zone, day)
    midnight = clock.boundary(wall(day, 0))
    return SlotCase(
        zone=zone,
        day=day,
        step=step,
        duration=duration,
        buffer=buffer,
        lead=60,
        horizon=1,
        now=midnight - 6 * 3600,
        weekly={1: {weekday: hours for weekday in range(7)}},
        exceptions=[
            ScheduleException(n, owner, day, custom, "")
            for n, (owner, custom) in enumerate(exceptions, start=1)
        ],
        busy=[
            BusyInterval(1, clock.boundary(wall(day, a)), clock.boundary(wall(day, b)), n)
            for n, (a, b) in enumerate(busy, start=1)
        ],
    )


LORD_HOWE = "Australia/Lord_Howe"
SLOT_EXAMPLES = [
    # Back by 30 minutes at 02:00: 01:30-01:59 happen twice, each offered once.
    night_case(LORD_HOWE, date(2026, 4, 5), [(0, 4 * 60)], step=15),
    # Forward by 30 minutes at 02:00; one interval closes inside the gap (02:15).
    night_case(LORD_HOWE, date(2026, 10, 4), [(60, 135), (150, 240)], step=10, duration=60),
    # Closing at 01:30 in New York's repeated hour: its first pass.
    night_case("America/New_York", date(2026, 11, 1), [(0, 90)], duration=60),
    # Berlin's repeated hour on custom hours: the specialist's own win over the business's.
    night_case(
        "Europe/Berlin",
        date(2026, 10, 25),
        [(0, 24 * 60)],
        exceptions=[(None, (0, 3 * 60)), (1, (2 * 60, 4 * 60))],
    ),
    # Berlin's gap, a booking across it and a buffer after the service.
    night_case(
        "Europe/Berlin", date(2026, 3, 29), [(0, 6 * 60)], buffer=15, busy=[(90, 3 * 60 + 30)]
    ),
]
SLOT_SETTINGS = settings(max_examples=300, deadline=None, derandomize=True, database=None)


def with_examples(test: Any) -> Any:
    for case in SLOT_EXAMPLES:
        test = example(case=case)(test)
    return test


@SLOT_SETTINGS
@given(case=slot_cases())
@with_examples
def test_free_starts_are_exactly_the_free_wall_clock_starts(case: SlotCase) -> None:
    offered = engine_free_starts(case)
    stamps = [to_ts(start) for start in offered]
    assert stamps == sorted(set(stamps)), "starts out of order or repeated"
    got = dict(zip(stamps, offered.values(), strict=True))
    expected = reference_free_starts(case)

    wrong = {
        local_label(case, ts): {
            "offered for": sids,
            "free for": expected.get(ts, []),
            "why not": {sid: reference_refusal(case, sid, ts) for sid in set(sids)},
        }
        for ts, sids in got.items()
        if expected.get(ts) != sids
    }
    missing = {local_label(case, ts): sids for ts, sids in expected.items() if ts not in got}
    assert not wrong, f"offered, but not so by the rules: {wrong}"
    assert not missing, f"free by the rules, but not offered: {missing}"


@settings(SLOT_SETTINGS, max_examples=200)
@given(case=slot_cases())
@with_examples
def test_a_start_is_accepted_exactly_when_it_is_on_the_wall_clock_grid(case: SlotCase) -> None:
    """``is_candidate`` (what placement.place accepts) for every minute around the day."""
    tz = pytz.timezone(case.zone)
    clock = case.clock
    first = clock.boundary(wall(case.day, 0)) - 3600
    last = clock.boundary(wall(case.day, 24 * 60)) + 3600
    for sid in case.weekly:
        hours = reference_hours(case, sid)
        expected = reference_candidates(case, hours)
        accepted = {
            ts
            for ts in range(first, last, 60)
            if is_candidate(from_ts(ts), case.day, tz, hours, case.duration, case.step)
        }
        extra, refused = sorted(accepted - set(expected)), sorted(set(expected) - accepted)
        assert not extra and not refused, (
            f"accepted, not a start: {[local_label(case, t) for t in extra]}; "
            f"a start, refused: {[local_label(case, t) for t in refused]}"
        )


@pytest.mark.parametrize(("zone", "day"), sorted(CLOCK_CHANGES))
def test_the_reference_clock_sees_each_clock_change(zone: str, day: date) -> None:
    """The days the properties draw are the change days they are meant to be (and the days
    around them are ordinary), by the reference's own reading of the clock."""
    for offset, minutes in ((-1, 24 * 60), (0, CLOCK_CHANGES[zone, day]), (1, 24 * 60)):
        when = day + timedelta(days=offset)
        clock = wall_clock(zone, when)
        length = clock.boundary(wall(when, 24 * 60)) - clock.boundary(wall(when, 0))
        assert length == 60 * minutes, (zone, when)
