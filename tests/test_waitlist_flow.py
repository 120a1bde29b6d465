"""The waitlist through the real Dispatcher: Notify me on a full day (the calendar, and the times
screen when the time chosen was just taken), the part of the day, the offer and its Book and No
thanks, expiry, leaving from My bookings, the staff's view in the agenda, and stale or forged
buttons.

Wednesday is open 10:00-11:00 only and Bob holds 10:00, so it is full. Ann and Carol read
English, Dora Russian; the admin chat speaks ru. Clock: Tue 2026-12-01 08:00 Moscow.
"""

from __future__ import annotations

from typing import Any

import pytest

from handlers.callback_data import JoinCb, LeaveCb, OfferAction, OfferCb, WaitPart
from tests.conftest import ADMIN as STAFF
from tests.conftest import at
from tests.support.botapi_emulator import FakeUser
from tests.test_admin_flow import ADMIN, GROUP, Chat, T
from tests.test_flow_client import (  # noqa: F401 - fixtures used by name
    BOB,
    BOB_ID,
    TR,
    WED,
    WED_LONG,
    MakeWorld,
    World,
    ann,
    book_for,
    db,  # the conversation runs on SQLite; the services' tests cover both engines
    make_world,
    no_handler_errors,
    plain,
    service_label,
    start_booking,
    struck,
    text_of,
)

JSON = dict[str, Any]
EN, RU = TR("en"), TR("ru")
ANN = ann("en")
CAROL = FakeUser(id=3003, first_name="Carol", language_code="en")
DORA = FakeUser(id=4004, first_name="Dora", language_code="ru")


@pytest.fixture
async def world(make_world: MakeWorld) -> World:  # noqa: F811 - the admin variant
    world = await make_world(admin_ids=[ADMIN.id], admin_chat_id=GROUP)
    await world.services.schedule.set_day(WED, [(600, 660)], STAFF)
    await world.register(BOB)
    await book_for(world, BOB_ID, WED, "10:00")
    return world


async def to_wednesday(world: World, user: FakeUser) -> tuple[Any, JSON]:
    """The user's calendar, then the struck Wednesday pressed: the question."""
    client, t, _ = await start_booking(world, user)
    await client.click(service_label(t, world.haircut))
    asked = await client.click(struck(WED.day))
    assert asked is not None
    return client, asked


async def join(world: World, user: FakeUser, part: str = "wait.part.any") -> Any:
    client, _ = await to_wednesday(world, user)
    t = TR(user.language_code or "en")
    await client.click(t(part))
    return client


async def dispatch(world: World) -> None:
    await world.services.outbox.dispatch_due(world.outbox_channel())


async def holds(world: World) -> list[tuple[int, int]]:
    found = await world.rows(
        "SELECT id, client_id FROM bookings WHERE status = 'active' AND held_until IS NOT NULL"
    )
    return [(r[0], r[1]) for r in found]


async def test_a_client_joins_a_full_day_from_the_calendar(world: World) -> None:
    client, asked = await to_wednesday(world, ANN)

    assert text_of(asked) == plain(
        EN("wait.ask", service="Haircut", day=WED_LONG["en"], minutes=15)
    )
    assert client.buttons() == [
        EN("wait.part.any"),
        EN("wait.part.morning"),
        EN("wait.part.afternoon"),
        EN("wait.part.evening"),
        EN("nav.back"),
        EN("nav.cancel"),
    ]
    joined = await client.click(EN("wait.part.morning"))
    assert joined is not None
    assert text_of(joined) == plain(
        EN("wait.joined", day=WED_LONG["en"], part=EN("wait.part.morning"), minutes=15)
    )
    # Again: already there, still one entry.
    again = await join(world, ANN)
    assert text_of(again.last_message) == plain(EN("wait.already", day=WED_LONG["en"]))
    entries = await world.rows("SELECT client_id, day, part, status FROM waitlist")
    assert [tuple(r) for r in entries] == [(ANN.id, "2026-12-02", "morning", "waiting")]
    # Russian, for a Russian reader.
    dora = await join(world, DORA)
    assert text_of(dora.last_message).startswith("🔔 Вы в листе ожидания на среду, 2 декабря")
    # The staff see the day's waitlist under its agenda.
    group = Chat(world, ADMIN, GROUP)
    sent = await group.send("/tomorrow")
    assert text_of(sent[-1]).split("\n") == [
        plain(T("admin.wait.title", day=WED, count=2)),
        plain(
            T(
                "admin.wait.line",
                n=1,
                client="Ann",
                service="Haircut",
                specialist="Master",
                part=T("wait.part.morning"),
            )
        ),
        plain(
            T(
                "admin.wait.line",
                n=2,
                client="Dora",
                service="Haircut",
                specialist="Master",
                part=T("wait.part.any"),
            )
        ),
    ]


