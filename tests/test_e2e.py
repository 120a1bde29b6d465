"""End to end: `python bot.py` as a real OS process, long polling a local Bot API emulator over
HTTP, with a real SQLite file. Nothing sleeps: every wait is on a Bot API call the bot makes or a
line it prints, and every wait has a deadline, so a broken bot fails a test instead of hanging it.

The bot runs on the real system clock, so the tests open every day round the clock
(WORKING_HOURS="mon-sun 00:00-24:00", MIN_LEAD_MINUTES=0) and pick times from what the bot shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiogram.filters.callback_data import CallbackData

from database.migrate import migrate
from database.migrations.base import MigrationContext
from database.sqlite import SqliteDatabase
from domain.actors import Actor
from handlers import COMMANDS
from handlers.callback_data import CalendarCb, ConfirmCb, DayCb, ServiceCb, TimeCb
from services.catalog import CatalogService
from tests.support.botapi_emulator import BotAPIEmulator, FakeUser, UploadedFile
from utils.formatting import hhmm
from utils.i18n import Translations
from utils.timeutil import from_ts, get_tz, system_clock, to_local

# Every test here spawns `python bot.py`.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAHe2eFakeTokenForTestsOnly_abcdefghij"
TOKEN_SECRET = TOKEN.partition(":")[2]
# A half-hour offset without DST: local slot times and their UTC instants differ visibly.
TZ_NAME = "Asia/Kolkata"
BUSINESS = "E2E Studio"
SERVICE = "Haircut"
START_TIMEOUT = 20.0  # interpreter start, imports, migrations
STEP_TIMEOUT = 10.0  # one Bot API round trip through polling
STOP_TIMEOUT = 10.0  # SIGTERM to exit
# A time chosen now must still be in the future when the test confirms it.
SAFETY_SECONDS = 120

JSON = dict[str, Any]
T = TypeVar("T")
t = Translations()("en")


# ------------------------------------------------------------------ the bot process


class BotProcess:
    """`python bot.py` with its stdout/stderr collected as they come (so a pipe never fills)."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._changed = asyncio.Event()
        assert proc.stdout is not None
        assert proc.stderr is not None
        self._readers = [
            asyncio.create_task(self._read(proc.stdout, self.stdout)),
            asyncio.create_task(self._read(proc.stderr, self.stderr)),
        ]

    async def _read(self, stream: asyncio.StreamReader, into: list[str]) -> None:
        async for raw in stream:
            into.append(raw.decode("utf-8", errors="replace"))
            changed, self._changed = self._changed, asyncio.Event()
            changed.set()

    @property
    def output(self) -> str:
        return "".join(self.stdout) + "".join(self.stderr)

    async def wait_for_output(self, text: str, timeout: float = START_TIMEOUT) -> None:  # noqa: ASYNC109
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while text not in self.output:
            if self.proc.returncode is not None:
                await self.finish()
                raise AssertionError(
                    f"bot exited ({self.proc.returncode}) before printing {text!r}:\n{self.output}"
                )
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"bot never printed {text!r}:\n{self.output}")
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), min(remaining, 0.5))

    async def while_running(
        self,
        awaitable: Awaitable[T],
        what: str,
        timeout: float = START_TIMEOUT,  # noqa: ASYNC109
    ) -> T:
        """``awaitable``'s result; fails with the bot's output if the bot exits or time runs out."""
        task = asyncio.ensure_future(awaitable)
        exited = asyncio.ensure_future(self.proc.wait())
        try:
            await asyncio.wait({task, exited}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pending in (task, exited):
                pending.cancel()
            await asyncio.gather(task, exited, return_exceptions=True)
        if not task.done() or task.cancelled():
            state = "timed out" if self.proc.returncode is None else "exited"
            raise AssertionError(f"bot {state} waiting for {what}:\n{self.output}")
        return task.result()

    async def finish(self, timeout: float = STOP_TIMEOUT) -> int:  # noqa: ASYNC109
        """Wait for the exit and for the last of its output."""
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        await asyncio.wait_for(asyncio.gather(*self._readers), timeout)
        return code

    async def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return await self.finish()
        except TimeoutError:
            raise AssertionError(f"bot did not stop on SIGTERM:\n{self.output}") from None

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.proc.wait(), STOP_TIMEOUT)
        for reader in self._readers:
            reader.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)


