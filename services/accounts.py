"""Specialists' Telegram accounts: one-time links (/specialist_link), opening one
(/start sp-CODE), unlinking, and who is a specialist (roles: handlers/roles.py)."""

from __future__ import annotations

import secrets
from datetime import date

from database.engine import Conn, Database
from database.repo import accounts, audit, bookings, catalog, locks
from domain.accounts import LINK_VALID, LinkOutcome, Redeemed, code_hash
from domain.actors import Actor
from domain.bookings import BookingDetails, BookingStatus
from domain.catalog import Specialist
from domain.rules import Rules
from utils.timeutil import Clock, day_bounds_utc, system_clock


class AccountService:
    def __init__(self, db: Database, rules: Rules, clock: Clock = system_clock) -> None:
        self.db = db
        self.rules = rules
        self.clock = clock

    def today(self) -> date:
        return self.rules.today(self.clock())

    async def create_link(self, specialist_id: int, actor: Actor) -> str | None:
        """A new one-time code for the specialist (their older unused ones stop working), valid
        LINK_VALID; None for an unknown specialist."""
        now, code = self.clock(), secrets.token_urlsafe(16)

        def work(conn: Conn) -> str | None:
            if catalog.get_specialist(conn, specialist_id) is None:
                return None
            accounts.add_link(conn, specialist_id, code_hash(code), actor.id, now, now + LINK_VALID)
            audit.record(
                conn,
                actor=actor,
                action="specialist.link_created",
                entity="specialist",
                entity_id=specialist_id,
                now=now,
            )
            return code

        return await self.db.write(work, "specialist.link")

    async def redeem(self, code: str, user_id: int) -> Redeemed:
        """Opening a link: the user becomes the specialist's account (replacing an earlier one)."""
        now, hashed = self.clock(), code_hash(code)

        def work(conn: Conn) -> Redeemed:
            locks.for_account(conn, user_id)  # two links opened at once by one account
            specialist_id = accounts.use_link(conn, hashed, user_id, now)
            if specialist_id is None:
                return _why_not(conn, hashed, user_id)
            accounts.link_account(conn, specialist_id, user_id, now)
            audit.record(
                conn,
                actor=Actor.client(user_id),
                action="specialist.linked",
                entity="specialist",
                entity_id=specialist_id,
                now=now,
            )
            return Redeemed(LinkOutcome.LINKED, catalog.get_specialist(conn, specialist_id))

        return await self.db.write(work, "specialist.redeem")

    async def unlink(self, specialist_id: int, actor: Actor) -> bool | None:
        """True when an account was unlinked, False when none was; None: unknown specialist."""
        now = self.clock()

        def work(conn: Conn) -> bool | None:
            if catalog.get_specialist(conn, specialist_id) is None:
                return None
            user_id = accounts.unlink(conn, specialist_id)
            if user_id is not None:
                audit.record(
                    conn,
                    actor=actor,
                    action="specialist.unlinked",
                    entity="specialist",
                    entity_id=specialist_id,
                    now=now,
                    user_id=user_id,
                )
            return user_id is not None

        return await self.db.write(work, "specialist.unlink")

    async def agenda(self, specialist_id: int, first: date, last: date) -> list[BookingDetails]:
        """The specialist's bookings starting on the local days first..last, in time order;
        cancelled ones left out."""
        start, _ = day_bounds_utc(self.rules.tz, first)
        _, end = day_bounds_utc(self.rules.tz, last)

        def work(conn: Conn) -> list[BookingDetails]:
            found = bookings.starting_between(conn, start, end, specialist_id)
            return [d for d in found if d.booking.status is not BookingStatus.CANCELLED]

        return await self.db.read(work, "specialist.agenda")

    async def linked(self) -> list[tuple[int, int]]:
        """(specialist id, Telegram user id) of every active specialist with an account."""

        def work(conn: Conn) -> list[tuple[int, int]]:
            active = {s.id for s in catalog.list_specialists(conn, active_only=True)}
            return [(sid, uid) for sid, uid in accounts.all_accounts(conn) if sid in active]

        return await self.db.read(work, "specialist.linked")

    async def specialist_of(self, user_id: int) -> Specialist | None:
        def work(conn: Conn) -> Specialist | None:
            specialist_id = accounts.specialist_of(conn, user_id)
            return None if specialist_id is None else catalog.get_specialist(conn, specialist_id)

        return await self.db.read(work, "specialist.of")


def _why_not(conn: Conn, hashed: str, user_id: int) -> Redeemed:
    link = accounts.get_link(conn, hashed)
    if link is None:
        return Redeemed(LinkOutcome.UNKNOWN)
    if link.used_by == user_id and accounts.specialist_of(conn, user_id) == link.specialist_id:
        return Redeemed(LinkOutcome.ALREADY_YOURS, catalog.get_specialist(conn, link.specialist_id))
    if link.used_by is not None:
        return Redeemed(LinkOutcome.USED)
    return Redeemed(LinkOutcome.EXPIRED)
