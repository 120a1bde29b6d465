"""The bot's own HTTP server: Telegram's webhook POSTs (webhook mode) and GET /healthz.

The webhook route answers Telegram at once and handles the update afterwards (aiogram's
SimpleRequestHandler, in the background; bot.py drains those at stop). A request without the
WEBHOOK_SECRET header gets 401 and is not handled.
"""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from services.health import Health


def make_web_app(
    health: Health,
    *,
    dispatcher: Dispatcher | None = None,
    bot: Bot | None = None,
    webhook_path: str | None = None,
    secret: str | None = None,
) -> web.Application:
    app = web.Application()

    async def healthz(request: web.Request) -> web.Response:
        ok, checks = await health.check()
        body = {"status": "ok" if ok else "unavailable", "checks": checks}
        return web.json_response(body, status=200 if ok else 503)

    app.router.add_get("/healthz", healthz)
    if dispatcher is not None and bot is not None and webhook_path is not None:
        handler = SimpleRequestHandler(
            dispatcher, bot, handle_in_background=True, secret_token=secret
        )
        handler.register(app, path=webhook_path)
    return app
