"""The catalog of services: add, edit, switch on and off, delete when nothing refers to them;
what clients may book (``ServiceInfo.bookable``)."""

from __future__ import annotations

from database.engine import Conn, Database
from database.repo import audit, bookings, catalog
from domain.actors import Actor
from domain.catalog import Service, ServiceInfo
from domain.outcomes import CatalogOutcome
from utils.timeutil import Clock, system_clock


class CatalogService:
    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self.db = db
        self.clock = clock

    async def list_services(self, *, bookable_only: bool = True) -> list[Service]:
        """What clients are shown (switched on, and offered by an active specialist), in
        display order; ``bookable_only=False``: every service."""
        return [
            info.service for info in await self.overview() if info.bookable or not bookable_only
        ]

    async def overview(self) -> list[ServiceInfo]:
        """Every service with how many active specialists offer it: the admin's /services."""
        return await self.db.read(catalog.list_services, "services.overview")

    async def get(self, service_id: int) -> Service | None:
        return await self.db.read(lambda c: catalog.get_service(c, service_id))

    async def add(
        self,
        actor: Actor,
        *,
        name: str,
        duration_minutes: int,
        price: int,
        description: str = "",
        buffer_minutes: int = 0,
    ) -> Service:
        """A new active service, offered by every active specialist until told otherwise."""
        now = self.clock()

        def work(conn: Conn) -> Service:
            service_id = catalog.insert_service(
                conn,
                name=name,
                duration_minutes=duration_minutes,
                price=price,
                description=description,
                buffer_minutes=buffer_minutes,
                now=now,
            )
            catalog.link_service_to_active_specialists(conn, service_id)
            audit.record(
                conn,
                actor=actor,
                action="service.created",
                entity="service",
                entity_id=service_id,
                now=now,
                name=name,
                duration_minutes=duration_minutes,
                price=price,
            )
            service = catalog.get_service(conn, service_id)
            assert service is not None
            return service

        return await self.db.write(work, "service.add")

    async def update(self, service_id: int, actor: Actor, **fields: object) -> CatalogOutcome:
        now = self.clock()

        def work(conn: Conn) -> CatalogOutcome:
            if not catalog.update_service(conn, service_id, now, **fields):
                return CatalogOutcome.NOT_FOUND
            audit.record(
                conn,
                actor=actor,
                action="service.updated",
                entity="service",
                entity_id=service_id,
                now=now,
                **fields,
            )
            return CatalogOutcome.DONE

        return await self.db.write(work, "service.update")

    async def set_active(self, service_id: int, active: bool, actor: Actor) -> CatalogOutcome:
        """Switching a service off hides it from new bookings; existing bookings stay."""
        return await self.update(service_id, actor, is_active=int(active))

    async def delete(self, service_id: int, actor: Actor) -> CatalogOutcome:
        """Refused (IN_USE) while any booking, of any status, refers to the service."""
        now = self.clock()

        def work(conn: Conn) -> CatalogOutcome:
            if catalog.get_service(conn, service_id) is None:
                return CatalogOutcome.NOT_FOUND
            if bookings.count_of_service(conn, service_id):
                return CatalogOutcome.IN_USE
            catalog.delete_service(conn, service_id)
            audit.record(
                conn,
                actor=actor,
                action="service.deleted",
                entity="service",
                entity_id=service_id,
                now=now,
            )
            return CatalogOutcome.DONE

        return await self.db.write(work, "service.delete")
