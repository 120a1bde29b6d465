"""The Bot's HTTP session: aiogram's AiohttpSession, with less work in each call's body.

- A call without a file goes as a JSON body (the Bot API takes ``application/json`` for every
  method), not as aiogram's url-encoded form: url-encoding quotes a keyboard's JSON byte by
  byte in Python, about a sixth of the CPU of answering a /start (benchmarks/pipeline.py).
  The fields and their values are the ones aiogram would send (tests/test_session.py reads
  both through the Bot API emulator).
- A call with a file goes as aiogram's multipart form, built by dumping the method without its
  Nones: aiogram dumps every unset field as None (a keyboard button has a dozen) and then walks
  the dump to drop them again; the same fields, byte for byte, with a fraction of the walk.

Both are what ``AiohttpSession.make_request`` posts (``build_form_data``): its request, timeout
and error handling stay aiogram's.
"""

from __future__ import annotations

import json
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import TelegramMethod
from aiogram.types import InputFile
from aiohttp import FormData
from aiohttp.payload import BytesPayload


class BotSession(AiohttpSession):
    def build_form_data(  # type: ignore[override]  # any aiohttp payload may be posted
        self, bot: Bot, method: TelegramMethod[Any]
    ) -> FormData | BytesPayload:
        """The body of the call: JSON, or a multipart form when it uploads a file."""
        payload = self.build_json(bot, method)
        if payload is None:
            return self.multipart(bot, method)
        # UTF-8 as it is (no escaped surrogate pairs for emoji). Not the session's json_dumps:
        # bot.py sets none.
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        return BytesPayload(body, content_type="application/json")

    def build_json(self, bot: Bot, method: TelegramMethod[Any]) -> dict[str, Any] | None:
        """The call's fields as a JSON object, or None when it uploads a file.

        The values are aiogram's, before its form turns each into text: a field aiogram
        leaves out (None, or empty text) is left out, and ``false`` or ``0`` are sent."""
        files: dict[str, InputFile] = {}
        payload: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False, exclude_none=True).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is None or prepared == "":
                continue
            payload[key] = prepared
        return None if files else payload

    def multipart(self, bot: Bot, method: TelegramMethod[Any]) -> FormData:
        # AiohttpSession.build_form_data, dumping with exclude_none: prepare_value drops every
        # None of a dump (in objects and lists) and the loop below every empty top-level value,
        # so leaving the Nones out of the dump changes nothing that is sent.
        form = FormData(quote_fields=False)
        files: dict[str, InputFile] = {}
        for key, value in method.model_dump(warnings=False, exclude_none=True).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if not prepared:
                continue
            form.add_field(key, prepared)
        for key, file in files.items():
            form.add_field(key, file.read(bot), filename=file.filename or key)
        return form
