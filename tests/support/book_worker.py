"""A separate OS process that books one start from many coroutines: see test_concurrency.py.

argv: DB_PATH NOW_ISO START_ISO SERVICE_ID FIRST_CLIENT_ID COUNT
Prints "ready", waits for a line on stdin (so all processes start together), then prints one
JSON line: the outcome of each attempt. Any exception escapes to a non-zero exit code.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime

from database.db_retry import RetryPolicy
from database.sqlite import SqliteDatabase
from domain.rules import Rules
from services.booking import ClientBookingService
from tests.support.clock import FakeClock
from utils.timeutil import get_tz


async def main(argv: list[str]) -> None:
    path, now, start, service_id, first_client, count = argv
    clock = FakeClock(datetime.fromisoformat(now))
    db = SqliteDatabase(path, retry=RetryPolicy(max_retries=8, delay=0.01, backoff=2.0))
    await db.open()
    try:
        service = ClientBookingService(db, Rules(get_tz("Europe/Moscow")), clock=clock)
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        results = await asyncio.gather(
            *(
                service.book(int(first_client) + i, int(service_id), datetime.fromisoformat(start))
                for i in range(int(count))
            )
        )
        print(json.dumps([r.outcome.value for r in results]), flush=True)
    finally:
        await db.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
