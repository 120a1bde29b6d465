"""Staff time off: /dayoff, /dayon and /hours_on for a range of dates and for one specialist,
/timeoff listing what is ahead; the ranges that cannot be and the unknown specialists are named
in the answer and change nothing. Clock: Tue 2026-12-01 08:00 Moscow."""

from __future__ import annotations

from datetime import date, timedelta

from domain.actors import Actor
from domain.schedule import HoursScope
from handlers.admin import hours_views as hv
from tests import test_admin_flow
from tests.conftest import at
from tests.test_admin_flow import ADMIN, Chat, T, buttons
from tests.test_flow_client import (  # noqa: F401 - fixtures used by name
    ANN_ID,
    BOB,
    World,
    ann,
    make_world,
    plain,
    text_of,
)

# The admin chat's fixtures, by name.
world = test_admin_flow.world
group = test_admin_flow.group

MON, FRI = date(2026, 12, 7), date(2026, 12, 11)
WEEK = [MON + timedelta(days=n) for n in range(5)]
ANNA = 2  # the second specialist


async def with_anna(world: World) -> int:
    """A second specialist doing the haircut on weekdays 10:00-19:00."""
    admin = Actor.admin(ADMIN.id)
    anna = await world.services.specialists.add("Anna", admin)
    assert anna.id == ANNA
    await world.services.specialists.set_services(anna.id, [world.haircut.id], admin)
    for weekday in range(5):
        await world.services.schedule.set_weekday(anna.id, weekday, [(600, 1140)], admin)
    return anna.id


async def days_open(world: World, specialist_id: int | None) -> set[date]:
    return await world.services.booking.calendar(world.haircut.id, 2026, 12, specialist_id)


async def overrides(world: World) -> list[tuple[str, int | None]]:
    rows = await world.rows(
        "SELECT day, specialist_id FROM schedule_exceptions ORDER BY day, specialist_id"
    )
    return [(r[0], r[1]) for r in rows]


async def test_a_vacation_closes_one_specialists_days_and_reopens_them(
    world: World, group: Chat
) -> None:
    await with_anna(world)
    answer = await group.say("/dayoff 2 2026-12-07..2026-12-11 vacation")
    scope = HoursScope(MON, FRI, specialist_id=ANNA)
    assert answer == plain(T("admin.timeoff.closed", what=hv.scope_title(T, scope)))
    assert "7 декабря 2026 — 11 декабря 2026, мастер #2" in answer
    assert not set(WEEK) & await days_open(world, ANNA)
    assert set(WEEK) <= await days_open(world, 1)  # the other specialist works
    assert set(WEEK) <= await days_open(world, None)  # so clients still see those days

    assert await group.say("/dayon 2 2026-12-07..2026-12-08") == plain(
        T("admin.timeoff.reopened", what=hv.scope_title(T, HoursScope(MON, WEEK[1], None, ANNA)))
    )
    assert set(await days_open(world, ANNA)) & set(WEEK) == {MON, WEEK[1]}


async def test_a_range_with_bookings_asks_and_cancels_only_that_specialists(
    world: World, group: Chat
) -> None:
    await with_anna(world)
    await world.register(ann("en"))
    await world.register(BOB)
    hers = await world.services.booking.book(
        ANN_ID, world.haircut.id, at(world.tz, WEEK[2], "10:00"), ANNA
    )
    other = await world.services.booking.book(
        BOB.id, world.haircut.id, at(world.tz, WEEK[2], "10:00"), 1
    )
    assert hers.booking is not None and other.booking is not None

    (question,) = await group.send("/dayoff 2 2026-12-07..2026-12-11 vacation")
    assert text_of(question).startswith("Закрыто: 7 декабря 2026 — 11 декабря 2026")
    assert f"#{hers.booking.id}" in text_of(question)
    assert f"#{other.booking.id} " not in text_of(question) and BOB.first_name not in text_of(
        question
    )
    assert buttons(question) == [T("admin.button.cancel_all"), T("admin.button.keep_all")]

    await group.press(question, text=T("admin.button.cancel_all"))
    statuses = {r[0]: r[2] for r in await world.bookings()}
    assert statuses == {hers.booking.id: "cancelled", other.booking.id: "active"}
    told = text_of(world.flow.emulator.sent_to(ANN_ID)[-1])
    assert told.startswith("Sorry") and "Reason: vacation" in told


