"""Approval and blocked clients through the real Dispatcher: the client's pending booking, the
admin chat's Approve and Decline (stale, forged and a non-admin's presses too), /pending, the
timeout, /block and /unblock, /service_edit ID approval, and what each side reads.

The admin chat speaks ru (DEFAULT_LANGUAGE); Ann reads English. Clock: Tue 2026-12-01 08:00
Moscow; hours mon-fri 10-14, 15-19 (see tests/test_flow_client.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from handlers.admin import views as av
from handlers.callback_data import AdminAction, AdminBookingCb
from tests.conftest import at
from tests.test_admin_flow import ADMIN, GROUP, MALLORY, Chat, T, buttons
from tests.test_flow_client import (  # noqa: F401 - fixtures used by name
    ANN_ID,
    BOB,
    BOB_ID,
    TR,
    WED,
    MakeWorld,
    World,
    ann,
    db,  # the conversation runs on SQLite; the services' tests cover both engines
    make_world,
    no_handler_errors,
    plain,
    start_booking,
    text_of,
    to_confirm,
)

JSON = dict[str, Any]
EN = TR("en")
ANN = ann("en")
BUSINESS = "Studio &lt;Lime&gt; &amp; Co"  # as the catalogs' HTML holds it


@pytest.fixture
async def world(make_world: MakeWorld) -> World:  # noqa: F811 - every booking waits
    return await make_world(admin_ids=[ADMIN.id], admin_chat_id=GROUP, approval="all")


@pytest.fixture
def group(world: World) -> Chat:
    return Chat(world, ADMIN, GROUP)


async def pending_from_ann(world: World) -> tuple[Any, JSON]:
    """Ann confirms Wed 10:00; returns her chat and the admin chat's approval card."""
    client, t, _ = await to_confirm(world, ANN)
    answer = await client.click(t("book.confirm"))
    assert answer is not None
    assert text_of(answer).split("\n")[0] == plain(t("book.pending"))
    assert client.documents == []  # the calendar file comes with the Approve
    card = world.flow.emulator.messages_in(GROUP)[-1]
    return client, card


async def pending_flag(world: World, booking_id: int = 1) -> tuple[str, int]:
    [row] = await world.rows(
        "SELECT status, awaiting_approval FROM bookings WHERE id = ?", booking_id
    )
    return row[0], row[1]


async def test_a_pending_booking_is_approved_from_the_admin_chat(world: World, group: Chat) -> None:
    client, card = await pending_from_ann(world)
    assert text_of(card).split("\n")[0] == plain(T("admin.card.approval", id=1, line="")).strip()
    assert "Haircut" in text_of(card) and "Ann" in text_of(card)
    approve, decline = T("admin.button.approve", id=1), T("admin.button.decline", id=1)
    assert buttons(card) == [approve, decline]
    # Her bookings say it waits.
    listed = await client.send("/my")
    assert listed is not None and EN("my.pending") in text_of(listed)

    answer = await group.press(card, text=approve)

    assert answer.params["text"] == T("admin.approval.approved", id=1)
    assert buttons(group.current(card)) == []  # decided: no second decision offered
    assert text_of(group.messages[-1]) == plain(T("admin.approval.approved", id=1))
    assert await pending_flag(world) == ("active", 0)
    approved = plain(EN("book.approved", business=BUSINESS))
    assert [m for m in client.messages if text_of(m).split("\n")[0] == approved]
    [ics] = client.documents
    assert ics.filename.endswith(".ics")
    reminders = await world.rows(
        "SELECT count(*) FROM reminders WHERE booking_id = 1 AND kind = 'reminder'"
    )
    assert reminders[0][0] == 2

    # A second press (the same card, another admin's screen) finds it decided.
    again = await group.press(
        card, data=AdminBookingCb(action=AdminAction.DECLINE, booking=1).pack()
    )
    assert again.params["text"] == T(
        "admin.approval.not_pending", id=1, status=T("admin.status.active")
    )
    assert await pending_flag(world) == ("active", 0)


async def test_decline_frees_the_time_and_tells_the_client_in_their_language(
    world: World, group: Chat
) -> None:
    client, card = await pending_from_ann(world)

    answer = await group.press(card, text=T("admin.button.decline", id=1))

    assert answer.params["text"] == T("admin.approval.declined", id=1)
    assert await pending_flag(world) == ("cancelled", 0)
    news = text_of(client.messages[-1])
    first = EN("notice.declined", business=BUSINESS, service="", day="", time="")
    assert news.split("\n")[0] == plain(first).split("\n")[0]
    assert client.buttons(client.messages[-1]) == [EN("my.book_again")]
    free = await world.services.booking.free_times(world.haircut.id, WED)
    assert at(world.tz, WED, "10:00") in free


async def test_a_non_admin_or_a_forged_press_decides_nothing(world: World, group: Chat) -> None:
    _, card = await pending_from_ann(world)
    mallory = Chat(world, MALLORY, GROUP)

    answer = await mallory.press(card, text=T("admin.button.approve", id=1))
    assert answer.params["text"] == T("admin.alert.not_admin")
    forged = await group.press(
        card, data=AdminBookingCb(action=AdminAction.APPROVE, booking=999).pack()
    )
    assert forged.params["text"] == T("admin.booking.not_found", id=999)
    assert await pending_flag(world) == ("active", 1)
    # Ann herself pressing the admin's data in her chat: not hers to decide.
    ann_chat = Chat(world, ANN, ANN_ID)
    mine = await ann_chat.press(
        ann_chat.messages[-1], data=AdminBookingCb(action=AdminAction.APPROVE, booking=1).pack()
    )
    assert mine.params["text"] == T("admin.alert.not_admin")
    assert await pending_flag(world) == ("active", 1)


