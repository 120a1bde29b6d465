"""Every filter and handler the Dispatcher runs is a coroutine: aiogram sends anything else to a
worker thread for each update that reaches it (see handlers/filters.py). No filter asks for a
service: they join a handler's data only after its filters ran."""

from __future__ import annotations

from aiogram import Dispatcher, Router

from config import load_settings
from database.sqlite import SqliteDatabase
from handlers import build_dispatcher
from services.container import build_services
from tests.support.clock import FakeClock


def routers(root: Router) -> list[Router]:
    found = [root]
    for child in root.sub_routers:
        found.extend(routers(child))
    return found


def sync_callables(dp: Dispatcher) -> list[str]:
    found = []
    for router in routers(dp):
        for name, observer in router.observers.items():
            for flt in observer._handler.filters or []:  # the router-level filters
                if not flt.awaitable:
                    found.append(f"{router.name}.{name} filter {flt.callback!r}")
            for handler in observer.handlers:
                if not handler.awaitable:
                    found.append(f"{router.name}.{name} handler {handler.callback!r}")
                for flt in handler.filters or []:
                    if not flt.awaitable:
                        found.append(f"{router.name}.{name} {handler.callback.__name__}: {flt}")
    return found


async def test_no_filter_or_handler_runs_on_a_worker_thread(tmp_path, clock: FakeClock) -> None:
    settings = load_settings(
        _env_file=None,
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        admin_ids=[42],
        admin_chat_id=-100,
    )
    async with SqliteDatabase(tmp_path / "bot.db") as db:
        dp = build_dispatcher(settings, build_services(settings, db, clock))
        assert sync_callables(dp) == []
        # The services join a handler's data after its filters ran (handlers/middlewares.py,
        # Services): a filter asking for one would be called without it, on every update.
        services = set(build_services(settings, db, clock).by_name())
        assert filters_asking_for(dp, services) == []


def filters_asking_for(dp: Dispatcher, names: set[str]) -> list[str]:
    found = []
    for router in routers(dp):
        for name, observer in router.observers.items():
            filters = list(observer._handler.filters or [])
            for handler in observer.handlers:
                filters.extend(handler.filters or [])
            for flt in filters:
                if asked := names & set(flt.params):
                    found.append(f"{router.name}.{name} {flt.callback!r} asks for {asked}")
    return found