@contextlib.asynccontextmanager
async def running_bot(env: Mapping[str, str], cwd: Path) -> AsyncIterator[BotProcess]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "bot.py"),
        cwd=cwd,
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    bot = BotProcess(proc)
    try:
        yield bot
    finally:
        await bot.kill()


def bot_env(api_url: str, db_path: Path, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api_url,
        "DATABASE_URL": f"sqlite:///{db_path.resolve()}",
        "WORKING_HOURS": "mon-sun 00:00-24:00",
        "MIN_LEAD_MINUTES": "0",
        "TIMEZONE": TZ_NAME,
        "DEFAULT_LANGUAGE": "en",
        "BUSINESS_NAME": BUSINESS,
        "BUSINESS_ADDRESS": "1 Test Street",
        "LOG_LEVEL": "INFO",
        "WEB_PORT": "",  # no HTTP server unless a test asks for one
    }
    env.update(extra)
    return env


async def prepare_db(path: Path) -> int:
    """A migrated database with one 60-minute service; returns the service id."""
    migrate(path, MigrationContext(tz=get_tz(TZ_NAME), now=system_clock()))
    db = SqliteDatabase(path)
    await db.open()
    try:
        service = await CatalogService(db).add(
            Actor.admin(1), name=SERVICE, duration_minutes=60, price=1500
        )
    finally:
        await db.close()
    return service.id


async def polling_started(api: BotAPIEmulator, bot: BotProcess) -> None:
    polled = api.wait_for(lambda c: c.method == "getUpdates", timeout=START_TIMEOUT)
    await bot.while_running(polled, "the first getUpdates")


def assert_clean(bot: BotProcess) -> None:
    output = bot.output
    assert "Traceback" not in output, output
    assert TOKEN not in output
    assert TOKEN_SECRET not in output


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# ------------------------------------------------------------------ a client's taps


def buttons(message: Mapping[str, Any]) -> list[JSON]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def data_with(message: Mapping[str, Any], kind: type[CallbackData]) -> list[str]:
    """The callback data of the message's buttons of one kind, in screen order."""
    prefix = f"{kind.__prefix__}{kind.__separator__}"
    return [
        b["callback_data"]
        for b in buttons(message)
        if str(b.get("callback_data", "")).startswith(prefix)
    ]


def offered_starts(message: Mapping[str, Any]) -> list[int]:
    return [TimeCb.unpack(data).start for data in data_with(message, TimeCb)]


async def press(
    api: BotAPIEmulator,
    user: FakeUser,
    message: Mapping[str, Any],
    data: str | None = None,
    *,
    text: str | None = None,
) -> JSON:
    """Tap a button; returns the message as it looks once the bot has answered the tap."""
    mark = api.mark()
    query = api.click(user, message, data, text=text)
    await api.answers_to(query, since=mark, timeout=STEP_TIMEOUT)
    return api.message(message["chat"]["id"], message["message_id"])


async def say(api: BotAPIEmulator, user: FakeUser, text: str, expect: str) -> JSON:
    """Send a message; returns the bot's reply containing ``expect``, as the user sees it."""
    mark = api.mark()
    api.send_message(user, text)
    call = await api.wait_for_message(user.id, contains=expect, since=mark, timeout=STEP_TIMEOUT)
    reply: JSON = call.result
    return reply


async def to_calendar(api: BotAPIEmulator, user: FakeUser, service_id: int) -> JSON:
    """/start -> Book -> name (the offered button) -> service: returns the calendar message."""
    greeting = t("menu.greeting", name=user.first_name, business=BUSINESS)
    menu = await say(api, user, "/start", greeting)
    mark = api.mark()
    query = api.click(user, menu, text=t("menu.book"))
    ask = await api.wait_for_message(
        user.id, contains=t("reg.ask_name"), since=mark, timeout=STEP_TIMEOUT
    )
    await api.answers_to(query, since=mark, timeout=STEP_TIMEOUT)
    offered = [b["text"] for row in ask.params["reply_markup"]["keyboard"] for b in row]
    assert offered == [user.first_name]
    services = await say(api, user, offered[0], t("book.choose_service"))
    calendar = await press(api, user, services, ServiceCb(service=service_id).pack())
    assert t("book.choose_day") in calendar["text"]
    return calendar


