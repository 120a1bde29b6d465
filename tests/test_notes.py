"""Client notes (/note): written by the staff, shown on /client and on the booking cards in the
admin chat, never to the client; malformed or unknown clients change nothing."""

from __future__ import annotations

from domain.actors import Actor
from tests import test_admin_flow
from tests.test_admin_flow import ADMIN, MALLORY, Chat, T, audit, booked
from tests.test_flow_client import (  # noqa: F401 - fixtures used by name
    ANN_ID,
    TR,
    World,
    ann,
    make_world,
    plain,
    text_of,
    to_confirm,
)

# The admin chat's fixtures, by name.
world = test_admin_flow.world
group = test_admin_flow.group


async def notes_rows(world: World) -> list[tuple[int, int | None, str]]:
    return await world.db.read(
        lambda c: [
            (int(r[0]), r[1], str(r[2]))
            for r in c.execute("SELECT client_id, author_id, text FROM client_notes ORDER BY id")
        ]
    )


async def test_a_note_shows_to_the_staff_on_the_client_and_on_the_booking_card(
    world: World, group: Chat
) -> None:
    booking = await booked(world, ann("ru"), "10:00")
    answer = await group.say("/note @ann  allergic   to latex ")
    assert answer == plain(T("admin.note.added", id=ANN_ID))
    assert await notes_rows(world) == [(ANN_ID, ADMIN.id, "allergic to latex")]
    ((actor, role, _, _),) = await audit(world, "client.note")
    assert (actor, role) == (ADMIN.id, "admin")

    await group.say(f"/note {ANN_ID} prefers Olga")
    card = await group.say("/client @ann")
    assert plain(T("admin.client.notes")) in card
    # Newest first, each with who wrote it.
    assert card.index("prefers Olga") < card.index("allergic to latex")
    assert f"администратор {ADMIN.id}: prefers Olga" in card

    (booking_card,) = await group.send(f"/booking {booking}")
    assert "📝 prefers Olga" in text_of(booking_card)
    assert "allergic" not in text_of(booking_card)  # the latest note only


async def test_the_new_booking_card_carries_the_note_and_the_client_never_sees_it(
    world: World, group: Chat
) -> None:
    await world.register(ann("en"))
    await group.say("/note @ann pays cash only")
    client, t, _ = await to_confirm(world, ann("en"))
    await client.click(t("book.confirm"))
    (card,) = group.messages[-1:]
    assert "📝 pays cash only" in text_of(card)
    await client.send("/my")
    assert all("cash" not in text_of(m) for m in client.messages)


async def test_malformed_notes_and_unknown_clients_change_nothing(
    world: World, group: Chat
) -> None:
    await world.register(ann("ru"))
    usage = plain(T("admin.usage.note"))
    for command in ("/note", "/note @ann", "/note @ann    ", "/note @ann " + "x" * 501):
        assert usage in await group.say(command), command
    assert await group.say("/note @nobody hello") == plain(
        T("admin.client.not_found", query="@nobody")
    )
    assert await group.say("/note 5 hello") == plain(T("admin.client.not_found", query="5"))
    assert await group.say("/note ann hello") == plain(T("admin.client.not_found", query="ann"))
    assert await notes_rows(world) == []


async def test_a_non_admin_cannot_write_or_read_notes(world: World, group: Chat) -> None:
    await world.register(ann("ru"))
    await group.say("/note @ann secret")
    mallory = Chat(world, MALLORY, MALLORY.id)
    sent = await mallory.send("/note @ann mine")
    assert all("secret" not in text_of(m) for m in sent)
    assert [text for _, _, text in await notes_rows(world)] == ["secret"]


async def test_a_client_without_telegram_is_found_by_phone_for_notes_and_the_card(
    world: World, group: Chat
) -> None:
    offline, added = await world.services.clients.add_offline(
        "Vera", "+7 999 555-44-33", Actor.admin(ADMIN.id)
    )
    assert added and offline.id < 0
    answer = await group.say("/note +79995554433 comes by phone only")
    assert answer == plain(T("admin.note.added", id=offline.id))
    card = await group.say("/client +79995554433")
    assert card.startswith("Vera") and "comes by phone only" in card
    assert await group.say("/client +70000000001") == plain(
        T("admin.client.not_found", query="+70000000001")
    )