async def test_pending_lists_the_waiting_with_their_buttons(world: World, group: Chat) -> None:
    assert await group.say("/pending") == plain(T("admin.pending.empty"))
    await pending_from_ann(world)

    [listing] = await group.send("/pending")

    assert text_of(listing).split("\n")[0] == plain(T("admin.pending.title", count=1))
    assert buttons(listing) == [
        T("admin.button.approve", id=1),
        T("admin.button.decline", id=1),
        T("admin.button.move", id=1),
    ]
    assert T("admin.status.pending") in text_of(listing)
    assert await group.say("/pending now") == plain(av.bad_args(T, "pending"))
    # The agenda shows it waiting, with the same decision.
    [agenda] = await group.send("/tomorrow")
    assert T("admin.status.pending") in text_of(agenda)
    await group.press(agenda, text=T("admin.button.approve", id=1))
    assert T("admin.button.approve", id=1) not in buttons(group.current(agenda))
    assert await group.say("/pending") == plain(T("admin.pending.empty"))


async def test_unanswered_requests_are_declined_after_the_timeout(world: World) -> None:
    client, _ = await pending_from_ann(world)
    world.clock.advance(minutes=121)

    assert await world.services.approvals.decline_overdue() == [1]
    await world.services.outbox.dispatch_due(world.outbox_channel())

    assert await pending_flag(world) == ("cancelled", 0)
    first = plain(EN("notice.not_approved_in_time", business=BUSINESS, service="", day="", time=""))
    assert text_of(client.messages[-1]).startswith(first.split("\n")[0])


async def test_service_approval_on_off_default(make_world: MakeWorld) -> None:  # noqa: F811
    world = await make_world(admin_ids=[ADMIN.id], admin_chat_id=GROUP)  # APPROVAL=off
    group = Chat(world, ADMIN, GROUP)
    sid = world.haircut.id
    usage = plain(av.bad_args(T, "service_edit"))
    assert await group.say(f"/service_edit {sid} approval maybe") == usage
    assert await group.say(f"/service_edit {sid} approval") == usage

    assert await group.say(f"/service_edit {sid} approval on") == plain(
        T("admin.service.updated", id=sid)
    )
    await pending_from_ann(world)

    await group.say(f"/service_edit {sid} approval default")
    await world.register(BOB)
    made = await world.services.booking.book(BOB_ID, sid, at(world.tz, WED, "11:00"))
    assert made.booking is not None and not made.booking.is_pending


async def test_block_lists_the_bookings_and_the_client_gets_the_contacts(
    make_world: MakeWorld,  # noqa: F811
) -> None:
    world = await make_world(admin_ids=[ADMIN.id], admin_chat_id=GROUP)
    group = Chat(world, ADMIN, GROUP)
    client, t, _ = await to_confirm(world, ANN)
    await client.click(t("book.confirm"))  # a booking (APPROVAL=off: final)
    _, _, stale = await to_confirm(world, ANN, hhmm="12:00")  # a confirm card left open

    sent = await group.send("/block @ann two no-shows")

    assert [text_of(m).split("\n")[0] for m in sent] == [
        plain(T("admin.block.done", client="Ann @ann", id=ANN_ID)),
        plain(T("admin.block.bookings", count=1)),
    ]
    assert plain(T("admin.block.reason", reason="two no-shows")) in text_of(sent[0])
    assert T("admin.button.cancel", id=1) in buttons(sent[1])

    # Book answers with the contacts; the confirm card left open is refused too.
    blocked = plain(EN("outcome.blocked", contacts="+7 900 000-00-00, 12 Garden St"))
    assert text_of(await client.send("/book")) == blocked
    refused = await client.click(EN("book.confirm"), message=stale)
    assert refused is not None and text_of(refused) == blocked
    assert [b[2] for b in await world.bookings()] == ["active"]
    # Their own booking stays theirs to see and cancel.
    assert text_of(await client.send("/my")).startswith(plain(EN("my.title")))
    assert "🚫" in await group.say("/client @ann")

    assert await group.say("/unblock @ann") == plain(
        T("admin.unblock.done", client="Ann @ann", id=ANN_ID)
    )
    assert await group.say("/unblock @ann") == plain(
        T("admin.unblock.not_blocked", client="Ann @ann", id=ANN_ID)
    )
    assert text_of(await client.send("/book")) != blocked


async def test_block_and_unblock_refuse_bad_arguments(world: World, group: Chat) -> None:
    assert await group.say("/block @nobody") == plain(T("admin.client.not_found", query="@nobody"))
    assert await group.say("/block") == plain(av.bad_args(T, "block"))
    assert await group.say("/unblock") == plain(av.bad_args(T, "unblock"))
    assert await group.say("/unblock @ann @bob") == plain(av.bad_args(T, "unblock"))
    assert await group.say("/unblock 12345") == plain(T("admin.client.not_found", query="12345"))
    audit = await world.rows("SELECT count(*) FROM audit_log WHERE entity = 'client'")
    assert audit[0][0] == 0
    # The client record is untouched by the refusals.
    await world.register(ANN)
    _, t, shown = await start_booking(world, ANN)
    assert text_of(shown) == t("book.choose_service")
