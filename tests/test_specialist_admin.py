"""/specialist_rename and /specialist_delete in the admin chat, through the real Dispatcher:
each success, each refusal, malformed arguments, and the audit rows.

Admin answers are in DEFAULT_LANGUAGE (ru here; one English world checks the other catalog)."""

from __future__ import annotations

import json

import pytest

from domain.actors import Actor
from handlers.admin import views as av
from tests.conftest import at
from tests.test_admin_flow import (  # noqa: F401 - fixtures used by name
    ADMIN,
    GROUP,
    Chat,
    audit,
    group,
    world,
)
from tests.test_flow_client import (  # noqa: F401 - fixtures used by name
    ANN_ID,
    TR,
    WED,
    MakeWorld,
    World,
    ann,
    book_for,
    make_world,
    no_handler_errors,
    plain,
)

T = TR("ru")


async def names(of: World) -> list[tuple[int, str]]:
    rows = await of.rows("SELECT id, name FROM specialists ORDER BY id")
    return [(int(r[0]), str(r[1])) for r in rows]


async def add_anna(of: World, chat: Chat) -> None:
    """Specialist #2, offering Haircut on Wednesdays."""
    await chat.say("/specialist_add Анна")
    await chat.say(f"/specialist_services 2 {of.haircut.id}")
    await chat.say("/hours_set 2 wed 10:00-12:00")


# ------------------------------------------------------------------ rename


async def test_rename_shows_the_new_name_to_clients_and_audits_it(
    world: World,  # noqa: F811 - the fixture
    group: Chat,  # noqa: F811 - the fixture
) -> None:
    await world.register(ann("ru"))
    booking = await book_for(world, ANN_ID, WED, "10:00")

    answer = await group.say("/specialist_rename 1 Ольга  Иванова")

    assert answer == "Мастер #1 теперь называется Ольга Иванова (было: Master)."
    assert await names(world) == [(1, "Ольга Иванова")]
    # Clients choose by the new name; the booking already made shows it too.
    specialists = await world.services.booking.specialists(world.haircut.id)
    assert [s.name for s in specialists] == ["Ольга Иванова"]
    assert "Мастер: Ольга Иванова" in await group.say(f"/booking {booking}")
    assert "#1 Ольга Иванова" in await group.say("/specialists")
    renamed = await audit(world, "specialist.renamed")
    assert [(r[0], r[1], json.loads(r[3])) for r in renamed] == [
        (ADMIN.id, "admin", {"name": "Ольга Иванова", "was": "Master"})
    ]


async def test_a_name_with_html_is_shown_as_typed(
    world: World,  # noqa: F811 - the fixture
    group: Chat,  # noqa: F811 - the fixture
) -> None:
    answer = await group.say("/specialist_rename 1 <b>Olga</b> & Co")
    assert answer == "Мастер #1 теперь называется <b>Olga</b> & Co (было: Master)."
    assert await names(world) == [(1, "<b>Olga</b> & Co")]


async def test_rename_of_an_unknown_specialist_names_the_id_and_changes_nothing(
    world: World,  # noqa: F811 - the fixture
    group: Chat,  # noqa: F811 - the fixture
) -> None:
    assert await group.say("/specialist_rename 9 Анна") == "Мастера #9 нет."
    assert await names(world) == [(1, "Master")]
    assert await audit(world, "specialist.renamed") == []


MALFORMED = [
    ("/specialist_rename", "specialist_rename"),
    ("/specialist_rename 1", "specialist_rename"),
    ("/specialist_rename 1   ", "specialist_rename"),
    ("/specialist_rename x Анна", "specialist_rename"),
    ("/specialist_rename -1 Анна", "specialist_rename"),
    ("/specialist_rename Анна 1", "specialist_rename"),
    ("/specialist_rename 1 " + "я" * 65, "specialist_rename"),  # longer than a name may be
    ("/specialist_delete", "specialist_delete"),
    ("/specialist_delete x", "specialist_delete"),
    ("/specialist_delete 1 2", "specialist_delete"),
    ("/specialist_delete #1", "specialist_delete"),
]


@pytest.mark.parametrize(("text", "command"), MALFORMED)
async def test_malformed_arguments_get_the_usage_line_and_change_nothing(
    world: World,  # noqa: F811 - the fixture
    group: Chat,  # noqa: F811 - the fixture
    text: str,
    command: str,
) -> None:
    await add_anna(world, group)
    before_audit, before_names = await audit(world), await names(world)
    answer = await group.say(text)
    assert answer == plain(av.bad_args(T, command))
    assert f"/{command} ID" in answer
    assert await audit(world) == before_audit
    assert await names(world) == before_names


