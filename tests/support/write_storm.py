"""A process that writes without end through SqliteDatabase, printing each row's id once its
write is acknowledged; tests SIGKILL it and check that every printed id was committed.

python -m tests.support.write_storm DB_PATH
"""

from __future__ import annotations

import asyncio
import sys
from itertools import count

from database.engine import Conn
from database.sqlite import SqliteDatabase


async def main(path: str) -> None:
    async with SqliteDatabase(path) as db:
        await db.write(lambda c: c.execute("CREATE TABLE IF NOT EXISTS acked (n INTEGER)"))
        numbers = count()

        async def one(n: int) -> None:
            def insert(c: Conn) -> None:
                c.execute("INSERT INTO acked VALUES (?)", (n,))

            await db.write(insert)
            sys.stdout.write(f"{n}\n")
            sys.stdout.flush()

        while True:  # waves of concurrent writers: batches of many units each
            await asyncio.gather(*(one(next(numbers)) for _ in range(100)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
