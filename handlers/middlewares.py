"""Every middleware of the bot, in one place.

Dispatcher (update) middlewares, outermost first: InFlightMiddleware (shutdown drains updates
in flight), UpdateObserver (the update's and user's ids in the log lines, updates and handler
latency in the metrics), ThrottleMiddleware (per-user rate limit), NotifierMiddleware (a
Notifier that sends with the update's Bot). Handler middlewares, once a handler's filters
matched: Services (the services, for every router's handlers), ClientContext (the client row
and their Translator, for the client routers) and AdminContext (the admin's Translator and
Actor). Bot session middlewares, outermost first: RetryAfterMiddleware (waits out Telegram's
flood control, which aiogram does not retry) and ApiObserver (every call in the metrics, and
the Bot API's last answer for /healthz).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import GetUpdates, Response
from aiogram.methods.base import TelegramType
from aiogram.types import CallbackQuery, Message, TelegramObject, Update, User

from domain.actors import Actor
from services.clients import ClientService
from services.notifier import Notifier
from utils.i18n import Language, Translations, Translator, pick_language
from utils.lifecycle import InFlight
from utils.logging_setup import bound
from utils.metrics import API_CALLS, HANDLER_SECONDS, UPDATES, labelled
from utils.throttle import Limiter, Verdict

if TYPE_CHECKING:
    from aiogram.methods import TelegramMethod

logger = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class ClientContext(BaseMiddleware):
    """``client`` (created on first contact, kept up to date) and ``t`` in their language."""

    def __init__(
        self, clients: ClientService, translations: Translations, default: Language
    ) -> None:
        self.clients = clients
        self.translations = translations
        self.default = default

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or user.is_bot:
            return None
        client = await self.clients.touch(
            user.id, user.username, user.first_name, user.language_code
        )
        data["client"] = client
        data["t"] = self.translations(client.language, self.default)
        return await handler(event, data)


class Services(BaseMiddleware):
    """The services handlers ask for by name (``booking``, ``staff``...), given to a handler
    whose filters matched (an inner middleware), not carried through every router before.
    So a filter cannot ask for a service: it gets what it needs when it is made."""

    def __init__(self, services: dict[str, object]) -> None:
        self.services = services

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        # Beneath what the update carries, as the Dispatcher's own data would be: a filter's
        # result or a feed_update argument of the same name wins.
        return await handler(event, {**self.services, **data})


class AdminContext(BaseMiddleware):
    """``t`` in DEFAULT_LANGUAGE and ``actor`` (the admin) for every admin handler."""

    def __init__(self, t: Translator) -> None:
        self.t = t

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user = data.get("event_from_user")
        data["t"] = self.t
        data["actor"] = Actor.admin(user.id) if user is not None else None
        return await handler(event, data)


class InFlightMiddleware(BaseMiddleware):
    """Registers every update's task with the InFlight tracker bot.py drains at shutdown."""

    def __init__(self, in_flight: InFlight) -> None:
        self.in_flight = in_flight

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        with self.in_flight.track():
            return await handler(event, data)


THROTTLED = object()  # what ThrottleMiddleware returns for an update it dropped


class UpdateObserver(BaseMiddleware):
    """Each update: its id and its user's in every log line written while it is handled; its
    type and result (ok, unhandled, error, throttled) and its handling time in the metrics."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        kind = event.event_type
        user: User | None = data.get("event_from_user")
        started = time.perf_counter()
        result = "error"
        with bound(update_id=event.update_id, user_id=user.id if user else None):
            try:
                handled = await handler(event, data)
                if handled is THROTTLED:
                    result = "throttled"
                elif handled is UNHANDLED:
                    result = "unhandled"
                else:
                    result = "ok"
                return handled
            finally:
                labelled(UPDATES, kind, result).inc()
                labelled(HANDLER_SECONDS, kind).observe(time.perf_counter() - started)


class ThrottleMiddleware(BaseMiddleware):
    """Over the user's rate (utils/throttle.py): the first update of the streak is answered
    "too fast" in the user's language, every one is dropped. Admins are exempt."""

    def __init__(
        self,
        limiter: Limiter,
        exempt: Collection[int],
        translations: Translations,
        default: Language,
    ) -> None:
        self.limiter = limiter
        self.exempt = frozenset(exempt)
        self.translations = translations
        self.default = default

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or user.id in self.exempt:
            return await handler(event, data)
        verdict = await self.limiter.hit(user.id)
        if verdict is Verdict.PASS:
            return await handler(event, data)
        if verdict is Verdict.WARN:
            t = self.translations(pick_language(user.language_code, self.default), self.default)
            await self._too_fast(event, t("error.too_fast"))
        return THROTTLED

    @staticmethod
    async def _too_fast(event: TelegramObject, text: str) -> None:
        assert isinstance(event, Update)
        try:
            if isinstance(event.callback_query, CallbackQuery):
                await event.callback_query.answer(text)
            elif isinstance(event.message, Message) and event.message.chat.type == "private":
                await event.message.answer(text)
        except TelegramAPIError as exc:  # the answer is a courtesy
            logger.info("could not say 'too fast': %s", exc)


