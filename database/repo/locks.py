"""Row locks a booking or a move takes first, in one fixed order (PostgreSQL only).

On SQLite the writer's BEGIN IMMEDIATE already holds the whole file's write lock, so there is
nothing to take. On PostgreSQL, READ COMMITTED lets two transactions read the same free time;
locking the client row (for the per-client limit and a double Confirm) and then every
specialist concerned, in id order, makes the check-then-insert of one specialist's time happen
one transaction after another, and the fixed order means two bookings never wait on each other
in a circle (the EXCLUDE constraint alone deadlocked under contention in a trial, 40P01).
A client seen for the first time has no row yet, and no bookings to race over: nothing to lock
(updates of one user never run at once: per-user event isolation).
"""

from __future__ import annotations

from collections.abc import Iterable

from database.engine import Conn


def for_booking(conn: Conn, client_id: int, specialist_ids: Iterable[int]) -> None:
    if conn.dialect != "postgresql":
        return
    conn.execute("SELECT 1 FROM clients WHERE id = ? FOR UPDATE", (client_id,))
    ids = sorted(set(specialist_ids))
    if ids:
        conn.execute("SELECT 1 FROM specialists WHERE id = ANY(?) ORDER BY id FOR UPDATE", (ids,))
