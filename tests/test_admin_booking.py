"""Staff booking for a client (/book) and moving a booking (/move, the Move button) through the
real Dispatcher: every screen, each refusal and malformed argument, forged buttons, the staff's
leeway (no lead time, no limit; the hours only with the explicit override; never an overlap),
clients without Telegram, and what the client and the admin chat are told.

The admin chat speaks ru (DEFAULT_LANGUAGE); Ann reads English. Clock: Tue 2026-12-01 08:00
Moscow; hours mon-fri 10-14, 15-19; Sundays closed (see tests/test_flow_client.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from domain.actors import Actor
from handlers.admin import views as av
from handlers.callback_data import StaffConfirmCb, StaffDayCb, StaffTimeCb
from tests.conftest import at
from tests.test_admin_flow import (
    ADMIN,
    GROUP,
    MALLORY,
    Chat,
    T,
    audit,
    buttons,
)
from tests.test_flow_client import (  # noqa: F401 - fixtures used by name
    ANN_ID,
    BOB,
    BOB_ID,
    SUN,
    THU,
    TR,
    TUE,
    WED,
    MakeWorld,
    World,
    ann,
    book_for,
    make_world,
    no_handler_errors,
    plain,
    service_label,
    text_of,
)

JSON = dict[str, Any]
EN = TR("en")
ANN = ann("en")
BUSINESS = "Studio &lt;Lime&gt; &amp; Co"  # as the catalogs' HTML holds it
OLGA = Actor.admin(ADMIN.id)


@pytest.fixture
async def world(make_world: MakeWorld) -> World:  # noqa: F811 - the admin variant
    return await make_world(admin_ids=[ADMIN.id], admin_chat_id=GROUP)


@pytest.fixture
def group(world: World) -> Chat:
    return Chat(world, ADMIN, GROUP)


async def walk(chat: Chat, message: JSON, *labels: str) -> JSON:
    """Press each button in turn on the one message the flow edits; returns it as it is now."""
    for label in labels:
        answer = await chat.press(chat.current(message), text=label)
        assert not answer.params.get("show_alert"), answer.params.get("text")
    return chat.current(message)


async def open_for(chat: Chat, args: str) -> JSON:
    sent = await chat.send(f"/book {args}")
    assert len(sent) == 1, [text_of(m) for m in sent]
    return sent[0]


def haircut(world: World) -> str:
    return service_label(T, world.haircut)


def to_clients(world: World) -> list[int]:
    """The chats (other than the admin group) the bot sent a message or a file to."""
    return [
        int(call.params["chat_id"])
        for call in world.flow.calls
        if call.method in ("sendMessage", "sendDocument") and int(call.params["chat_id"]) != GROUP
    ]


# ------------------------------------------------------------------ /book


async def test_book_by_username_walks_the_steps_and_tells_the_client_and_the_chat(
    world: World, group: Chat
) -> None:
    await world.register(ANN)
    shown = await open_for(group, "@ann")

    for_ann = plain(T("admin.book.for", name="Ann", username=" @ann", phone="+70000000000"))
    assert text_of(shown) == for_ann + "\n\n" + plain(T("book.choose_service"))
    assert buttons(shown) == [haircut(world), T("nav.cancel")]
    calendar = await walk(group, shown, haircut(world))
    assert text_of(calendar).startswith(for_ann)
    times = await walk(group, calendar, "2")
    assert "10:00" in buttons(times) and T("admin.book.outside_button") in buttons(times)
    check = await walk(group, times, "10:00")
    assert text_of(check).startswith(for_ann + "\n" + plain(T("book.check")))
    assert buttons(check)[0] == T("book.confirm")

    done = await walk(group, check, T("book.confirm"))

    ((booking_id, client, status, start, _, _),) = await world.bookings()
    assert (client, status, start) == (ANN_ID, "active", world.ts(WED, "10:00"))
    assert text_of(done).startswith(
        plain(T("admin.book.done", id=booking_id)) + "\n" + plain(T("admin.book.told"))
    )
    assert T("admin.button.move", id=booking_id) in buttons(done)
    # Ann hears of it in English, with the calendar file; the audit names the admin.
    ann_chat = world.client(ANN)
    told = [text_of(m) for m in ann_chat.messages]
    assert any(m.startswith(plain(EN("book.done_by_staff", business=BUSINESS))) for m in told)
    assert [d.filename for d in ann_chat.documents] == [f"booking-{booking_id}.ics"]
    assert b"BEGIN:VCALENDAR" in ann_chat.documents[0].content
    assert [(a[0], a[1]) for a in await audit(world, "booking.created")] == [(ADMIN.id, "admin")]
    # The admin chat gets its card, with Cancel and Move.
    card = group.messages[-1]
    assert text_of(card).startswith(plain(T("admin.card.staff_booked", id=booking_id, line="")))
    assert buttons(card) == [
        T("admin.button.cancel", id=booking_id),
        T("admin.button.move", id=booking_id),
    ]
    # A second tap of Confirm: an alert, the answer stays, nothing more is booked.
    again = await group.press(
        done,
        data=StaffConfirmCb(
            client=ANN_ID, service=world.haircut.id, specialist=1, start=world.ts(WED, "10:00")
        ).pack(),
    )
    assert again.params["text"] == T("admin.book.already", id=booking_id)
    assert len(await world.bookings()) == 1


async def test_book_by_telegram_id_and_by_phone(world: World, group: Chat) -> None:
    await world.register(ANN)
    await world.services.clients.set_phone(ANN_ID, "+7 (900) 111-22-33")
    for args in ("1001", "+79001112233", "+7 900 111 22 33"):
        shown = await open_for(group, args)
        assert "Ann @ann, +7 (900) 111-22-33" in text_of(shown), args
        assert buttons(shown)[0] == haircut(world)


async def test_a_new_client_without_telegram_is_added_once_and_never_written_to(
    world: World, group: Chat
) -> None:
    shown = await open_for(group, "Anna Petrova, +7 999 123-45-67")

    assert text_of(shown).startswith(plain(T("admin.book.added")))
    assert "Anna Petrova, +7 999 123-45-67" in text_of(shown)
    check = await walk(group, shown, haircut(world), "2", "10:00")
    done = await walk(group, check, T("book.confirm"))

    ((_, client, status, _, _, _),) = await world.bookings()
    assert client < 0 and status == "active"
    assert plain(T("admin.book.offline")) in text_of(done)
    assert to_clients(world) == []  # no message, no file to anyone but the admin chat
    assert text_of(group.messages[-1]).startswith(
        plain(T("admin.card.staff_booked", id=1, line=""))
    )
    # The reminders' time comes: skipped, never sent.
    world.clock.set(at(world.tz, WED, "08:00"))
    await world.services.outbox.dispatch_due(world.outbox_channel())
    assert to_clients(world) == []
    # The same phone, however typed, is the same client.
    again = await open_for(group, "A. Petrova, 79991234567")
    assert text_of(again).startswith(plain(T("admin.book.known_phone", name="A. Petrova")))
    by_phone = await open_for(group, "+7 (999) 123 45 67")
    assert "Anna Petrova" in text_of(by_phone)
    rows = await world.rows("SELECT id, name, is_reachable FROM clients WHERE id < 0")
    assert [(r[0], r[1], r[2]) for r in rows] == [(client, "Anna Petrova", 0)]


async def test_staff_skip_the_lead_time_and_the_limit(world: World, group: Chat) -> None:
    await world.register(ANN)
    for hhmm in ("15:00", "16:00", "17:00"):
        await book_for(world, ANN_ID, THU, hhmm)
    world.clock.set(at(world.tz, TUE, "09:45"))  # 10:00 is 15 minutes away

    shown = await open_for(group, "@ann")
    times = await walk(group, shown, haircut(world), "1")
    assert buttons(times)[0] == "10:00"
    done = await walk(group, times, "10:00", T("book.confirm"))

    assert "✅" in text_of(done)
    assert len([b for b in await world.bookings() if b[2] == "active"]) == 4


async def test_never_an_overlap_and_the_hours_only_with_the_override(
    world: World, group: Chat
) -> None:
    await world.register(ANN)
    await world.register(BOB)
    await book_for(world, BOB_ID, WED, "10:00")
    before = await world.bookings()
    times = await walk(group, await open_for(group, "@ann"), haircut(world), "2")
    assert "10:00" not in buttons(times) and "10:30" not in buttons(times)

    # Forged buttons for the taken time and for a time outside the hours: refused, with the
    # day's fresh times; nothing booked.
    ids = {"client": ANN_ID, "service": world.haircut.id, "specialist": 1}
    await group.press(times, data=StaffTimeCb(start=world.ts(WED, "10:30"), **ids).pack())
    assert text_of(group.current(times)).count(plain(T("book.gone"))) == 1
    await group.press(times, data=StaffConfirmCb(start=world.ts(WED, "10:00"), **ids).pack())
    assert plain(T("book.taken", time="10:00")) in text_of(group.current(times))
    early = StaffConfirmCb(start=world.ts(WED, "08:00"), **ids).pack()
    await group.press(times, data=early)
    assert plain(T("outcome.outside_hours")) in text_of(group.current(times))
    assert await world.bookings() == before

    # The explicit way: the times outside the hours, and a Confirm that says so.
    outside = await walk(group, times, T("admin.book.outside_button"))
    assert plain(T("admin.book.outside_times", day=WED)) in text_of(outside)
    assert "08:00" in buttons(outside) and "14:00" in buttons(outside)
    assert "11:00" not in buttons(outside) and "10:00" not in buttons(outside)
    check = await walk(group, outside, "08:00")
    assert plain(T("admin.book.outside_warning")) in text_of(check)
    assert buttons(check)[0] == T("admin.book.confirm_outside")
    await walk(group, check, T("admin.book.confirm_outside"))

    assert [(b[1], b[3]) for b in (await world.bookings())[1:]] == [
        (ANN_ID, world.ts(WED, "08:00"))
    ]


async def test_a_closed_day_opens_for_staff_only_outside_the_hours(
    world: World, group: Chat
) -> None:
    await world.register(ANN)
    calendar = await walk(group, await open_for(group, "@ann"), haircut(world))
    sunday = "\u0336".join(str(SUN.day)) + "\u0336"
    times = await walk(group, calendar, sunday)
    assert plain(T("book.no_times", day=SUN)) in text_of(times)
    outside = await walk(group, times, T("admin.book.outside_button"))
    assert "12:00" in buttons(outside)
    back = await walk(group, outside, T("nav.back"))
    assert text_of(back) == text_of(times)


async def test_malformed_arguments_get_the_usage_line_and_change_nothing(
    world: World, group: Chat
) -> None:
    await world.register(ANN)
    await book_for(world, ANN_ID, WED, "10:00")
    before = (await world.bookings(), await world.rows("SELECT count(*) FROM clients"))
    for args in (
        "",
        "@",
        "@a-b",
        "abc",
        "0",
        "-5",
        "Anna,",
        ", +7 999 123-45-67",
        "Anna, 12",
        "Anna, phone",
        "/x, +7 999 123-45-67",
        "+7 12",
    ):
        assert await group.say(f"/book {args}") == plain(av.bad_args(T, "book")), args
    for args in ("", "abc", "0", "-1", "1 2", "#1"):
        assert await group.say(f"/move {args}") == plain(av.bad_args(T, "move")), args
    after = (await world.bookings(), await world.rows("SELECT count(*) FROM clients"))
    assert after[0] == before[0] and after[1][0][0] == before[1][0][0]


async def test_an_unknown_client_or_booking_is_named(world: World, group: Chat) -> None:
    await world.register(ANN)
    gone = await book_for(world, ANN_ID, WED, "10:00")
    await world.services.staff.cancel(gone, OLGA)

    for args in ("@nobody", "424242", "+7 111 222-33-44"):
        assert await group.say(f"/book {args}") == plain(T("admin.book.no_client", query=args))
    assert await group.say("/move 999") == plain(T("admin.booking.not_found", id=999))
    assert await group.say(f"/move {gone}") == plain(
        T("admin.move.not_active", id=gone, status=T("admin.status.cancelled"))
    )


# ------------------------------------------------------------------ /move and Move


async def test_move_by_command_changes_old_and_new_together_and_tells_both(
    world: World, group: Chat
) -> None:
    await world.register(ANN)
    old = await book_for(world, ANN_ID, WED, "10:00")
    world.clock.set(at(world.tz, WED, "09:00"))  # too late for Ann herself to move it

    calendar = (await group.send(f"/move {old}"))[0]
    assert text_of(calendar).startswith(
        plain(T("admin.book.for", name="Ann", username=" @ann", phone="+70000000000"))
    )
    assert plain(T("move.header", service="Haircut", day=WED, time="10:00")) in text_of(calendar)
    times = await walk(group, calendar, "2")
    assert "10:00" not in buttons(times) and "10:30" in buttons(times)
    done = await walk(group, times, "10:30", T("book.confirm"))

    (was, new) = await world.bookings()
    assert was[:3] == (old, ANN_ID, "cancelled")
    assert new[2:] == ("active", world.ts(WED, "10:30"), 1, old)
    assert text_of(done).startswith(plain(T("admin.move.done", id=new[0])))
    assert plain(T("admin.book.told")) in text_of(done)
    ann_chat = world.client(ANN)
    assert text_of(ann_chat.messages[-2]).startswith(
        plain(EN("move.done_by_staff", business=BUSINESS))
    )
    assert [d.filename for d in ann_chat.documents] == [f"booking-{new[0]}.ics"]
    card = text_of(group.messages[-1])
    assert card.startswith(plain(T("admin.card.staff_moved", id=new[0], line="", was="")[:20]))
    assert "10:30" in card and "10:00" in card  # the new time, and what it was
    rows = await world.rows(
        "SELECT action, actor_id FROM audit_log WHERE entity = 'booking' ORDER BY id"
    )
    assert [(r[0], r[1]) for r in rows][-2:] == [
        ("booking.cancelled", ADMIN.id),
        ("booking.rescheduled", ADMIN.id),
    ]


async def test_the_move_button_under_the_agenda_opens_the_calendar(
    world: World, group: Chat
) -> None:
    await world.register(ANN)
    booking = await book_for(world, ANN_ID, THU, "15:00")
    (agenda,) = await group.send("/day 2026-12-03")
    assert f"#{booking}" in text_of(agenda)

    answer = await group.press(agenda, text=T("admin.button.move", id=booking))

    assert not answer.params.get("text")
    calendar = group.messages[-1]
    assert plain(T("move.header", service="Haircut", day=THU, time="15:00")) in text_of(calendar)
    assert text_of(group.current(agenda)) == text_of(agenda)  # the agenda stays
    closed = await walk(group, calendar, T("nav.cancel"))
    assert text_of(closed).endswith(plain(T("admin.move.closed")))
    assert [b[2] for b in await world.bookings()] == ["active"]
    # Nothing to move any more: said in an alert.
    await world.services.staff.cancel(booking, OLGA)
    gone = await group.press(agenda, text=T("admin.button.move", id=booking))
    assert gone.params["text"] == T(
        "admin.move.not_active", id=booking, status=T("admin.status.cancelled")
    )


async def test_forged_or_foreign_staff_buttons_are_refused_and_change_nothing(
    world: World, group: Chat
) -> None:
    await world.register(ANN)
    await world.register(BOB)
    bobs = await book_for(world, BOB_ID, WED, "12:00")
    shown = await open_for(group, "@ann")
    before = await world.bookings()
    ids = {"service": world.haircut.id, "specialist": 1, "start": world.ts(WED, "10:00")}
    forged = [
        StaffConfirmCb(client=5555, **ids).pack(),  # nobody
        StaffConfirmCb(client=ANN_ID, moving=bobs, **ids).pack(),  # Bob's booking as Ann's
        StaffDayCb(client=ANN_ID, service=world.haircut.id, specialist=1, day=20270601).pack(),
        "fok:1001:1:1:abc:0:0",
        "fok:1001:1:1:1796101200:0:2",
    ]
    for data in forged:
        answer = await group.press(shown, data=data)
        assert answer.params["text"] == T("admin.alert.stale"), data
    # Someone who is not staff, in the group or in private: told so, as for any admin button.
    valid = StaffConfirmCb(client=ANN_ID, **ids).pack()
    mallory = Chat(world, MALLORY, GROUP)
    assert (await mallory.press(shown, data=valid)).params["text"] == T("admin.alert.not_admin")
    private = Chat(world, MALLORY, MALLORY.id)
    await private.send("/start")
    answer = await private.press(private.messages[-1], data=valid)
    assert answer.params["text"] == T("admin.alert.not_admin")
    assert await world.bookings() == before


async def test_an_admin_books_from_their_private_chat(world: World) -> None:
    await world.register(ANN)
    private = Chat(world, ADMIN, ADMIN.id)
    shown = (await private.send("/book @ann"))[0]
    check = await walk(private, shown, haircut(world), "2", "10:00")
    await walk(private, check, T("book.confirm"))
    assert [b[1] for b in await world.bookings()] == [ANN_ID]
    # Without arguments, /book is the admin's own booking, as any client's.
    assert await private.say("/book") == plain(EN("reg.ask_name"))