async def first_time(api: BotAPIEmulator, user: FakeUser, calendar: JSON) -> tuple[JSON, str]:
    """The times screen of the first open day with a time far enough ahead, and that button.

    Late on the last day of a month the shown month may have no such time: then ▶.
    """
    not_before = time.time() + SAFETY_SECONDS
    for _ in range(2):
        for day in data_with(calendar, DayCb):
            times = await press(api, user, calendar, day)
            for data in data_with(times, TimeCb):
                if TimeCb.unpack(data).start >= not_before:
                    return times, data
            (back,) = data_with(times, CalendarCb)
            calendar = await press(api, user, times, back)
        calendar = await press(api, user, calendar, text="▶")
    raise AssertionError(f"no free time offered in two months: {calendar}")


# ------------------------------------------------------------------ tests


async def test_starts_answers_what_queued_while_down_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "data" / "bot.db"
    await prepare_db(db_path)
    ann = FakeUser(id=501, first_name="Ann", username="ann")
    async with BotAPIEmulator() as api:
        # Sent while the bot is down: Telegram keeps it until the bot polls.
        api.send_message(ann, "/start")
        async with running_bot(bot_env(api.base_url, db_path), tmp_path) as bot:
            await polling_started(api, bot)
            reply = await api.wait_for_message(
                ann.id,
                contains=t("menu.greeting", name="Ann", business=BUSINESS),
                timeout=STEP_TIMEOUT,
            )
            await bot.wait_for_output("started")
            code = await bot.terminate()

        assert code == 0, bot.output
        assert "stopped cleanly" in "".join(bot.stdout)
        assert_clean(bot)

    methods = [c.method for c in api.calls]
    first_poll = methods.index("getUpdates")
    startup = methods[:first_poll]
    assert startup.index("getMe") < startup.index("deleteWebhook") < startup.index("setMyCommands")
    assert startup.count("setMyCommands") == 3
    (delete_webhook,) = api.calls_of("deleteWebhook")
    assert delete_webhook.params.get("drop_pending_updates") in (None, False)
    assert all(c.token == TOKEN for c in api.calls)
    menus = {
        lang: [c["command"] for c in api.commands_for({"type": "all_private_chats"}, lang)]
        for lang in ("ru", "en", "")
    }
    assert menus == {lang: list(COMMANDS) for lang in ("ru", "en", "")}
    ru = api.commands_for({"type": "all_private_chats"}, "ru")
    en = api.commands_for({"type": "all_private_chats"}, "en")
    assert ru != en  # each language gets its own descriptions
    assert api.commands_for({"type": "all_private_chats"}, "") == en  # DEFAULT_LANGUAGE=en
    assert reply.result["reply_markup"]["inline_keyboard"][0][0]["text"] == t("menu.book")
    # The queued update was confirmed, not dropped and not answered twice.
    assert api.pending_updates == []
    assert len([c for c in api.calls_of("sendMessage") if c.chat_id == ann.id]) == 1


