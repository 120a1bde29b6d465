"""Specialists: add, rename, choose which services each offers, switch on and off, delete."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from database.engine import Conn, Database
from database.repo import audit, bookings, catalog
from domain.actors import Actor
from domain.catalog import Specialist, SpecialistInfo
from domain.outcomes import SpecialistChange, SpecialistOutcome
from utils.timeutil import Clock, system_clock


class Removal(StrEnum):
    DONE = "done"
    NOT_FOUND = "not_found"
    IN_USE = "in_use"  # a booking (of any status) refers to the specialist: switch them off
    LAST = "last"  # the only specialist: the business would have nobody to book


@dataclass(frozen=True)
class RemovalResult:
    outcome: Removal
    name: str = ""  # the specialist's, when found
    bookings: int = 0  # IN_USE: how many bookings name them


@dataclass(frozen=True)
class Renaming:
    outcome: SpecialistOutcome  # DONE or NOT_FOUND
    was: str = ""


class SpecialistService:
    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self.db = db
        self.clock = clock

    async def list(self) -> list[SpecialistInfo]:
        def work(conn: Conn) -> list[SpecialistInfo]:
            return [
                SpecialistInfo(sp, catalog.service_ids_of_specialist(conn, sp.id))
                for sp in catalog.list_specialists(conn, active_only=False)
            ]

        return await self.db.read(work, "specialists.list")

    async def add(self, name: str, actor: Actor) -> Specialist:
        """A new active specialist with no services and no hours until the admin sets them."""
        now = self.clock()

        def work(conn: Conn) -> Specialist:
            specialist_id = catalog.insert_specialist(conn, name, now)
            audit.record(
                conn,
                actor=actor,
                action="specialist.created",
                entity="specialist",
                entity_id=specialist_id,
                now=now,
                name=name,
            )
            specialist = catalog.get_specialist(conn, specialist_id)
            assert specialist is not None
            return specialist

        return await self.db.write(work, "specialist.add")

    async def rename(self, specialist_id: int, name: str, actor: Actor) -> Renaming:
        """Clients see the new name at once; past bookings show it too (they refer by id)."""
        now = self.clock()

        def work(conn: Conn) -> Renaming:
            found = catalog.get_specialist(conn, specialist_id)
            if found is None:
                return Renaming(SpecialistOutcome.NOT_FOUND)
            catalog.rename_specialist(conn, specialist_id, name)
            audit.record(
                conn,
                actor=actor,
                action="specialist.renamed",
                entity="specialist",
                entity_id=specialist_id,
                now=now,
                name=name,
                was=found.name,
            )
            return Renaming(SpecialistOutcome.DONE, was=found.name)

        return await self.db.write(work, "specialist.rename")

    async def delete(self, specialist_id: int, actor: Actor) -> RemovalResult:
        """Deletes a specialist no booking has ever named, with their hours, days and services.
        Refused while any booking (any status) names them, and for the last specialist."""
        now = self.clock()

        def work(conn: Conn) -> RemovalResult:
            catalog.lock_specialist(conn, specialist_id)
            found = catalog.get_specialist(conn, specialist_id)
            if found is None:
                return RemovalResult(Removal.NOT_FOUND)
            if used := bookings.count_of_specialist(conn, specialist_id):
                return RemovalResult(Removal.IN_USE, found.name, used)
            if catalog.count_specialists(conn) <= 1:
                return RemovalResult(Removal.LAST, found.name)
            catalog.delete_specialist(conn, specialist_id)
            audit.record(
                conn,
                actor=actor,
                action="specialist.deleted",
                entity="specialist",
                entity_id=specialist_id,
                now=now,
                name=found.name,
            )
            return RemovalResult(Removal.DONE, found.name)

        return await self.db.write(work, "specialist.delete")

    async def set_services(
        self, specialist_id: int, service_ids: Sequence[int], actor: Actor
    ) -> SpecialistChange:
        """Replace the set of services the specialist offers; every id must exist."""
        now = self.clock()
        wanted = sorted(set(service_ids))

        def work(conn: Conn) -> SpecialistChange:
            if catalog.get_specialist(conn, specialist_id) is None:
                return SpecialistChange(SpecialistOutcome.NOT_FOUND)
            unknown = tuple(sid for sid in wanted if catalog.get_service(conn, sid) is None)
            if unknown:
                return SpecialistChange(SpecialistOutcome.UNKNOWN_SERVICE, unknown=unknown)
            catalog.replace_specialist_services(conn, specialist_id, wanted)
            audit.record(
                conn,
                actor=actor,
                action="specialist.services",
                entity="specialist",
                entity_id=specialist_id,
                now=now,
                service_ids=wanted,
            )
            return SpecialistChange(SpecialistOutcome.DONE)

        return await self.db.write(work, "specialist.services")

    async def set_active(self, specialist_id: int, active: bool, actor: Actor) -> SpecialistChange:
        """Switching off hides the specialist from new bookings; their bookings stay."""
        now = self.clock()

        def work(conn: Conn) -> SpecialistChange:
            if not catalog.set_specialist_active(conn, specialist_id, active):
                return SpecialistChange(SpecialistOutcome.NOT_FOUND)
            audit.record(
                conn,
                actor=actor,
                action="specialist.on" if active else "specialist.off",
                entity="specialist",
                entity_id=specialist_id,
                now=now,
            )
            upcoming = bookings.count_future_active_of_specialist(conn, specialist_id, now)
            return SpecialistChange(SpecialistOutcome.DONE, upcoming=upcoming)

        return await self.db.write(work, "specialist.active")
