"""Group sessions through the real Dispatcher: what a client sees on each screen (the seats left
on the time buttons, the confirmation, the booked card), every refusal (full, a second seat,
stale and forged buttons), and the staff's side (/service_edit capacity, /services, the agenda
with its attendees, a cancel that frees a seat, /book into a session, the specialist's own
agenda). In Russian and English, with the plural forms each language needs."""

from __future__ import annotations

from typing import Any

import pytest

from domain.actors import Actor
from domain.catalog import Service
from handlers.admin import views as av
from handlers.callback_data import ConfirmCb, TimeCb
from handlers.specialist import agenda_text
from tests.conftest import at
from tests.test_admin_booking import open_for, walk
from tests.test_admin_flow import ADMIN, GROUP, Chat, T, audit, buttons
from tests.test_flow_client import (  # noqa: F401 - fixtures used by name
    ANN_ID,
    BOB,
    BOB_ID,
    LANGS,
    TR,
    WED,
    MakeWorld,
    World,
    ann,
    db,  # the conversation runs on SQLite; the services' tests cover both engines
    make_world,
    no_handler_errors,
    plain,
    service_label,
    start_booking,
    text_of,
)

JSON = dict[str, Any]
OLGA = Actor.admin(ADMIN.id)
WED_RU = "среда, 2 декабря"


@pytest.fixture
async def world(make_world: MakeWorld) -> World:  # noqa: F811 - with an admin chat
    return await make_world(admin_ids=[ADMIN.id], admin_chat_id=GROUP)


@pytest.fixture
def group(world: World) -> Chat:
    return Chat(world, ADMIN, GROUP)


async def yoga(world: World, capacity: int = 3) -> Service:
    catalog = world.services.catalog
    service = await catalog.add(OLGA, name="Yoga", duration_minutes=60, price=1500)
    await catalog.update(service.id, OLGA, capacity=capacity)
    found = await catalog.get(service.id)
    assert found is not None
    return found


async def seat_for(world: World, service: Service, client_id: int, hhmm: str = "10:00") -> int:
    made = await world.services.booking.book(client_id, service.id, at(world.tz, WED, hhmm))
    assert made.booking is not None, made.outcome
    await world.handled(made.booking.id)
    return made.booking.id


async def active_seats(world: World, service: Service, hhmm: str = "10:00") -> list[int]:
    rows = await world.rows(
        "SELECT client_id FROM bookings WHERE service_id = ? AND start_at = ?"
        " AND status = 'active' ORDER BY seat",
        service.id,
        world.ts(WED, hhmm),
    )
    return [int(r[0]) for r in rows]


# ------------------------------------------------------------------ the client's screens


@pytest.mark.parametrize("language", LANGS)
async def test_times_show_the_seats_left_and_the_cards_name_the_session(
    world: World, language: str
) -> None:
    service = await yoga(world, capacity=3)
    for client_id in (2001, 2002):
        await seat_for(world, service, client_id)
    client, t, _ = await start_booking(world, ann(language))
    await client.click(service_label(t, service))

    times = await client.click("2")

    body = text_of(times)
    assert plain(t("book.group_times", count=3)) in body
    expected = {
        "ru": ["10:00 · 1 место", "11:00 · 3 места", "15:00 · 3 места"],
        "en": ["10:00 · 1 seat left", "11:00 · 3 seats left", "15:00 · 3 seats left"],
    }[language]
    slots = [b for b in client.buttons() if ":" in b]
    assert [s for s in slots if s in expected] == expected
    # The session takes 10:00-11:00: no other session may start inside it.
    assert not any(s.startswith("10:30") for s in slots)

    card = await client.click(expected[0])

    assert plain(t("card.seats_left", count=1)) in text_of(card).split("\n")
    assert {"ru": "Групповое занятие: осталось 1 место", "en": "Group session: 1 seat left"}[
        language
    ] in text_of(card)

    await client.click(t("book.confirm"))

    done = text_of(client.messages[-2])
    assert done.startswith(t("book.done"))
    assert t("card.group", count=3) in done.split("\n")
    assert await active_seats(world, service) == [2001, 2002, ANN_ID]

    # Full now: nobody is offered 10:00 any more.
    bob = world.client(BOB)
    await world.register(BOB)
    await bob.send("/book")
    en = TR("en")
    await bob.click(service_label(en, service))
    await bob.click("2")
    assert not any(b.startswith("10:00") for b in bob.buttons())
    assert "11:00 · 3 seats left" in bob.buttons()