async def test_one_client_books_and_gets_the_card_and_an_ics(tmp_path: Path) -> None:
    db_path = tmp_path / "data" / "bot.db"
    service_id = await prepare_db(db_path)
    ann = FakeUser(id=601, first_name="Ann", username="ann")
    async with BotAPIEmulator() as api:
        async with running_bot(bot_env(api.base_url, db_path), tmp_path) as bot:
            await polling_started(api, bot)
            calendar = await to_calendar(api, ann, service_id)
            times, chosen = await first_time(api, ann, calendar)
            start = from_ts(TimeCb.unpack(chosen).start)
            local = to_local(get_tz(TZ_NAME), start)

            card = await press(api, ann, times, chosen)
            assert t("book.check") in card["text"]
            assert t("card.time", time=hhmm(local)) in card["text"]
            mark = api.mark()
            booked = await press(api, ann, card, text=t("book.confirm"))
            document = await api.wait_for(
                lambda c: c.method == "sendDocument" and c.chat_id == ann.id,
                timeout=STEP_TIMEOUT,
                since=mark,
            )
            code = await bot.terminate()

        assert code == 0, bot.output
        assert_clean(bot)

    assert booked["text"].startswith(t("book.done"))
    assert SERVICE in booked["text"]
    assert t("card.time", time=hhmm(local)) in booked["text"]
    assert document.ok
    upload = document.params["document"]
    assert isinstance(upload, UploadedFile)
    assert upload.filename.endswith(".ics")
    assert upload.content.startswith(b"BEGIN:VCALENDAR")
    lines = upload.content.decode().split("\r\n")
    assert f"DTSTART:{start.astimezone(UTC):%Y%m%dT%H%M%SZ}" in lines
    assert f"DTEND:{datetime.fromtimestamp(start.timestamp() + 3600, UTC):%Y%m%dT%H%M%SZ}" in lines
    # The document comes after the card, never instead of it.
    sent = api.sent_to(ann.id)
    assert sent[-1].get("document") is not None
    assert sent[-2]["text"].startswith(t("book.done"))


async def test_twenty_clients_confirm_the_same_time_exactly_one_gets_it(tmp_path: Path) -> None:
    db_path = tmp_path / "data" / "bot.db"
    service_id = await prepare_db(db_path)
    users = [FakeUser(id=700 + n, first_name=f"Client{n}") for n in range(20)]
    async with BotAPIEmulator() as api:
        async with running_bot(bot_env(api.base_url, db_path), tmp_path) as bot:
            await polling_started(api, bot)
            # The first client finds the time; the others go to the same day and time.
            calendar = await to_calendar(api, users[0], service_id)
            times, chosen = await first_time(api, users[0], calendar)
            originally = offered_starts(times)
            target = TimeCb.unpack(chosen).start
            first_card = await press(api, users[0], times, chosen)
            day_data = data_with(first_card, DayCb)[0]  # the card's Back

            async def walk(user: FakeUser) -> JSON:
                calendar = await to_calendar(api, user, service_id)
                if day_data not in data_with(calendar, DayCb):
                    calendar = await press(api, user, calendar, text="▶")
                times = await press(api, user, calendar, day_data)
                return await press(api, user, times, chosen)

            cards = [
                first_card,
                *await asyncio.wait_for(
                    asyncio.gather(*(walk(u) for u in users[1:])), 4 * STEP_TIMEOUT
                ),
            ]
            for card in cards:
                assert t("book.check") in card["text"]
                assert data_with(card, ConfirmCb)

            mark = api.mark()
            # All twenty taps queued back to back, with no await in between.
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
            screens = [
                api.message(u.id, c["message_id"]) for u, c in zip(users, cards, strict=True)
            ]
            winners = [s for s in screens if s["text"].startswith(t("book.done"))]
            if winners:
                await api.wait_for(
                    lambda c: c.method == "sendDocument", since=mark, timeout=STEP_TIMEOUT
                )
            code = await bot.terminate()

        assert code == 0, bot.output
        assert_clean(bot)

    # They did arrive together: one getUpdates handed the bot all twenty.
    batches = [
        {u["callback_query"]["id"] for u in c.result or [] if "callback_query" in u}
        for c in api.calls_of("getUpdates")
    ]
    assert set(queries) in batches
    assert len(answers) == 20
    assert all(a.ok for a in answers)
    assert all(a.params.get("text") != t("error.generic") for a in answers)
    assert len(winners) == 1, [s["text"][:60] for s in screens]
    taken = t("book.taken", time=hhmm(to_local(get_tz(TZ_NAME), from_ts(target))))
    losers = [s for s in screens if s is not winners[0]]
    assert len(losers) == 19
    for screen in losers:
        assert taken in screen["text"]
        offered = offered_starts(screen)
        assert target not in offered
        # Fresh free times: what was free before, minus the starts the new booking overlaps
        # (the service takes an hour) and any that have passed meanwhile.
        assert set(offered) <= set(originally) - {target}
        gone = set(originally) - set(offered)
        assert all(abs(s - target) < 3600 or s < time.time() + 5 for s in gone), gone
    assert len(api.calls_of("sendDocument")) == 1

    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        active = conn.execute(
            "SELECT start_at, client_id FROM bookings WHERE status = 'active'"
        ).fetchall()
    assert len(active) == 1
    assert active[0][0] == target
    winner_id = next(u.id for u, s in zip(users, screens, strict=True) if s is winners[0])
    assert active[0][1] == winner_id


