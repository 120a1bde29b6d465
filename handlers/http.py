"""The bot's own HTTP server: Telegram's webhook POSTs (webhook mode), GET /healthz (each check
by name; 503 naming what failed) and GET /metrics (Prometheus text format).

The webhook route answers Telegram at once and handles the update afterwards (aiogram's
SimpleRequestHandler, in the background; bot.py drains those at stop). A request without the
WEBHOOK_SECRET header gets 401 and is not handled.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from services.health import Health
from utils import metrics

logger = logging.getLogger(__name__)


def make_web_app(
    health: Health,
    *,
    dispatcher: Dispatcher | None = None,
    bot: Bot | None = None,
    webhook_path: str | None = None,
    secret: str | None = None,
    before_metrics: Callable[[], Awaitable[object]] | None = None,
) -> web.Application:
    """``before_metrics``: brings the gauges read from the database up to date."""
    app = web.Application()

    async def healthz(request: web.Request) -> web.Response:
        report = await health.check()
        return web.json_response(report.body(), status=200 if report.ok else 503)

    async def metrics_page(request: web.Request) -> web.Response:
        if before_metrics is not None:
            try:
                await before_metrics()
            except Exception:  # the database is down: the rest is worth seeing all the same
                logger.warning("/metrics: the backlog could not be counted", exc_info=True)
        body, content_type = metrics.render()
        response = web.Response(body=body)
        response.headers["Content-Type"] = content_type
        return response

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_page)
    if dispatcher is not None and bot is not None and webhook_path is not None:
        handler = SimpleRequestHandler(
            dispatcher, bot, handle_in_background=True, secret_token=secret
        )
        handler.register(app, path=webhook_path)
    return app
