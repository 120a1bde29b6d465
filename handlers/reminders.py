"""The client's answers to reminders: "I'll come" and the rating stars. The reminders themselves
are sent by the outbox (services/outbox.py) through handlers/notify.py."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message

from domain.clients import Client
from domain.outcomes import Outcome
from handlers.callback_data import BookingCb, RateCb, VisitCb
from handlers.common import alert
from handlers.views.reminders import reminder_keyboard
from services.visits import VisitService
from utils.i18n import Translator


async def confirm_visit(
    callback: CallbackQuery,
    callback_data: VisitCb,
    client: Client,
    t: Translator,
    visits: VisitService,
) -> None:
    result = await visits.confirm_visit(callback_data.booking, client.id)
    if result.outcome is not Outcome.CONFIRMED:
        await alert(callback, t(f"outcome.{result.outcome.value}"))
        return
    message, line = callback.message, t("reminder.confirmed_line")
    if isinstance(message, Message) and message.text and not message.text.endswith(line):
        still = message.reply_markup is not None and any(
            BookingCb.__prefix__ in (b.callback_data or "")
            for row in message.reply_markup.inline_keyboard
            for b in row
        )
        await message.edit_text(
            message.html_text + "\n\n" + line,
            reply_markup=reminder_keyboard(
                t, callback_data.booking, confirmed=True, changeable=still
            ),
        )
    await callback.answer(t("reminder.thanks"))


async def rate(
    callback: CallbackQuery,
    callback_data: RateCb,
    client: Client,
    t: Translator,
    visits: VisitService,
) -> None:
    result = await visits.rate(callback_data.booking, client.id, callback_data.stars)
    if result.outcome is not Outcome.RATED:
        await alert(callback, t(f"outcome.{result.outcome.value}"))
        return
    stars = "★" * callback_data.stars + "☆" * (5 - callback_data.stars)
    if isinstance(callback.message, Message):
        await callback.message.edit_text(t("feedback.thanks", stars=stars))
    await callback.answer()


def make_router() -> Router:
    """A fresh router each call: a Router can belong to only one Dispatcher."""
    router = Router(name="reminders")
    router.callback_query.register(confirm_visit, VisitCb.filter(F.booking > 0))
    router.callback_query.register(rate, RateCb.filter())
    return router