class NotifierMiddleware(BaseMiddleware):
    """Gives every handler a ``notifier`` that sends with the bot handling the update.

    A Notifier holds no state of an update (the outbox service and a channel to one Bot), so
    one is made per Bot, not per update: a process polls with one Bot; tests feed several.
    """

    def __init__(self, make_notifier: Callable[[Bot], Notifier]) -> None:
        self.make_notifier = make_notifier
        self._made: tuple[Bot, Notifier] | None = None

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        bot: Bot = data["bot"]
        made = self._made
        if made is None or made[0] is not bot:
            made = self._made = (bot, self.make_notifier(bot))
        data["notifier"] = made[1]
        return await handler(event, data)


class RetryAfterMiddleware(BaseRequestMiddleware):
    """Wait out Telegram's flood control (429 with retry_after) and send the request again.

    aiogram raises TelegramRetryAfter and does not retry by itself; without this a burst of
    answers (twenty clients confirming at once) would lose some of them. Long waits are not
    worth holding a user's action for: past ``max_wait`` seconds the error goes up as it is.
    """

    def __init__(
        self,
        max_retries: int = 3,
        max_wait: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        retries = 0
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                # The polling loop has its own backoff for getUpdates.
                if (
                    isinstance(method, GetUpdates)
                    or retries >= self.max_retries
                    or exc.retry_after > self.max_wait
                ):
                    raise
                retries += 1
                logger.warning(
                    "%s: flood control, retry %d/%d in %ss",
                    method.__api_method__,
                    retries,
                    self.max_retries,
                    exc.retry_after,
                )
                await self.sleep(exc.retry_after)


class ApiObserver(BaseRequestMiddleware):
    """Every Bot API call in the metrics by method and result (ok, 429, 403, 4xx, 5xx,
    network); ``on_answer`` is told whenever Telegram answered (the health check's last
    contact), an error answer included: only a network failure or a 5xx is no contact."""

    def __init__(self, on_answer: Callable[[], None] | None = None) -> None:
        self.on_answer = on_answer

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in _RESPONSE_TYPES:
            _RESPONSE_TYPES[returning] = Response[returning]  # type: ignore[valid-type]
        try:
            response = await make_request(bot, method)
        except TelegramAPIError as exc:
            self._count(method.__api_method__, _api_result(exc))
            raise
        self._count(method.__api_method__, "ok")
        return response

    def _count(self, method: str, result: str) -> None:
        labelled(API_CALLS, method, result).inc()
        if result not in ("5xx", "network") and self.on_answer is not None:
            self.on_answer()  # Telegram answered, if only to refuse


# aiogram parses every answer as ``Response[<the method's result type>]``, a generic pydantic
# model that pydantic keeps only weakly: the class is collected with the garbage and built
# again (its whole schema) a few calls later. Held here for the process's life, one per type.
_RESPONSE_TYPES: dict[Any, Any] = {}


def _api_result(exc: TelegramAPIError) -> str:
    """A Bot API error's class, as the metrics name it."""
    if isinstance(exc, TelegramRetryAfter):
        return "429"
    if isinstance(exc, TelegramForbiddenError):
        return "403"
    if isinstance(exc, TelegramServerError):
        return "5xx"
    if isinstance(exc, TelegramNetworkError):
        return "network"
    return "4xx"
