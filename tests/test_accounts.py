"""Specialists' one-time links on both engines: a link works once, for 24 hours, for the person
who opens it first; a newer link replaces an unused older one; unlinking ends the account."""

from __future__ import annotations

import asyncio

from database.engine import Database
from domain.accounts import LinkOutcome
from domain.rules import Rules
from services.accounts import AccountService
from tests.conftest import ADMIN
from tests.support.clock import FakeClock

ANNA_USER, BORIS_USER = 501, 502


async def test_a_link_works_once_for_the_first_person(
    db: Database, rules: Rules, clock: FakeClock
) -> None:
    accounts = AccountService(db, rules, clock)
    code = await accounts.create_link(1, ADMIN)
    assert code is not None and len(code) >= 20
    linked = await accounts.redeem(code, ANNA_USER)
    assert linked.outcome is LinkOutcome.LINKED and linked.specialist is not None
    assert linked.specialist.id == 1
    assert (await accounts.specialist_of(ANNA_USER)) == linked.specialist
    assert (await accounts.redeem(code, ANNA_USER)).outcome is LinkOutcome.ALREADY_YOURS
    assert (await accounts.redeem(code, BORIS_USER)).outcome is LinkOutcome.USED
    assert await accounts.specialist_of(BORIS_USER) is None
    assert (await accounts.redeem("no-such-code", BORIS_USER)).outcome is LinkOutcome.UNKNOWN
    stored = await db.read(
        lambda c: [r[0] for r in c.execute("SELECT code_hash FROM specialist_links")]
    )
    assert code not in stored  # only its hash


async def test_links_expire_and_a_newer_one_replaces_an_unused_one(
    db: Database, rules: Rules, clock: FakeClock
) -> None:
    accounts = AccountService(db, rules, clock)
    old = await accounts.create_link(1, ADMIN)
    new = await accounts.create_link(1, ADMIN)
    assert old is not None and new is not None
    assert (await accounts.redeem(old, ANNA_USER)).outcome is LinkOutcome.UNKNOWN
    clock.advance(hours=24, seconds=1)
    assert (await accounts.redeem(new, ANNA_USER)).outcome is LinkOutcome.EXPIRED
    assert await accounts.create_link(99, ADMIN) is None  # no such specialist


async def test_a_new_link_moves_the_account_and_unlink_ends_it(
    db: Database, rules: Rules, clock: FakeClock
) -> None:
    accounts = AccountService(db, rules, clock)
    first = await accounts.create_link(1, ADMIN)
    assert first is not None
    await accounts.redeem(first, ANNA_USER)
    second = await accounts.create_link(1, ADMIN)
    assert second is not None
    assert (await accounts.redeem(second, BORIS_USER)).outcome is LinkOutcome.LINKED
    assert await accounts.specialist_of(ANNA_USER) is None  # one account per specialist
    assert (await accounts.redeem(first, ANNA_USER)).outcome is LinkOutcome.USED
    assert await accounts.unlink(1, ADMIN) is True
    assert await accounts.specialist_of(BORIS_USER) is None
    assert await accounts.unlink(1, ADMIN) is False
    assert await accounts.unlink(99, ADMIN) is None


async def test_two_people_opening_one_link_at_once_link_exactly_one(
    db: Database, rules: Rules, clock: FakeClock
) -> None:
    accounts = AccountService(db, rules, clock)
    code = await accounts.create_link(1, ADMIN)
    assert code is not None
    results = await asyncio.gather(*(accounts.redeem(code, 600 + n) for n in range(10)))
    assert sorted(r.outcome for r in results).count(LinkOutcome.LINKED) == 1
    assert {r.outcome for r in results} == {LinkOutcome.LINKED, LinkOutcome.USED}