async def test_the_offer_goes_to_the_first_in_line_who_books_it(world: World) -> None:
    ann_chat = await join(world, ANN)
    carol = await join(world, CAROL)
    [(bob_booking,)] = await world.rows("SELECT id FROM bookings WHERE client_id = ?", BOB_ID)

    cancelled = await world.services.booking.cancel(bob_booking, BOB_ID)
    assert cancelled.ok
    await dispatch(world)

    offer = ann_chat.last_message
    assert text_of(offer) == plain(
        EN(
            "wait.offer",
            service="Haircut",
            specialist="Master",
            day=WED_LONG["en"],
            time="10:00",
            until="08:15",  # held 15 minutes from now
        )
    )
    assert ann_chat.buttons(offer) == [EN("wait.book"), EN("wait.no_thanks")]
    assert [m for m in carol.messages if EN("wait.book") in carol.buttons(m)] == []
    # Carol, meanwhile, is offered nothing that day.
    free = await world.services.booking.free_times(world.haircut.id, WED)
    assert free == {}

    booked = await ann_chat.click(EN("wait.book"), message=offer)

    assert booked is not None
    done = [m for m in ann_chat.messages if text_of(m).startswith(EN("book.done"))]
    assert done, [text_of(m) for m in ann_chat.messages]
    [ics] = ann_chat.documents
    assert ics.filename.endswith(".ics")
    assert await holds(world) == []
    rows = await world.rows("SELECT client_id, status FROM bookings WHERE held_until IS NULL")
    assert (ANN.id, "active") in [tuple(r) for r in rows]
    # A second press of the offer (a double click: the first already turned it into the card).
    [(hold,)] = await world.rows("SELECT id FROM bookings WHERE client_id = ?", ANN.id)
    await ann_chat.click_data(OfferCb(action=OfferAction.BOOK, booking=hold).pack(), message=offer)
    assert ann_chat.alerts[-1].text == EN("outcome.already_booked")


async def test_no_thanks_passes_it_on_and_an_expired_offer_is_gone(world: World) -> None:
    ann_chat = await join(world, ANN)
    carol = await join(world, CAROL)
    [(bob_booking,)] = await world.rows("SELECT id FROM bookings WHERE client_id = ?", BOB_ID)
    await world.services.booking.cancel(bob_booking, BOB_ID)
    await dispatch(world)
    ann_offer = ann_chat.last_message

    declined = await ann_chat.click(EN("wait.no_thanks"), message=ann_offer)
    assert declined is not None and text_of(declined) == plain(EN("wait.declined"))
    await dispatch(world)
    carol_offer = carol.last_message
    assert carol.buttons(carol_offer) == [EN("wait.book"), EN("wait.no_thanks")]
    [(_, holder)] = await holds(world)
    assert holder == CAROL.id

    world.clock.advance(minutes=16)
    assert len(await world.services.waitlist.expire_holds()) == 1
    await carol.click(EN("wait.book"), message=carol_offer)
    assert carol.alerts[-1].text == EN("outcome.offer_gone")
    [(ann_hold,)] = await world.rows("SELECT id FROM bookings WHERE client_id = ?", ANN.id)
    book = OfferCb(action=OfferAction.BOOK, booking=ann_hold).pack()
    await ann_chat.click_data(book, message=ann_offer)
    assert ann_chat.alerts[-1].text == EN("outcome.offer_gone")
    # After the last in line it is open to everyone.
    free = await world.services.booking.free_times(world.haircut.id, WED)
    assert list(free) == [at(world.tz, WED, "10:00")]


def offers(chat: Any, t: Any = EN) -> list[JSON]:
    return [m for m in chat.messages if t("wait.book") in chat.buttons(m)]