@pytest.mark.parametrize("language", LANGS)
async def test_the_last_seat_taken_before_confirm_is_refused_with_fresh_times(
    world: World, language: str
) -> None:
    service = await yoga(world, capacity=2)
    await seat_for(world, service, 2001)
    client, t, shown = await start_booking(world, ann(language))
    await client.click(service_label(t, service))
    await client.click("2")
    await client.click(t("book.time_seats", time="10:00", count=1))
    await seat_for(world, service, 2002)  # someone else takes the last seat meanwhile

    fresh = await client.click(t("book.confirm"))

    assert fresh is not None and fresh["message_id"] == shown["message_id"]
    assert plain(t("book.session_full", time="10:00")) in text_of(fresh)
    assert not any(b.startswith("10:00") for b in client.buttons())
    assert t("book.time_seats", time="11:00", count=2) in client.buttons()
    assert await active_seats(world, service) == [2001, 2002]


@pytest.mark.parametrize("language", LANGS)
async def test_a_seated_client_confirming_again_gets_already_booked_not_a_second_seat(
    world: World, language: str
) -> None:
    service = await yoga(world, capacity=5)
    client, t, _ = await start_booking(world, ann(language))
    await client.click(service_label(t, service))
    await client.click("2")
    await client.click(t("book.time_seats", time="10:00", count=5))
    card = client.last_message
    assert card is not None
    await client.click(t("book.confirm"))

    confirm = ConfirmCb(service=service.id, specialist=0, start=world.ts(WED, "10:00"), moving=0)
    await client.click_data(confirm.pack(), message=card)  # again, or a forged copy

    assert client.alerts[-1].text == t("outcome.already_booked")
    assert await active_seats(world, service) == [ANN_ID]
    # The session shows the seat taken for everyone else.
    free = await world.services.booking.free_slots(service.id, WED)
    assert free[at(world.tz, WED, "10:00")].seats_left == 4


async def test_forged_buttons_for_a_full_session_are_refused(world: World) -> None:
    service = await yoga(world, capacity=2)
    for client_id in (2001, 2002):
        await seat_for(world, service, client_id)
    t = TR("en")
    await world.register(ann("en"))
    client = world.client(ann("en"))
    await client.send("/start")
    start = world.ts(WED, "10:00")

    shown = await client.click_data(TimeCb(service=service.id, specialist=0, start=start).pack())
    assert t("book.gone") in text_of(shown)
    assert not any(b.startswith("10:00") for b in client.buttons())

    confirm = ConfirmCb(service=service.id, specialist=0, start=start, moving=0)
    refused = await client.click_data(confirm.pack())
    assert plain(t("book.session_full", time="10:00")) in text_of(refused)
    assert await active_seats(world, service) == [2001, 2002]


async def test_a_one_client_service_looks_as_before(world: World) -> None:
    client, t, _ = await start_booking(world, ann("en"))
    await client.click(service_label(t, world.haircut))
    times = await client.click("2")
    assert plain(t("book.group_times", count=2)) not in text_of(times)
    assert "10:00" in client.buttons()
    card = await client.click("10:00")
    assert "Group session" not in text_of(card)


# ------------------------------------------------------------------ the staff's side


async def test_service_edit_capacity_and_its_refusals(world: World, group: Chat) -> None:
    service = await yoga(world, capacity=3)
    before = await audit(world, "service.updated")

    for bad in ("0", "-1", "abc", "100000", "2.5", "8 9"):
        answer = await group.say(f"/service_edit {service.id} capacity {bad}")
        assert answer == plain(T("admin.service.bad_capacity", max=1000)), bad
    found = await world.services.catalog.get(service.id)
    assert found is not None and found.capacity == 3
    assert await audit(world, "service.updated") == before

    done = await group.say(f"/service_edit {service.id} capacity 8")
    assert done == plain(T("admin.service.updated", id=service.id))
    found = await world.services.catalog.get(service.id)
    assert found is not None and found.capacity == 8
    listed = await group.say("/services")
    assert "группа до 8 человек" in listed
    assert await group.say("/service_edit 999 capacity 8") == plain(
        T("admin.service.not_found", id=999)
    )
    # Back to one client per time: an ordinary service again.
    await group.say(f"/service_edit {service.id} capacity 1")
    assert "группа" not in await group.say("/services")


