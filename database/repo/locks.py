"""Locks a booking or a move takes first, in one fixed order (PostgreSQL only).

On SQLite the writer's BEGIN IMMEDIATE already holds the whole file's write lock, so there is
nothing to take. On PostgreSQL, READ COMMITTED lets two transactions read the same free time;
locking the client (for the per-client limit and a double Confirm) and then every specialist
concerned, in id order, makes the check-then-insert of one specialist's time happen one
transaction after another, and the fixed order means two bookings never wait on each other in a
circle (the EXCLUDE constraint alone deadlocked under contention in a trial, 40P01).

The locks are transaction-scoped advisory locks, not row locks: SELECT ... FOR UPDATE writes
the lock into the row, so every attempt, even one that is refused, would end with a durable
commit. Keys: a client's is its (positive) id, a specialist's the negative of its id, the
working hours' 0 (no client or specialist has id 0); a client without Telegram has a negative
id (services/clients.py), so theirs is moved past every Telegram id (at most 52 bits), where it
never meets a specialist's. Every process of the bot uses the same keys, and nothing else of
ours takes advisory locks per transaction.

Changes of hours and "cancel the bookings outside the hours" take the hours' lock first, so the
check that a booking is still outside the hours and its cancel happen with no change of hours
in between (on SQLite, again, the write lock does it). Nothing takes it after another lock.
"""

from __future__ import annotations

from collections.abc import Iterable

from database.engine import Conn

OFFLINE_CLIENT_BASE = 2**62


def client_key(client_id: int) -> int:
    return client_id if client_id > 0 else OFFLINE_CLIENT_BASE - client_id


def booking_keys(client_id: int, specialist_ids: Iterable[int]) -> list[int]:
    """The keys in the order they are taken: the client, then the specialists by id."""
    return [client_key(client_id), *(-sid for sid in sorted(set(specialist_ids)))]


def for_booking(conn: Conn, client_id: int, specialist_ids: Iterable[int]) -> bool:
    """Take the locks; True if that was needed (PostgreSQL), so what the unit read before may
    have changed since and must be read again."""
    if conn.dialect != "postgresql":
        return False
    # unnest() yields the array in its order, and each row's lock is taken as it comes.
    conn.execute_later(
        "SELECT pg_advisory_xact_lock(k) FROM unnest(?::bigint[]) AS k",
        (booking_keys(client_id, specialist_ids),),
    )
    return True


def try_for_booking(conn: Conn, client_id: int, specialist_ids: Iterable[int]) -> bool:
    """Take the locks of ``for_booking`` only if none is held by another transaction (the ones
    this transaction holds already are its own); False if one is. For a unit that already holds
    other locks (an offer to a waiter inside the unit that freed the time): it never waits, so it
    can never wait in a circle. Locks it did get stay until the transaction ends, harmlessly."""
    if conn.dialect != "postgresql":
        return True
    row = conn.execute(
        "SELECT bool_and(pg_try_advisory_xact_lock(k)) FROM unnest(?::bigint[]) AS k",
        (booking_keys(client_id, specialist_ids),),
    ).fetchone()
    return bool(row[0])


HOURS_KEY = 0
# Adding a client without Telegram (the lookup by phone, then the insert): one at a time, so two
# admins adding the same phone at once make one client. No client's key is OFFLINE_CLIENT_BASE
# itself (theirs start one past it).
OFFLINE_CLIENTS_KEY = OFFLINE_CLIENT_BASE


def for_offline_clients(conn: Conn) -> None:
    if conn.dialect == "postgresql":
        conn.execute_later("SELECT pg_advisory_xact_lock(?::bigint)", (OFFLINE_CLIENTS_KEY,))


def for_account(conn: Conn, user_id: int) -> None:
    """A Telegram account being linked to a specialist (PostgreSQL): one link at a time per
    account, as the client's booking key (the same person)."""
    if conn.dialect == "postgresql":
        conn.execute_later("SELECT pg_advisory_xact_lock(?::bigint)", (client_key(user_id),))


def for_hours(conn: Conn) -> None:
    """Take the working hours' lock (PostgreSQL): changes of hours, and cancels that depend on
    them, one after another."""
    if conn.dialect == "postgresql":
        conn.execute_later("SELECT pg_advisory_xact_lock(?::bigint)", (HOURS_KEY,))