async def test_missing_token_exits_2_with_one_line(tmp_path: Path) -> None:
    env = bot_env("http://127.0.0.1:9", tmp_path / "bot.db")
    del env["BOT_TOKEN"]
    async with running_bot(env, tmp_path) as bot:
        code = await bot.finish(START_TIMEOUT)

    assert code == 2
    assert len("".join(bot.stderr).strip().splitlines()) == 1
    assert "BOT_TOKEN" in bot.stderr[0]
    assert "Traceback" not in bot.output


async def test_rejected_token_exits_2_with_one_clear_line(tmp_path: Path) -> None:
    db_path = tmp_path / "data" / "bot.db"
    other_token = "987654321:AAHsomeOtherBotsTokenNotOurs_xyz"
    async with (
        BotAPIEmulator(tokens=[other_token]) as api,
        running_bot(bot_env(api.base_url, db_path), tmp_path) as bot,
    ):
        code = await bot.finish(START_TIMEOUT)

    assert code == 2, bot.output
    lines = "".join(bot.stderr).strip().splitlines()
    assert len(lines) == 1, bot.stderr
    assert "BOT_TOKEN" in lines[0]
    assert "rejected" in lines[0]
    assert_clean(bot)
    assert [c.method for c in api.calls] == ["getMe"]  # no retry loop on a bad token


async def test_unreachable_api_is_retried_and_sigterm_still_stops_cleanly(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "data" / "bot.db"
    env = bot_env(f"http://127.0.0.1:{closed_port()}", db_path)
    async with running_bot(env, tmp_path) as bot:
        await bot.wait_for_output("retrying")
        code = await bot.terminate()

    assert code == 0, bot.output
    assert "stopped cleanly" in "".join(bot.stdout)
    assert_clean(bot)
    assert db_path.exists()


async def test_server_errors_and_flood_control_at_start_up_are_retried(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "data" / "bot.db"
    await prepare_db(db_path)
    async with BotAPIEmulator() as api:
        api.fail_next("deleteWebhook", error_code=502, description="Bad Gateway")
        # One more 429 than the session middleware waits out by itself.
        api.fail_next(
            "setMyCommands",
            error_code=429,
            description="Too Many Requests: retry after 1",
            retry_after=1,
            times=4,
        )
        async with running_bot(bot_env(api.base_url, db_path), tmp_path) as bot:
            await polling_started(api, bot)
            code = await bot.terminate()

    assert code == 0, bot.output
    assert "retrying" in bot.output
    assert_clean(bot)
    assert [c.ok for c in api.calls_of("deleteWebhook")] == [False, True, True]
    assert [c.ok for c in api.calls_of("setMyCommands")] == [False] * 4 + [True] * 3
    assert len(api.commands_for({"type": "all_private_chats"}, "")) == len(COMMANDS)


async def test_sigterm_stops_the_bot_while_the_api_never_answers(tmp_path: Path) -> None:
    """A Bot API host that accepts the connection and then stays silent (a hung proxy)."""
    request_seen = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)
        request_seen.set()
        await reader.read()  # until the bot hangs up
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        env = bot_env(f"http://127.0.0.1:{port}", tmp_path / "data" / "bot.db")
        async with running_bot(env, tmp_path) as bot:
            await bot.while_running(request_seen.wait(), "the getMe request")
            code = await bot.terminate()
    finally:
        server.close()
        await asyncio.wait_for(server.wait_closed(), STOP_TIMEOUT)

    assert code == 0, bot.output
    assert "stopped cleanly" in "".join(bot.stdout)
    assert_clean(bot)
