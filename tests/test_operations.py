"""Operations in-process: per-user throttling (in memory and in Redis), the cap on one client's
cards in the admin chat, health checks, metrics, JSON logs and slow transactions."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError

from database.observe import TxWatch
from database.sqlite import SqliteDatabase
from domain.notices import CardVerdict
from domain.rules import Rules
from handlers.backups import make_backup_report
from handlers.callback_data import Destination, Nav
from handlers.middlewares import ApiObserver
from services.health import Health
from tests.conftest import at, require_service
from tests.support.botapi_emulator import BotAPIEmulator, FakeUser
from tests.support.clock import FakeClock
from tests.test_e2e import closed_port
from tests.test_flow_client import (  # noqa: F401 - fixtures used by name
    ANN_ID,
    TR,
    WED,
    MakeWorld,
    World,
    ann,
    book_for,
    make_world,
    text_of,
    world,
)
from utils import metrics
from utils.logging_setup import ScrubbingJsonFormatter, bind, bound, setup_logging
from utils.throttle import MemoryLimiter, RedisLimiter, Verdict
from utils.timeutil import get_tz

GROUP = -1005550001
ADMIN = FakeUser(id=42, first_name="Olga", language_code="en")
BOB = FakeUser(id=1002, first_name="Bob", language_code="en")


def sample(name: str, **labels: str) -> float:
    value = metrics.REGISTRY.get_sample_value(name, labels)
    return 0.0 if value is None else value


# ------------------------------------------------------------------ throttling


def seconds(clock: FakeClock) -> float:
    return clock().timestamp()


async def test_memory_buckets_refill_warn_once_and_forget_idle_users(clock: FakeClock) -> None:
    limiter = MemoryLimiter(rate=2, burst=3, clock=lambda: seconds(clock), max_users=100)
    verdicts = [await limiter.hit(1) for _ in range(6)]
    assert verdicts == [Verdict.PASS] * 3 + [Verdict.WARN] + [Verdict.DROP] * 2
    assert await limiter.hit(2) is Verdict.PASS  # another user has a bucket of their own
    clock.advance(seconds=1)  # two tokens back
    assert [await limiter.hit(1) for _ in range(4)] == [
        Verdict.PASS,
        Verdict.PASS,
        Verdict.WARN,  # a new streak is told again
        Verdict.DROP,
    ]
    # A flood of one-off users keeps no more than max_users buckets.
    for user in range(1_000, 2_000):
        clock.advance(seconds=0.1)
        await limiter.hit(user)
    assert len(limiter._buckets) <= 101


@pytest.fixture
async def redis_client() -> AsyncIterator[Any]:
    import redis.asyncio as redis

    client = redis.Redis.from_url("redis://127.0.0.1:6379/8", socket_connect_timeout=3)
    try:
        await client.flushdb()
    except Exception as exc:
        await client.aclose()
        require_service("Redis", str(exc))
    yield client
    await client.flushdb()
    await client.aclose()


async def test_redis_buckets_are_shared_by_replicas_and_expire(redis_client: Any) -> None:
    one = RedisLimiter(redis_client, rate=0.1, burst=3)
    two = RedisLimiter(redis_client, rate=0.1, burst=3)  # another replica, same Redis
    assert [await one.hit(7) for _ in range(2)] == [Verdict.PASS, Verdict.PASS]
    assert await two.hit(7) is Verdict.PASS
    assert await two.hit(7) is Verdict.WARN
    assert await one.hit(7) is Verdict.DROP
    assert await one.hit(8) is Verdict.PASS
    ttl = await redis_client.pttl("throttle:7")
    assert 0 < ttl <= 31_000  # forgotten once it would be full again


async def test_redis_down_lets_updates_through(caplog: pytest.LogCaptureFixture) -> None:
    import redis.asyncio as redis

    client = redis.Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.5)
    try:
        limiter = RedisLimiter(client, rate=1, burst=1)
        assert [await limiter.hit(1) for _ in range(3)] == [Verdict.PASS] * 3
    finally:
        await client.aclose()
    assert "throttling skipped" in caplog.text
    caplog.clear()


async def test_a_fast_user_is_throttled_while_another_is_served(
    make_world: MakeWorld,  # noqa: F811 - the fixture
    clock: FakeClock,
) -> None:
    limiter = MemoryLimiter(rate=1, burst=3, clock=lambda: seconds(clock))
    shop = await make_world(limiter=limiter, admin_ids=[ADMIN.id], default_language="en")
    api = shop.flow.emulator
    t = TR("en")
    fast, calm = shop.client(ann("en")), shop.client(BOB)
    before = sample("bot_updates_total", type="message", result="throttled")

    for n in range(8):
        await fast.send("/start")
        if n == 4:
            await calm.send("/help")
    texts = [text_of(m) for m in api.sent_to(ANN_ID)]
    greetings = [x for x in texts if x != t("error.too_fast")]
    assert len(greetings) == 3  # the burst
    assert texts.count(t("error.too_fast")) == 1  # told once; the other four dropped unanswered
    assert len(texts) == 4
    assert [text_of(m) for m in api.sent_to(BOB.id)]  # the other client was served meanwhile
    assert sample("bot_updates_total", type="message", result="throttled") - before == 5

    # A button pressed during the streak: dropped, and its spinner is not answered again.
    menu = api.sent_to(ANN_ID)[0]
    await fast.click_data(Nav(to=Destination.BOOK).pack(), message=menu)
    assert not fast.answered
    clock.advance(seconds=2)  # tokens are back: served again, and a new streak is told again
    await fast.send("/start")
    assert len(api.sent_to(ANN_ID)) == 5

    # Admins are never throttled.
    admin = shop.client(ADMIN)
    for _ in range(10):
        await admin.send("/help")
    assert len(api.sent_to(ADMIN.id)) == 10


# ------------------------------------------------------------------ the admin chat's cards


def test_the_card_cap_sends_then_summarises_then_skips() -> None:
    rules = Rules(get_tz("Europe/Moscow"), admin_cards_per_client_hour=3)
    assert [rules.card_verdict(n) for n in range(6)] == [
        CardVerdict.SEND,
        CardVerdict.SEND,
        CardVerdict.SEND,
        CardVerdict.PAUSE,
        CardVerdict.SKIP,
        CardVerdict.SKIP,
    ]
    uncapped = dataclasses.replace(rules, admin_cards_per_client_hour=0)
    assert uncapped.card_verdict(99) is CardVerdict.SEND


async def test_one_client_cannot_flood_the_admin_chat(
    make_world: MakeWorld,  # noqa: F811 - the fixture
    clock: FakeClock,
) -> None:
    shop = await make_world(
        admin_ids=[ADMIN.id], admin_chat_id=GROUP, admin_cards_per_client_hour=4
    )
    api = shop.flow.emulator
    await shop.register(ann("en"))
    await shop.register(BOB)
    for _ in range(30):  # thirty book-and-cancel cycles: sixty cards without a cap
        booking_id = await book_for(shop, ANN_ID, WED, "10:00")
        cancelled = await shop.services.booking.cancel(booking_id, ANN_ID)
        assert cancelled.ok
        await shop.services.outbox.flush(shop.outbox_channel(), [booking_id])
    group = [text_of(m) for m in api.sent_to(GROUP)]
    t = TR("ru")  # the admin chat speaks DEFAULT_LANGUAGE
    title = t("admin.card.paused", id=0, line="", client_id=ANN_ID, cap=4).split("\n")[0]
    paused = re.sub(r"<[^>]+>", "", title)
    assert len(group) == 5, group  # four cards and one summary
    assert sum(paused in text for text in group) == 1
    assert f"/client {ANN_ID}" in group[-1]
    skipped = await shop.rows(
        "SELECT count(*) FROM reminders WHERE status = 'skipped' AND reason LIKE 'over the cap%'"
    )
    assert skipped[0][0] == 55

    # Another client's cards are not held back; nor, an hour later, Ann's.
    await book_for(shop, BOB.id, WED, "12:00")
    clock.advance(minutes=61)
    await book_for(shop, ANN_ID, WED, "15:00")
    assert len(api.sent_to(GROUP)) == 7


# ------------------------------------------------------------------ health


async def test_health_names_a_stale_heartbeat_and_a_failing_probe() -> None:
    now = [1000.0]
    health = Health(clock=lambda: now[0])
    health.watch("bot_api", 180)
    health.watch("scheduler", 90)
    report = await health.check()
    assert not report.ok and report.checks == {"bot_api": "never yet", "scheduler": "never yet"}

    health.beat("bot_api")
    health.beat("scheduler")
    now[0] += 100
    report = await health.check()
    assert not report.ok
    assert report.checks["bot_api"] == "ok"
    assert report.checks["scheduler"].startswith("stale: 100 s ago")
    health.beat("scheduler")

    async def gone() -> None:
        raise OSError("database file is gone")

    health.probe("database", gone)
    report = await health.check()
    assert not report.ok and report.checks["database"] == "failed: OSError: database file is gone"
    assert report.body()["seconds_since"] == {"bot_api": 100.0, "scheduler": 0.0}


async def test_a_sqlite_file_deleted_under_the_bot_fails_its_ping(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    async with SqliteDatabase(path) as db:
        await db.ping()
        path.unlink()
        with pytest.raises(Exception, match="deleted or replaced"):
            await db.ping()


# ------------------------------------------------------------------ metrics


async def test_a_booking_moves_the_counters(world: World) -> None:  # noqa: F811
    before = {
        "booked": sample("bot_booking_attempts_total", action="book", outcome="booked"),
        "tx": sample("bot_db_transaction_seconds_count", label="book", mode="write"),
        "updates": sample("bot_updates_total", type="message", result="ok"),
    }
    await world.register(ann("en"))
    await book_for(world, ANN_ID, WED, "10:00")
    await world.client(ann("en")).send("/my")
    assert sample("bot_booking_attempts_total", action="book", outcome="booked") == (
        before["booked"] + 1
    )
    assert sample("bot_db_transaction_seconds_count", label="book", mode="write") == (
        before["tx"] + 1
    )
    assert sample("bot_updates_total", type="message", result="ok") > before["updates"]
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain")
    assert b"bot_handler_seconds_bucket" in body and b"process_resident_memory_bytes" in body


async def test_the_outbox_backlog_counts_what_is_due_and_undelivered(
    world: World,  # noqa: F811
) -> None:
    await world.register(ann("en"))
    booking = await world.services.booking.book(
        ANN_ID, world.haircut.id, at(world.tz, WED, "10:00")
    )
    assert booking.ok
    world.clock.advance(minutes=5)
    counts = await world.services.outbox.measure_backlog()
    assert counts.get("confirmation") == 1  # nobody answered in the chat, a minute has passed
    assert sample("bot_outbox_backlog", kind="confirmation") == 1
    await world.services.outbox.dispatch_due(world.outbox_channel())
    counts = await world.services.outbox.measure_backlog()
    assert counts.get("confirmation") is None
    assert sample("bot_outbox_backlog", kind="confirmation") == 0


# ------------------------------------------------------------------ logs


def test_json_lines_carry_the_update_user_and_booking(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        setup_logging("INFO", None, "json")
        log = logging.getLogger("test.ops")
        with bound(update_id=5001, user_id=77):
            log.info("handling")
            bind(booking_id=12)
            log.warning("booked, token 123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        log.info("outside")
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    first, second, third = lines
    assert first["message"] == "handling" and first["level"] == "INFO"
    assert (first["update_id"], first["user_id"]) == (5001, 77) and "booking_id" not in first
    assert second["booking_id"] == 12 and "ABCDEFGHIJ" not in second["message"]
    assert "update_id" not in third and third["logger"] == "test.ops"
    assert isinstance(ScrubbingJsonFormatter(), logging.Formatter)


async def test_a_slow_transaction_is_logged_with_its_label(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with SqliteDatabase(tmp_path / "bot.db", watch=TxWatch(slow_after=0.0)) as db:
        with caplog.at_level(logging.WARNING, logger="database.slow"):
            await db.write(lambda c: c.execute("CREATE TABLE t (x)"), "make.table")
            await db.read(lambda c: c.execute("SELECT count(*) FROM t").fetchone(), "count.t")
    slow = [r.getMessage() for r in caplog.records if r.name == "database.slow"]
    assert len(slow) == 3, slow  # the unit, its batch's COMMIT, the read
    assert re.match(r"slow transaction make\.table \(write\): \d+ ms", slow[0])
    assert slow[1].startswith("slow transaction commit (write)")
    assert slow[2].startswith("slow transaction count.t (read)")
    caplog.clear()


# ------------------------------------------------------------------ backups


async def test_backup_trouble_and_recovery_reach_the_admin_chat(
    make_world: MakeWorld,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    shop = await make_world(admin_chat_id=GROUP, backup_dir=str(tmp_path / "backups"))
    report = make_backup_report(shop.flow.bot, TR, shop.settings)
    await report("No space left on device: <disk>")
    await report(None)
    failed, again = [text_of(m) for m in shop.flow.emulator.sent_to(GROUP)]
    t = TR("ru")
    assert "No space left on device: <disk>" in failed  # escaped, shown as written
    assert failed.startswith(t("admin.backup.failed", folder="", reason="")[:20])
    assert again == t("admin.backup.works_again", folder=str(tmp_path / "backups"))


# ------------------------------------------------------------------ Bot API calls


async def test_bot_api_calls_are_counted_by_result_and_keep_the_contact_fresh() -> None:
    def calls(result: str) -> float:
        return sample("bot_telegram_api_calls_total", method="sendMessage", result=result)

    results = ("ok", "429", "403", "4xx", "5xx", "network")
    before = {result: calls(result) for result in results}
    answers = []
    async with BotAPIEmulator() as api:
        session = AiohttpSession(api=TelegramAPIServer.from_base(api.base_url))
        session.middleware(ApiObserver(lambda: answers.append(1)))
        bot = Bot("123456:TEST-token_abcdefghijklmnop", session=session)
        try:
            await bot.send_message(ANN_ID, "fine")
            faults = ((429, "Too Many Requests", 1), (403, "blocked", None), (400, "bad", None))
            for code, text, wait in (*faults, (502, "Bad Gateway", None)):
                api.fail_next("sendMessage", error_code=code, description=text, retry_after=wait)
                with pytest.raises(TelegramAPIError):
                    await bot.send_message(ANN_ID, "refused")
        finally:
            await bot.session.close()
    bot = Bot(
        "123456:TEST-token_abcdefghijklmnop",
        session=_observed_session(f"http://127.0.0.1:{closed_port()}"),
    )
    try:
        with pytest.raises(TelegramNetworkError):
            await bot.send_message(ANN_ID, "nobody there")
    finally:
        await bot.session.close()
    moved = {result: calls(result) - before[result] for result in results}
    assert moved == {"ok": 1, "429": 1, "403": 1, "4xx": 1, "5xx": 1, "network": 1}
    assert len(answers) == 4  # an answer, even a refusal, is contact; a 5xx or no answer is not


def _observed_session(url: str) -> AiohttpSession:
    session = AiohttpSession(api=TelegramAPIServer.from_base(url))
    session.middleware(ApiObserver())
    return session
