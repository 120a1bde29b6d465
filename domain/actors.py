"""Who does something: recorded on cancellations and in the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    CLIENT = "client"
    ADMIN = "admin"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    role: Role
    id: int | None = None

    @classmethod
    def client(cls, user_id: int) -> Actor:
        return cls(Role.CLIENT, user_id)

    @classmethod
    def admin(cls, user_id: int) -> Actor:
        return cls(Role.ADMIN, user_id)

    @property
    def is_client(self) -> bool:
        return self.role is Role.CLIENT


SYSTEM = Actor(Role.SYSTEM)