async def test_the_agenda_lists_a_session_once_with_its_attendees(
    world: World, group: Chat
) -> None:
    service = await yoga(world, capacity=3)
    await world.register(ann("en"))
    await world.register(BOB)
    first = await seat_for(world, service, ANN_ID)
    second = await seat_for(world, service, BOB_ID)
    haircut = await world.services.booking.book(2003, world.haircut.id, at(world.tz, WED, "15:00"))
    assert haircut.booking is not None

    (message,) = await group.send("/tomorrow")

    lines = text_of(message).splitlines()
    assert lines[0] == plain(T("admin.agenda.title", day=WED_RU, count=3))
    heading = "10:00 Yoga · Master · мест занято 2 из 3"
    assert lines[2] == heading and lines.count(heading) == 1
    active, unconfirmed = T("admin.status.active"), T("admin.confirmed.no")
    assert lines[3] == f"   #{first} Ann @ann, +70000000000 · {active}, {unconfirmed}"
    assert lines[4] == f"   #{second} Bob, +70000000000 · {active}, {unconfirmed}"
    assert lines[5].startswith(f"#{haircut.booking.id} 15:00 ")  # an ordinary booking's line
    assert T("admin.button.cancel", id=first) in buttons(message)
    assert T("admin.button.cancel", id=second) in buttons(message)

    # Cancelling one attendee frees one seat; the session shows it.
    await group.press(message, text=T("admin.button.cancel", id=second))
    question = group.messages[-1]
    await group.press(question, text=T("admin.button.cancel_yes"))
    assert await active_seats(world, service) == [ANN_ID]
    free = await world.services.booking.free_slots(service.id, WED)
    assert free[at(world.tz, WED, "10:00")].seats_left == 2
    (again,) = await group.send("/tomorrow")
    text = text_of(again)
    assert "10:00 Yoga · Master · мест занято 1 из 3" in text
    assert f"   #{second} Bob, +70000000000 · {T('admin.status.cancelled')}" in text


async def test_a_long_session_keeps_its_heading_on_every_message(world: World, group: Chat) -> None:
    service = await yoga(world, capacity=20)
    for n in range(av.AGENDA_CHUNK + 2):
        await seat_for(world, service, 3000 + n)

    messages = await group.send("/tomorrow")

    assert len(messages) == 2
    texts = [text_of(m) for m in messages]
    assert texts[0].count("10:00 Yoga · Master · мест занято 17 из 20") == 1
    assert texts[1].splitlines()[2] == "10:00 Yoga · Master (продолжение)"
    assert sum(t.count("   #") for t in texts) == av.AGENDA_CHUNK + 2


async def test_staff_book_into_a_session_shows_the_seats_and_follows_the_rules(
    world: World, group: Chat
) -> None:
    service = await yoga(world, capacity=2)
    await seat_for(world, service, 2001)
    await world.register(ann("en"))
    shown = await open_for(group, "@ann")
    calendar = await walk(group, shown, service_label(T, service))
    times = await walk(group, calendar, "2")
    assert "10:00 · 1 место" in buttons(times)
    check = await walk(group, times, "10:00 · 1 место")
    assert plain(T("card.seats_left", count=1)) in text_of(check)
    await walk(group, check, T("book.confirm"))
    assert await active_seats(world, service) == [2001, ANN_ID]

    # Full: the staff are not offered it either, and a forged time is refused the same way.
    await world.register(BOB)
    shown = await open_for(group, f"{BOB_ID}")
    times = await walk(group, await walk(group, shown, service_label(T, service)), "2")
    assert not any(b.startswith("10:00") for b in buttons(times))
    assert "11:00 · 2 места" in buttons(times)
    refused = await world.services.staff.book_for(
        BOB_ID, service.id, at(world.tz, WED, "10:00"), OLGA
    )
    assert refused.outcome.value == "slot_taken"
    assert await active_seats(world, service) == [2001, ANN_ID]


async def test_the_specialists_own_agenda_groups_a_session(world: World) -> None:
    service = await yoga(world, capacity=4)
    await world.register(ann("en"))
    await world.register(BOB)
    await seat_for(world, service, ANN_ID)
    await seat_for(world, service, BOB_ID)
    found = await world.services.staff.active_on(WED)

    en = TR("en")
    day = agenda_text(en, world.services.business, WED, WED, found)
    week = agenda_text(en, world.services.business, WED, WED.replace(day=8), found)

    for text in (plain(day), plain(week)):
        assert text.count("10:00 Yoga · Master · seats 2/4") == 1
        assert "   #" in text and "Ann @ann" in text and "Bob" in text
