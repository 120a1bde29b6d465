"""What the business offers and who does it."""

from __future__ import annotations

from dataclasses import dataclass

# How many clients one session of a service may take (services.capacity's CHECK says the same).
MAX_CAPACITY = 1000


@dataclass(frozen=True)
class Service:
    """One item of the catalog (a haircut, a consultation)."""

    id: int
    name: str
    description: str
    duration_minutes: int
    price: int
    buffer_minutes: int
    is_active: bool
    sort_order: int
    # Clients one session (this service, one specialist, one start) takes: 1 is a booking as
    # ever; more makes it a group session whose seats are booked one by one.
    capacity: int = 1
    # Whether its bookings wait for the staff's Approve: True / False, or None to follow the
    # business's APPROVAL (domain/rules.py, ``Rules.needs_approval``).
    approval: bool | None = None

    @property
    def is_group(self) -> bool:
        return self.capacity > 1


@dataclass(frozen=True)
class Specialist:
    id: int
    name: str
    is_active: bool
    sort_order: int


@dataclass(frozen=True)
class SpecialistInfo:
    """A specialist with the ids of the services they offer."""

    specialist: Specialist
    service_ids: list[int]


@dataclass(frozen=True)
class ServiceInfo:
    """A service with how many active specialists offer it."""

    service: Service
    offered_by: int

    @property
    def bookable(self) -> bool:
        """Whether clients may book it (and see it listed): switched on, and offered by at
        least one active specialist. A service nobody can do is hidden, not shown with every
        day crossed out."""
        return self.service.is_active and self.offered_by > 0
