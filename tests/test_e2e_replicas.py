"""End to end, scaled out: two `python bot.py` replicas in webhook mode on one PostgreSQL and
one Redis, behind a round-robin load balancer, driven over HTTP by the Bot API emulator (which
delivers updates to the webhook as Telegram does). Updates alternate between the replicas."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from database.postgres import PostgresDatabase
from domain.actors import Actor
from handlers.callback_data import ConfirmCb, DayCb, TimeCb
from services.catalog import CatalogService
from tests.conftest import require_service
from tests.support.botapi_emulator import BotAPIEmulator, FakeUser
from tests.test_e2e import (
    SERVICE,
    STEP_TIMEOUT,
    BotProcess,
    assert_clean,
    bot_env,
    closed_port,
    data_with,
    first_time,
    press,
    running_bot,
    t,
    to_calendar,
)

pytestmark = pytest.mark.slow

REDIS_URL = "redis://127.0.0.1:6379/7"  # a database of its own, emptied by the test
SECRET = "replica-test_secret"
HOOK_PATH = "/tg/hook"


class LoadBalancer:
    """Round robin over the replicas' webhook servers; a replica that does not answer is
    skipped, as any load balancer with health checks would."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.routed: list[tuple[int, int]] = []  # (update_id, replica port)
        self._next = itertools.cycle(ports)
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        update = await request.json()
        headers = {k: v for k, v in request.headers.items() if k.lower().startswith("x-")}
        async with aiohttp.ClientSession() as session:
            for _ in self.ports:
                port = next(self._next)
                url = f"http://127.0.0.1:{port}{request.path}"
                try:
                    async with session.post(
                        url, data=body, headers={**headers, "Content-Type": "application/json"}
                    ) as response:
                        self.routed.append((int(update.get("update_id", 0)), port))
                        return web.Response(status=response.status, body=await response.read())
                except aiohttp.ClientConnectionError:
                    continue
        return web.Response(status=502)


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    import redis.asyncio as redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        await client.flushdb()
    except Exception as exc:
        await client.aclose()
        require_service("Redis", str(exc))
    yield REDIS_URL
    await client.flushdb()
    await client.aclose()


async def add_service(pg_url: str) -> int:
    async with PostgresDatabase(pg_url, pool_size=2) as db:
        service = await CatalogService(db).add(
            Actor.admin(1), name=SERVICE, duration_minutes=60, price=1500
        )
    return service.id


def replica_env(api: BotAPIEmulator, pg_url: str, redis: str, lb: int, port: int) -> dict[str, str]:
    return bot_env(
        api.base_url,
        Path("unused.db"),
        DATABASE_URL=pg_url,
        REDIS_URL=redis,
        WEBHOOK_URL=f"http://127.0.0.1:{lb}{HOOK_PATH}",
        WEBHOOK_SECRET=SECRET,
        WEB_HOST="127.0.0.1",
        WEB_PORT=str(port),
    )


