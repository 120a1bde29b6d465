"""A PostgreSQL outage while the bot runs: a polite "try again in a minute" in the client's
language, nothing half done, and the bot back by itself when the server is."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from urllib.parse import urlsplit, urlunsplit

import pytest

from config import load_settings
from database.postgres import PostgresDatabase
from domain.errors import StorageUnavailable
from handlers import build_dispatcher
from services.container import build_services
from tests.conftest import ADMIN, at
from tests.support.botapi_emulator import FakeUser
from tests.support.clock import FakeClock
from tests.support.flow import FlowHarness
from tests.support.tcp_proxy import TcpProxy
from utils.hours import parse_weekly
from utils.i18n import Translations

WED = date(2026, 12, 2)
TR = Translations()


@pytest.fixture
async def proxy(pg_url: str) -> AsyncIterator[TcpProxy]:
    parts = urlsplit(pg_url)
    server = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await server.start()
    yield server
    await server.cut()


def through(proxy: TcpProxy, pg_url: str) -> str:
    parts = urlsplit(pg_url)
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{proxy.port}"))


async def test_a_booking_during_an_outage_is_refused_politely_and_works_after(
    pg_url: str, proxy: TcpProxy, clock: FakeClock
) -> None:
    url = through(proxy, pg_url)
    settings = load_settings(
        _env_file=None, database_url=url, default_language="ru", min_lead_minutes=60
    )
    db = PostgresDatabase(url, pool_size=2, connect_timeout=1.0)
    await db.open()
    try:
        services = build_services(settings, db, clock)
        await services.schedule.seed_weekly_hours(parse_weekly("mon-fri 10:00-19:00"))
        haircut = await services.catalog.add(ADMIN, name="Haircut", duration_minutes=60, price=10)
        ann = FakeUser(id=501, first_name="Anna", language_code="en")
        await services.clients.touch(ann.id, None, "Anna", "en")
        await services.clients.set_name(ann.id, "Anna")
        start = at(settings_tz := services.rules.tz, WED, "10:00")
        async with FlowHarness(build_dispatcher(settings, services)) as flow:
            client = flow.client(ann)
            await client.send("/start")
            await proxy.cut()
            # A forged but well-formed Confirm: the button a client would press.
            await client.click_data(f"ok:{haircut.id}:0:{int(start.timestamp())}:0")
            assert client.last_answer is not None
            assert client.last_answer.text == TR("en")("error.unavailable")
            with pytest.raises(StorageUnavailable):
                await services.booking.book(ann.id, haircut.id, start)

            await proxy.restore()
            # Nothing restarted: the pool reconnects by itself (with its own backoff), and
            # within seconds the same client's booking goes through.
            made = None
            deadline = asyncio.get_running_loop().time() + 30
            while made is None:
                try:
                    made = await services.booking.book(ann.id, haircut.id, start)
                except StorageUnavailable:
                    assert asyncio.get_running_loop().time() < deadline, "never recovered"
                    await asyncio.sleep(0.5)
            assert made.booking is not None
            assert [b.booking.start for b in await services.booking.upcoming(ann.id)] == [
                at(settings_tz, WED, "10:00")
            ]
    finally:
        await db.close()
