"""Clients: who they are (from Telegram), how they want to be addressed, their language."""

from __future__ import annotations

import re

from database.engine import Conn, Database
from database.repo import audit, clients, locks
from domain.actors import Actor
from domain.clients import Client
from domain.phones import clean_phone, phone_digits
from utils.i18n import Language, pick_language
from utils.timeutil import Clock, system_clock

ASCII_ID = re.compile(r"[0-9]{1,15}")
# Concurrent additions of clients without Telegram (PostgreSQL) that may meet on one id.
OFFLINE_ID_TRIES = 5


def has_telegram(client_id: int) -> bool:
    """Clients are keyed by their Telegram user id; those the staff added without one (a phone
    call, a walk-in) have negative ids and are never written to."""
    return client_id > 0


class ClientService:
    def __init__(
        self,
        db: Database,
        default_language: Language = "ru",
        clock: Clock = system_clock,
        *,
        remember: bool = True,
    ) -> None:
        self.db = db
        self.default_language = default_language
        self.clock = clock
        # Every update needs the client's language. With ``remember``, the process keeps the
        # clients it has seen: true while it is the only one changing them (one process polls
        # per token). Replicas behind a webhook must not: another one may have changed them.
        self.remember = remember
        self._cache: dict[int, Client] = {}

    async def touch(
        self, user_id: int, username: str | None, first_name: str, language_code: str | None
    ) -> Client:
        """The client behind a Telegram user, created on first contact, kept up to date."""
        # Written only when Telegram tells something new (or the client is new); an unreachable
        # client who writes to us has unblocked the bot: the upsert says so.
        known = await self.get(user_id)
        if (
            known
            and known.is_reachable
            and (known.username, known.first_name)
            == (
                username,
                first_name,
            )
        ):
            return known
        now = self.clock()
        language = pick_language(language_code, self.default_language)

        def work(conn: Conn) -> Client:
            return clients.upsert(
                conn,
                client_id=user_id,
                username=username,
                first_name=first_name,
                language=language,
                now=now,
            )

        return self._remember(await self.db.write(work, "client.touch"))

    async def get(self, user_id: int) -> Client | None:
        return self._cache.get(user_id) or await self.db.read(
            lambda c: clients.get(c, user_id), "client.get"
        )

    async def find(self, query: str) -> Client | None:
        """A client by Telegram id ("12345"), username ("@ann") or phone ("+79991234567": also
        the clients the staff added without Telegram); None if unknown."""
        query = query.strip()
        if query.startswith("+") and clean_phone(query) is not None:
            return await self.find_by_phone(query)
        if query.startswith("@") and len(query) > 1:
            username = query[1:]
            return await self.db.read(
                lambda c: clients.find_by_username(c, username), "client.find"
            )
        if ASCII_ID.fullmatch(query):  # str.isdigit() takes '²' and '١' too
            return await self.get(int(query))
        return None

    async def find_by_phone(self, phone: str) -> Client | None:
        """The client with this phone (compared by its digits); None if nobody has it."""
        digits = phone_digits(phone)
        return await self.db.read(lambda c: clients.find_by_phone(c, digits), "client.phone")

    async def add_offline(self, name: str, phone: str, actor: Actor) -> tuple[Client, bool]:
        """The client with this phone, or (True) a new one without Telegram: a negative id,
        taken inside this write, and never reachable, so no reminder or notice goes to them."""
        now, digits = self.clock(), phone_digits(phone)

        def work(conn: Conn) -> tuple[Client, bool]:
            locks.for_offline_clients(conn)
            for _ in range(OFFLINE_ID_TRIES):
                known = clients.find_by_phone(conn, digits)
                if known is not None:
                    return known, False
                added = clients.insert_offline(conn, name, phone, now)
                if added is not None:
                    audit.record(
                        conn,
                        actor=actor,
                        action="client.added",
                        entity="client",
                        entity_id=added.id,
                        now=now,
                        name=name,
                    )
                    return added, True
            raise RuntimeError("no free id for a client without Telegram")

        return await self.db.write(work, "client.add_offline")

    async def set_blocked(
        self, client_id: int, actor: Actor, *, blocked: bool, reason: str | None = None
    ) -> Client | None:
        """/block and /unblock: a blocked client's Book answers with the business's contacts
        (the booking steps and Confirm refuse too: services/booking.py); None if unknown."""
        now = self.clock()

        def work(conn: Conn) -> Client | None:
            client = clients.set_blocked(conn, client_id, now, blocked=blocked, reason=reason)
            if client is not None:
                audit.record(
                    conn,
                    actor=actor,
                    action="client.blocked" if blocked else "client.unblocked",
                    entity="client",
                    entity_id=client_id,
                    now=now,
                    reason=reason,
                )
            return client

        client = await self.db.write(work, "client.block")
        return None if client is None else self._remember(client)

    async def set_language(self, user_id: int, language: Language) -> Client:
        return await self._update(user_id, language=language)

    async def set_name(self, user_id: int, name: str) -> Client:
        return await self._update(user_id, name=name)

    async def set_phone(self, user_id: int, phone: str) -> Client:
        return await self._update(user_id, phone=phone)

    async def mark_unreachable(self, user_id: int) -> bool:
        """The client blocked the bot. True only on the change, so the staff hear of it once."""
        before = await self.get(user_id)
        if before is None or not before.is_reachable:
            return False
        await self._update(user_id, is_reachable=0)
        return True

    async def _update(self, user_id: int, **fields: str | int) -> Client:
        now = self.clock()

        def work(conn: Conn) -> Client:
            client = clients.update(conn, user_id, now, **fields)
            assert client is not None, "clients are created by touch() before anything else"
            return client

        return self._remember(await self.db.write(work, "client.update"))

    def _remember(self, client: Client) -> Client:
        if self.remember:
            self._cache[client.id] = client
        return client
