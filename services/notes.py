"""Staff notes about clients: written with /note, read on /client and the booking cards."""

from __future__ import annotations

from database.engine import Conn, Database
from database.repo import audit, clients, notes
from domain.actors import Actor
from domain.clients import ClientNote
from utils.timeutil import Clock, system_clock

SHOWN = 10  # the newest notes /client lists


class NotesService:
    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self.db = db
        self.clock = clock

    async def add(self, client_id: int, text: str, actor: Actor) -> ClientNote | None:
        """None when there is no such client (checked in the same transaction)."""
        now = self.clock()

        def work(conn: Conn) -> ClientNote | None:
            if clients.get(conn, client_id) is None:
                return None
            note = notes.add(conn, client_id, actor.id, text, now)
            audit.record(
                conn,
                actor=actor,
                action="client.note",
                entity="client",
                entity_id=client_id,
                now=now,
                note_id=note.id,
            )
            return note

        return await self.db.write(work, "client.note")

    async def of_client(self, client_id: int) -> list[ClientNote]:
        return await self.db.read(lambda c: notes.of_client(c, client_id, SHOWN), "notes")