# ------------------------------------------------------------------ delete


async def test_delete_of_a_specialist_nobody_booked(
    world: World,  # noqa: F811 - the fixture
    group: Chat,  # noqa: F811 - the fixture
) -> None:
    await add_anna(world, group)
    assert [s.name for s in await world.services.booking.specialists(world.haircut.id)] == [
        "Master",
        "Анна",
    ]

    answer = await group.say("/specialist_delete 2")

    assert answer == "Мастер #2 Анна удалён вместе с его часами работы."
    assert await names(world) == [(1, "Master")]
    specialists = await world.services.booking.specialists(world.haircut.id)
    assert [s.name for s in specialists] == ["Master"]  # clients no longer see her
    assert await group.say("/hours 2") == "Мастера #2 нет."
    hours = await world.rows("SELECT count(*) FROM working_hours WHERE specialist_id = 2")
    assert hours[0][0] == 0
    deleted = await audit(world, "specialist.deleted")
    assert [(r[0], json.loads(r[3])) for r in deleted] == [(ADMIN.id, {"name": "Анна"})]


async def test_delete_is_refused_while_any_booking_names_the_specialist(
    world: World,  # noqa: F811 - the fixture
    group: Chat,  # noqa: F811 - the fixture
) -> None:
    await add_anna(world, group)
    await world.register(ann("ru"))
    made = await world.services.booking.book(
        ANN_ID, world.haircut.id, at(world.tz, WED, "10:00"), 2
    )
    assert made.booking is not None
    # Even a cancelled booking keeps her: its history names her.
    await world.services.staff.cancel(made.booking.id, Actor.admin(ADMIN.id))

    answer = await group.say("/specialist_delete 2")

    assert answer == (
        "У мастера #2 Анна есть записи (1), удалить его нельзя. "
        "Скройте его из новой записи: /specialist_off 2"
    )
    assert await names(world) == [(1, "Master"), (2, "Анна")]
    assert await audit(world, "specialist.deleted") == []
    # What the answer suggests works.
    assert await group.say("/specialist_off 2") == plain(
        T("admin.specialist.off", id=2, upcoming=0)
    )


async def test_the_last_specialist_cannot_be_deleted(
    world: World,  # noqa: F811 - the fixture
    group: Chat,  # noqa: F811 - the fixture
) -> None:
    answer = await group.say("/specialist_delete 1")
    assert answer == (
        "Мастер #1 Master — единственный, удалить его нельзя. "
        "Сначала добавьте другого: /specialist_add ИМЯ"
    )
    assert await names(world) == [(1, "Master")]
    assert await audit(world, "specialist.deleted") == []


async def test_delete_of_an_unknown_specialist_names_the_id(
    world: World,  # noqa: F811 - the fixture
    group: Chat,  # noqa: F811 - the fixture
) -> None:
    assert await group.say("/specialist_delete 9") == "Мастера #9 нет."
    assert await audit(world, "specialist.deleted") == []


async def test_help_lists_rename_and_delete(group: Chat) -> None:  # noqa: F811
    text = await group.say("/help")
    assert "/specialist_rename ID ИМЯ — переименовать мастера" in text
    assert "/specialist_delete ID — удалить мастера" in text


async def test_in_english_when_that_is_the_default_language(make_world: MakeWorld) -> None:  # noqa: F811
    english = await make_world(admin_ids=[ADMIN.id], admin_chat_id=GROUP, default_language="en")
    chat = Chat(english, ADMIN, GROUP)
    assert await chat.say("/specialist_rename 1 Olga") == (
        "Specialist #1 is now called Olga (was: Master)."
    )
    assert await chat.say("/specialist_delete 1") == (
        "Specialist #1 Olga is the only one and cannot be deleted. "
        "Add another first: /specialist_add NAME"
    )
    await chat.say("/specialist_add Anna")
    assert await chat.say("/specialist_delete 2") == (
        "Specialist #2 Anna is deleted, with their working hours."
    )
    assert await chat.say("/specialist_delete 7") == "There is no specialist #7."
    help_text = await chat.say("/help")
    assert "/specialist_rename ID NAME — rename a specialist" in help_text