async def test_offers_go_out_with_the_action_that_freed_the_time(world: World) -> None:
    """No wait for the background dispatch (up to REMINDER_POLL_SECONDS): Bob's cancel in his
    chat sends Ann's offer, Ann's No thanks sends Carol's, the staff's longer hours Dora's."""
    ann_chat = await join(world, ANN)
    carol = await join(world, CAROL)
    dora = await join(world, DORA)
    bob = world.flow.client(BOB)

    await bob.send("/my")
    await bob.click(EN("my.cancel", n=1))
    await bob.click(EN("my.cancel_yes"))

    [offer] = offers(ann_chat)
    assert "10:00" in text_of(offer)
    assert offers(carol) == [] and offers(dora, RU) == []
    await ann_chat.click(EN("wait.no_thanks"), message=offer)
    [offer] = offers(carol)
    assert "10:00" in text_of(offer)

    await Chat(world, ADMIN, GROUP).send("/hours_on 2026-12-02 10:00-12:00")
    [offer] = offers(dora, RU)
    assert "11:00" in text_of(offer)


async def test_notify_me_when_the_time_chosen_was_just_taken(world: World) -> None:
    # Thursday has times; Wednesday is full: free Bob's 10:00 so Ann can pick it.
    [(bob_booking,)] = await world.rows("SELECT id FROM bookings WHERE client_id = ?", BOB_ID)
    await world.services.booking.cancel(bob_booking, BOB_ID)
    client, t, _ = await start_booking(world, ANN)
    await client.click(service_label(t, world.haircut))
    await client.click(str(WED.day))
    await client.click("10:00")
    await book_for(world, BOB_ID, WED, "10:00")  # taken before her Confirm

    refused = await client.click(EN("book.confirm"))

    assert refused is not None
    assert EN("wait.notify_me") in client.buttons(refused)
    asked = await client.click(EN("wait.notify_me"))
    assert asked is not None and text_of(asked).startswith("Haircut")
    await client.click(EN("wait.part.any"))
    assert text_of(client.last_message).startswith("🔔")


async def test_leaving_from_my_bookings(world: World) -> None:
    client = await join(world, ANN)

    mine = await client.send("/my")

    assert mine is not None
    assert plain(EN("wait.my_title")) in text_of(mine)
    assert EN("wait.leave", n=1) in client.buttons(mine)
    after = await client.click(EN("wait.leave", n=1), message=mine)
    assert client.alerts[-1].text == EN("wait.left")
    assert after is not None and plain(EN("wait.my_title")) not in text_of(after)
    status = await world.rows("SELECT status FROM waitlist")
    assert [r[0] for r in status] == ["left"]
    # The same Leave again (a stale screen): out of date, nothing changes.
    [entry] = await world.rows("SELECT id FROM waitlist")
    await client.click_data(LeaveCb(entry=entry[0]).pack(), message=mine)
    assert client.alerts[-1].text == EN("alert.stale")
    assert [r[0] for r in await world.rows("SELECT status FROM waitlist")] == ["left"]


async def test_forged_and_stale_waitlist_buttons_change_nothing(world: World) -> None:
    client = await join(world, ANN)
    carol = world.client(CAROL)
    await world.register(CAROL)
    await carol.send("/start")
    [(bob_booking,)] = await world.rows("SELECT id FROM bookings WHERE client_id = ?", BOB_ID)
    await world.services.booking.cancel(bob_booking, BOB_ID)
    [(hold, _)] = await holds(world)

    # Carol presses Ann's offer (forged data): not hers.
    forged = OfferCb(action=OfferAction.BOOK, booking=hold).pack()
    await carol.click_data(forged)
    assert carol.alerts[-1].text == EN("alert.stale")
    await carol.click_data(OfferCb(action=OfferAction.NO, booking=hold).pack())
    assert carol.alerts[-1].text == EN("alert.stale")
    assert await holds(world) == [(hold, ANN.id)]
    # A join for a day outside the bookable range, or a service that is not there.
    far = JoinCb(service=world.haircut.id, specialist=0, day=20270301, part=WaitPart.ANY)
    await carol.click_data(far.pack())
    assert carol.alerts[-1].text == EN("alert.stale")
    gone = JoinCb(service=999, specialist=0, day=20261202, part=WaitPart.ANY)
    await carol.click_data(gone.pack())
    assert carol.alerts[-1].text == EN("alert.stale")
    entries = await world.rows("SELECT client_id FROM waitlist")
    assert [r[0] for r in entries] == [ANN.id]
    assert client.user.id == ANN.id