async def get(url: str, **kwargs: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(url, **kwargs) as response:
        return response.status, await response.json(content_type=None)


async def post(url: str, **kwargs: Any) -> int:
    async with aiohttp.ClientSession() as session, session.post(url, **kwargs) as response:
        return response.status


async def test_two_replicas_share_one_conversation_and_one_booking_per_time(
    tmp_path: Path, pg_url: str, redis_url: str
) -> None:
    service_id = await add_service(pg_url)
    ports = [closed_port(), closed_port()]
    lb = LoadBalancer(ports)
    await lb.start()
    users = [FakeUser(id=900 + n, first_name=f"Client{n}") for n in range(20)]
    try:
        async with BotAPIEmulator() as api, contextlib.AsyncExitStack() as stack:
            replicas: list[BotProcess] = []
            for port in ports:
                env = replica_env(api, pg_url, redis_url, lb.port, port)
                replicas.append(await stack.enter_async_context(running_bot(env, tmp_path)))
            for replica in replicas:
                await replica.wait_for_output("started: webhook")
            assert api.webhook_url == f"http://127.0.0.1:{lb.port}{HOOK_PATH}"
            assert not api.calls_of("getUpdates")  # webhook mode never polls

            # Health, and the secret: a POST without it is refused and not handled.
            status, health = await get(f"http://127.0.0.1:{ports[0]}/healthz")
            assert status == 200, health
            assert health["checks"] == {
                "migrations": "ok",
                "redis": "ok",
                "webhook": "ok",
                "bot_api": "ok",
                "scheduler": "ok",
                "database": "ok",
            }
            forged = {"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "/start"}}
            hook = f"http://127.0.0.1:{ports[0]}{HOOK_PATH}"
            assert await post(hook, json=forged) == 401
            headers = {"X-Telegram-Bot-Api-Secret-Token": "wrong"}
            assert await post(hook, json=forged, headers=headers) == 401

            # One client's registration, its steps alternating between the replicas: the FSM
            # state lives in Redis, so the second replica knows a name is being asked for.
            calendar = await to_calendar(api, users[0], service_id)
            steps = [port for _, port in lb.routed[:4]]  # /start, Book, the name, the service
            assert steps == [ports[0], ports[1], ports[0], ports[1]], lb.routed

            # Twenty clients confirm the same time, their taps spread over both replicas.
            times, chosen = await first_time(api, users[0], calendar)
            first_card = await press(api, users[0], times, chosen)
            day_data = data_with(first_card, DayCb)[0]

            async def walk(user: FakeUser) -> dict[str, Any]:
                calendar = await to_calendar(api, user, service_id)
                if day_data not in data_with(calendar, DayCb):
                    calendar = await press(api, user, calendar, text="▶")
                times = await press(api, user, calendar, day_data)
                return await press(api, user, times, chosen)

            cards = [
                first_card,
                *await asyncio.wait_for(
                    asyncio.gather(*(walk(u) for u in users[1:])), 6 * STEP_TIMEOUT
                ),
            ]
            assert all(data_with(card, ConfirmCb) for card in cards)
            mark = api.mark()
            routed_before = len(lb.routed)
            queries = [
                api.click(user, card, text=t("book.confirm"))
                for user, card in zip(users, cards, strict=True)
            ]
            answers = await asyncio.wait_for(
                asyncio.gather(
                    *(api.answers_to(q, since=mark, timeout=3 * STEP_TIMEOUT) for q in queries)
                ),
                4 * STEP_TIMEOUT,
            )
            assert {port for _, port in lb.routed[routed_before:]} == set(ports)
            screens = [
                api.message(u.id, c["message_id"]) for u, c in zip(users, cards, strict=True)
            ]
            winners = [s for s in screens if s["text"].startswith(t("book.done"))]
            assert len(answers) == 20
            assert all(a.ok for a in answers)
            assert not [a for a in answers if a.params.get("text") == t("error.generic")]
            assert len(winners) == 1, [s["text"][:60] for s in screens]
            target = TimeCb.unpack(chosen).start
            losers = [s for s in screens if s is not winners[0]]
            assert all(
                target not in [TimeCb.unpack(d).start for d in data_with(s, TimeCb)] for s in losers
            )

            # One replica dies; the other goes on serving (the balancer skips the dead one).
            await replicas[1].kill()
            late = FakeUser(id=990, first_name="Late")
            calendar = await to_calendar(api, late, service_id)
            assert t("book.choose_day") in calendar["text"]
            code = await replicas[0].terminate()
            assert code == 0, replicas[0].output
            assert_clean(replicas[0])
    finally:
        await lb.stop()

    async with PostgresDatabase(pg_url, pool_size=1) as db:
        active = await db.read(
            lambda c: c.execute(
                "SELECT start_at, client_id FROM bookings WHERE status = 'active'"
            ).fetchall()
        )
    assert [(a[0], a[1]) for a in active] == [
        (target, next(u.id for u, s in zip(users, screens, strict=True) if s is winners[0]))
    ]


@pytest.mark.parametrize("server", ["PostgreSQL", "Redis"])
async def test_a_server_unreachable_at_start_is_waited_for_and_sigterm_still_stops(
    tmp_path: Path, server: str
) -> None:
    port = closed_port()
    extra = (
        {"DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/bot"}
        if server == "PostgreSQL"
        else {"REDIS_URL": f"redis://127.0.0.1:{port}/0"}
    )
    async with BotAPIEmulator() as api:
        env = bot_env(api.base_url, tmp_path / "data" / "bot.db", **extra)
        async with running_bot(env, tmp_path) as bot:
            what = "the database" if server == "PostgreSQL" else "Redis"
            await bot.wait_for_output(f"{what} not reachable")
            await bot.wait_for_output("retrying in 2s")  # backing off
            code = await bot.terminate()
    assert code == 0, bot.output
    assert_clean(bot)
    assert not api.calls  # it never got as far as Telegram
