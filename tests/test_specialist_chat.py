"""A specialist's own chat through the real Dispatcher: the admin's one-time link, opening it,
the specialist's own agenda, and every edge of who may do what (a refusal looks exactly like
any unknown command). Clock: Tue 2026-12-01 08:00 Moscow; the admin chat speaks ru."""

from __future__ import annotations

import re
from datetime import date

from domain.actors import Actor
from handlers.digest import make_digest
from tests import test_admin_flow
from tests.conftest import at
from tests.support.botapi_emulator import FakeUser
from tests.test_admin_flow import ADMIN, GROUP, Chat, T, booked
from tests.test_flow_client import (  # noqa: F401 - fixtures used by name
    ANN_ID,
    BOB,
    TR,
    MakeWorld,
    World,
    ann,
    make_world,
    plain,
    text_of,
)

# The admin chat's fixtures, by name.
world = test_admin_flow.world
group = test_admin_flow.group

OLGA = FakeUser(id=7001, first_name="Olga", language_code="en")  # specialist #1's phone
IVAN = FakeUser(id=7002, first_name="Ivan", language_code="ru")  # a client, not staff
WED, THU = date(2026, 12, 2), date(2026, 12, 3)
EN = TR("en")


def private(world: World, user: FakeUser) -> Chat:
    return Chat(world, user, user.id)


async def link(group: Chat, specialist_id: int = 1) -> str:
    """The code of a fresh /specialist_link."""
    answer = await group.say(f"/specialist_link {specialist_id}")
    found = re.search(r"https://t\.me/test_booking_bot\?start=sp-([A-Za-z0-9_-]+)", answer)
    assert found, answer
    return found.group(1)


async def name_of(world: World, specialist_id: int) -> str:
    rows = await world.rows("SELECT name FROM specialists WHERE id = ?", specialist_id)
    return str(rows[0][0])


async def test_the_linked_specialist_sees_their_own_bookings_only(
    world: World, group: Chat
) -> None:
    admin = Actor.admin(ADMIN.id)
    anna = await world.services.specialists.add("Anna", admin)
    await world.services.specialists.set_services(anna.id, [world.haircut.id], admin)
    await world.services.schedule.set_weekday(anna.id, WED.weekday(), [(600, 1140)], admin)
    mine = await booked(world, ann("ru"), "10:00")  # specialist 1 (the only one free first)
    await world.register(BOB)
    hers = await world.services.booking.book(
        BOB.id, world.haircut.id, at(world.tz, WED, "12:00"), anna.id
    )
    assert hers.booking is not None

    olga = private(world, OLGA)
    code = await link(group)
    assert await olga.say(f"/start sp-{code}") == plain(
        EN("specialist.linked", name=await name_of(world, 1))
    )
    assert await olga.say("/today") == plain(EN("specialist.agenda.empty", day=date(2026, 12, 1)))
    tomorrow = await olga.say("/tomorrow")
    assert tomorrow.startswith(plain(EN("specialist.agenda.title", day=WED, count=1)))
    assert f"#{mine} " in tomorrow
    assert "Bob" not in tomorrow and f"#{hers.booking.id} " not in tomorrow
    week = await olga.say("/week")
    assert week.startswith(plain(EN("specialist.week.title", count=1)))
    assert "Anna" not in week and "Bob" not in week


async def test_a_client_or_a_specialist_gets_no_staff_command(world: World, group: Chat) -> None:
    ivan, olga = private(world, IVAN), private(world, OLGA)
    unknown_ru = plain(TR("ru")("hint.unknown_command"))
    unknown_en = plain(EN("hint.unknown_command"))
    for command in ("/today", "/week", "/booking 1", "/cancel 1", "/dayoff 2026-12-31"):
        assert await ivan.say(command) == unknown_ru, command
    await olga.say(f"/start sp-{await link(group)}")
    booking = await booked(world, ann("ru"), "10:00")
    for command in (f"/booking {booking}", f"/cancel {booking}", "/dayoff 2026-12-31", "/stats"):
        assert await olga.say(command) == unknown_en, command
    assert [r[2] for r in await world.bookings()] == ["active"]


async def test_links_work_once_and_can_be_withdrawn(world: World, group: Chat) -> None:
    olga, ivan = private(world, OLGA), private(world, IVAN)
    code = await link(group)
    await olga.say(f"/start sp-{code}")
    name = await name_of(world, 1)
    assert await olga.say(f"/start sp-{code}") == plain(EN("specialist.already_linked", name=name))
    # Someone else, after it was used: told so, and still a client.
    assert await ivan.say(f"/start sp-{code}") == plain(TR("ru")("specialist.link_used"))
    assert await ivan.say("/today") == plain(TR("ru")("hint.unknown_command"))

    replaced = await link(group)
    await link(group)  # a newer link: the older unused one stops working
    assert await ivan.say(f"/start sp-{replaced}") == plain(TR("ru")("specialist.link_unknown"))
    stale = await link(group)
    world.clock.advance(hours=24, seconds=1)
    assert await ivan.say(f"/start sp-{stale}") == plain(TR("ru")("specialist.link_expired"))
    assert await ivan.say("/start sp-forged") == plain(TR("ru")("specialist.link_unknown"))

    assert await group.say("/specialist_unlink 1") == plain(T("admin.specialist.unlinked", id=1))
    assert await olga.say("/today") == plain(EN("hint.unknown_command"))
    assert await group.say("/specialist_unlink 1") == plain(T("admin.specialist.not_linked", id=1))