async def test_custom_hours_for_a_range_of_the_whole_business(world: World, group: Chat) -> None:
    answer = await group.say("/hours_on 2026-12-07..2026-12-09 12:00-14:00")
    what = hv.scope_title(T, HoursScope(MON, WEEK[2]))
    assert answer == plain(T("admin.timeoff.hours", what=what, hours="12:00-14:00"))
    for day in WEEK[:3]:
        times = await world.services.booking.free_times(world.haircut.id, day)
        assert [t.astimezone(world.tz).strftime("%H:%M") for t in times] == [
            "12:00",
            "12:30",
            "13:00",
        ]
    assert len(await world.services.booking.free_times(world.haircut.id, WEEK[3])) > 2


async def test_timeoff_lists_what_is_ahead_as_ranges(world: World, group: Chat) -> None:
    assert await group.say("/timeoff") == plain(T("admin.timeoff.none"))
    await with_anna(world)
    await group.say("/dayoff 2026-12-31 holiday")
    await group.say("/dayoff 2 2026-12-07..2026-12-11 vacation")
    await group.say("/hours_on 2026-12-14..2026-12-15 12:00-14:00")
    await group.say("/dayoff 2026-11-30")  # past: not listed
    listed = (await group.say("/timeoff")).splitlines()
    assert listed[0] == plain(T("admin.timeoff.title"))
    assert len(listed) == 4, listed
    # The business's by date, then each specialist's.
    assert listed[1] == "• 14 декабря 2026 — 15 декабря 2026: 12:00-14:00"
    assert listed[2] == f"• {T.day(date(2026, 12, 31))}: выходной (holiday)"
    assert "мастер #2 Anna" in listed[3] and listed[3].endswith("выходной (vacation)")


async def test_ranges_that_cannot_be_and_unknown_specialists_change_nothing(
    world: World, group: Chat
) -> None:
    await with_anna(world)
    backwards = await group.say("/dayoff 2026-12-10..2026-12-01")
    assert backwards == plain(T("admin.timeoff.backwards", first="2026-12-10", last="2026-12-01"))
    too_long = await group.say("/dayoff 2027-01-01..2028-01-02 sabbatical")
    assert too_long == plain(
        T("admin.timeoff.too_long", first="2027-01-01", last="2028-01-02", days=367, most=366)
    )
    assert await group.say("/dayoff 99 2026-12-07") == plain(T("admin.specialist.not_found", id=99))
    assert await group.say("/dayon 99 2026-12-07") == plain(T("admin.specialist.not_found", id=99))
    for command, name in (
        ("/dayoff 2", "dayoff"),
        ("/dayoff 2 someday", "dayoff"),
        ("/dayoff 2026-12-07..", "dayoff"),
        ("/dayoff 2026-12-07..2026-02-30", "dayoff"),
        ("/dayon 2026-12-07 extra", "dayon"),
        ("/hours_on 2 2026-12-07..2026-12-08", "hours_on"),
        ("/hours_on 2026-12-07..2026-12-08 12-14", "hours_on"),
        ("/timeoff 2026-12-07", "timeoff"),
    ):
        assert plain(T(f"admin.usage.{name}")) in await group.say(command), command
    assert await overrides(world) == []

    # A whole leap year is the longest range there is.
    assert (await group.say("/dayoff 2028-01-01..2028-12-31")).startswith("Закрыто")
    assert len(await overrides(world)) == 366