async def test_malformed_link_commands_change_nothing(world: World, group: Chat) -> None:
    for command, name in (
        ("/specialist_link", "specialist_link"),
        ("/specialist_link abc", "specialist_link"),
        ("/specialist_link 1 2", "specialist_link"),
        ("/specialist_unlink", "specialist_unlink"),
        ("/specialist_unlink -1", "specialist_unlink"),
    ):
        assert plain(T(f"admin.usage.{name}")) in await group.say(command), command
    assert await group.say("/specialist_link 99") == plain(T("admin.specialist.not_found", id=99))
    assert await group.say("/specialist_unlink 99") == plain(T("admin.specialist.not_found", id=99))
    assert await world.rows("SELECT * FROM specialist_links") == []


async def test_each_linked_specialist_gets_their_morning_agenda_once(
    make_world: MakeWorld,  # noqa: F811 - the fixture
) -> None:
    # No admin chat at all: the specialists still get theirs.
    world = await make_world(admin_ids=[ADMIN.id])
    admin_private = Chat(world, ADMIN, ADMIN.id)
    olga = private(world, OLGA)
    await olga.say(f"/start sp-{await link(admin_private)}")
    mine = await booked(world, ann("ru"), "10:00")
    world.clock.set(at(world.tz, WED, "09:00"))
    mark = world.flow.emulator.mark()
    send = make_digest(world.flow.bot, world.services, TR, world.settings)
    await send()
    await send()  # a restart's catch-up the same morning
    (agenda,) = world.flow.emulator.sent_to(OLGA.id, since=mark)
    assert text_of(agenda).startswith(plain(EN("specialist.agenda.title", day=WED, count=1)))
    assert f"#{mine} " in text_of(agenda)


async def test_the_specialist_gets_a_card_for_each_booking_cancel_and_move_of_theirs(
    world: World, group: Chat
) -> None:
    olga = private(world, OLGA)
    await olga.say(f"/start sp-{await link(group)}")
    admin = Actor.admin(ADMIN.id)
    anna = await world.services.specialists.add("Anna", admin)
    await world.services.specialists.set_services(anna.id, [world.haircut.id], admin)
    await world.services.schedule.set_weekday(anna.id, WED.weekday(), [(600, 1140)], admin)

    def cards() -> list[str]:
        return [text_of(m) for m in world.flow.emulator.sent_to(OLGA.id) if "#" in text_of(m)]

    first = await booked(world, ann("en"), "10:00")  # Olga's (specialist 1)
    assert cards()[-1].startswith(plain(EN("specialist.card.booked", id=first, line="x"))[:20])
    assert "Ann" in cards()[-1] and "10:00" in cards()[-1]

    moved = await world.services.booking.reschedule(first, at(world.tz, WED, "11:00"), ANN_ID, 1)
    assert moved.booking is not None
    await world.handled(moved.booking.id)
    assert cards()[-1].startswith(f"🔁 Your booking is moved: #{moved.booking.id}")
    assert "11:00" in cards()[-1] and "was:" in cards()[-1] and "10:00" in cards()[-1]

    await world.services.staff.cancel(moved.booking.id, admin, "ill")
    await world.handled(moved.booking.id)
    assert cards()[-1].startswith(f"❌ Your booking #{moved.booking.id} is cancelled")

    # Anna's bookings are not Olga's business; a move from Olga to Anna is a cancel for Olga.
    count = len(cards())
    second = await booked(world, BOB, "12:00")
    to_anna = await world.services.staff.reschedule(
        second, at(world.tz, WED, "13:00"), admin, specialist_id=anna.id
    )
    assert to_anna.booking is not None
    await world.handled(second, to_anna.booking.id)
    new = cards()[count:]
    assert len(new) == 2
    assert new[0].startswith(f"🆕 Your new booking #{second}")
    assert new[1].startswith(f"❌ Your booking #{second} is cancelled")

    # Unlinked after a booking was made, before its card went out: the card is skipped, saying
    # why; after the unlink no card is even written.
    result = await world.services.booking.book(
        BOB.id, world.haircut.id, at(world.tz, WED, "15:00"), 1
    )
    assert result.booking is not None
    await group.say("/specialist_unlink 1")
    await world.handled(result.booking.id)
    later = await booked(world, BOB, "16:00")
    assert len(cards()) == count + 2
    reasons = await world.rows(
        "SELECT booking_id, reason FROM reminders"
        " WHERE kind = 'specialist_booked' AND booking_id >= ?",
        result.booking.id,
    )
    assert [tuple(r) for r in reasons] == [
        (result.booking.id, "the specialist has no linked account")
    ]
    assert later > result.booking.id


async def test_the_specialists_get_their_agenda_even_when_the_admin_chats_fails(
    world: World, group: Chat
) -> None:
    olga = private(world, OLGA)
    await olga.say(f"/start sp-{await link(group)}")
    await booked(world, ann("ru"), "10:00")
    world.clock.set(at(world.tz, WED, "09:00"))
    mark = world.flow.emulator.mark()
    world.flow.emulator.fail_next(
        "sendMessage", error_code=400, description="Bad Request: chat not found", chat_id=GROUP
    )
    await make_digest(world.flow.bot, world.services, TR, world.settings)()
    (agenda,) = world.flow.emulator.sent_to(OLGA.id, since=mark)
    assert text_of(agenda).startswith(plain(EN("specialist.agenda.title", day=WED, count=1)))
