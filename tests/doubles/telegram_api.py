"""A Telegram Bot API double on 127.0.0.1, and a fake customer who writes to the bot.

    python -m tests.doubles.telegram_api [--port N] [--bot http://127.0.0.1:8000 --secret S]

prints the api_base to give the bot (telegram.api_base), then sends each line typed as a
message from a customer: to the bot's webhook when --bot is given, else into the getUpdates
queue for a bot in polling mode. "/press N" presses button N of the bot's last message with
buttons. What the bot sends is printed as it arrives.

The double answers getMe, setWebhook, deleteWebhook, getUpdates (long polling with offsets),
sendMessage, answerCallbackQuery and editMessageReplyMarkup at /bot<token>/<method>, records
every call with its decoded parameters (aiogram sends forms; nested fields such as
reply_markup are JSON strings in them), and can answer the next calls with a failure: 429
with retry_after, 500, 403 (bot blocked by the user) or 400 (chat not found), or hold them
past the bot's timeout (delay_next; the held call then fails, having changed nothing). It can
be stopped and started again on the same port (connection refused meanwhile). Like Telegram,
after a 429 it refuses the same chat (or, without a chat, the same method) with another 429
until retry_after has passed: a bot that retries sooner is seen to.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import sys
import time
from dataclasses import dataclass
from typing import Any

import httpx
from aiohttp import web

from tests.doubles.http_api import HttpApiDouble, request_params

TOKEN = "123456:TEST"
WEBHOOK_SECRET = "s3cret"  # what the tests (and the CLI) give the bot as telegram.webhook_secret
FLOOD_GRACE = 0.01  # seconds: a retry this close to the end of the wait counts as after it
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Orderbot", "username": "orderbot_test_bot"}
USERS: dict[str, dict[str, Any]] = {
    "olivia": {"id": 5001, "is_bot": False, "first_name": "Olivia", "language_code": "en"},
    "anna": {"id": 5002, "is_bot": False, "first_name": "Anna", "language_code": "pl"},
    "ivan": {"id": 5003, "is_bot": False, "first_name": "Иван", "language_code": "ru"},
}
JSON_PARAMS = frozenset({"reply_markup", "allowed_updates", "entities", "link_preview_options",
                         "reply_parameters"})
FAILURES: dict[str, tuple[int, str]] = {
    "429": (429, "Too Many Requests: retry after {retry_after}"),
    "500": (500, "Internal Server Error"),
    "403": (403, "Forbidden: bot was blocked by the user"),
    "400": (400, "Bad Request: chat not found"),
    "502": (502, "Bad Gateway"),
}


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    status: int  # the HTTP status answered; 0 while the call is still being answered

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class _Failure:
    answer: str
    retry_after: int
    method: str | None
    after: int  # matching calls still to let through before failing


class TelegramApiDouble(HttpApiDouble[ApiCall]):
    route = "/bot{token}/{method}"

    def __init__(self, token: str | None = TOKEN) -> None:
        super().__init__()
        self.token = token  # None: any token is accepted
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}  # (chat, message id) -> it
        self.webhook: dict[str, Any] = {}
        self._updates: list[dict[str, Any]] = []  # not yet confirmed by a getUpdates offset
        # Telegram's update ids and a chat's message ids only grow, also across restarts of
        # the double (a bot remembers the ids it has seen: a repeated one would be a replay)
        self._update_ids = itertools.count(int(time.time() * 1000))
        self._message_ids = itertools.count(int(time.time() * 1000))
        self._failures: list[_Failure] = []
        self._delays: list[tuple[float, str | None]] = []  # (seconds, method or any)
        self._flood_until: dict[str, float] = {}  # chat id (or method) -> end of its 429 wait
        self._pushed = asyncio.Event()
        self._closing = asyncio.Event()
        self.files: dict[str, bytes] = {}  # file_id -> content, for getFile and downloads

    async def start(self, port: int = 0) -> str:
        self._closing.clear()  # started again after a stop
        return await super().start(port)

    async def stop(self) -> None:
        self._closing.set()  # ends long polls and held calls still open
        await super().stop()

    # What a test tells the double

    def fail_next(
        self, count: int, answer: str, retry_after: int = 1, method: str | None = None,
        after: int = 0,
    ) -> None:
        """Answer the next `count` calls (of `method`, or any) with "429", "500", "403" or
        "400", once `after` of them went through."""
        self._failures.extend(_Failure(answer, retry_after, method, after) for _ in range(count))

    def delay_next(self, count: int, seconds: float, method: str | None = None) -> None:
        """Hold the next `count` calls (of `method`, or any) for `seconds` before answering
        them 502 with nothing done: a bot whose timeout is shorter sees a timeout."""
        self._delays.extend((seconds, method) for _ in range(count))

    def bot_settings(self, **changes: Any) -> dict[str, Any]:
        """The bot's [telegram] settings for talking to this double (webhook mode)."""
        return {"enabled": True, "token": TOKEN, "api_base": self.url,
                "webhook_secret": WEBHOOK_SECRET, **changes}

    def add_file(self, data: bytes) -> str:
        """A file a customer sent: its file_id (getFile, then GET /file/bot<token>/<path>)."""
        file_id = f"F{len(self.files) + 1}x{next(self._message_ids)}"
        self.files[file_id] = data
        return file_id

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_get("/file/bot{token}/files/{file_id}", self._download)

    async def _download(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["file_id"])
        if data is None or (self.token is not None and request.match_info["token"] != self.token):
            return web.Response(status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    def next_update_id(self) -> int:
        return next(self._update_ids)

    def push_update(self, update: dict[str, Any]) -> None:
        """Queue an update for getUpdates (polling mode)."""
        self._updates.append(update)
        self._pushed.set()

    # What a test reads

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """The parameters of every message sent (to `chat_id`), in arrival order."""
        return [c.params for c in self.successful("sendMessage")
                if chat_id is None or str(c.params.get("chat_id")) == str(chat_id)]

    def last_with_buttons(self, chat_id: int) -> dict[str, Any]:
        """The bot's last message in the chat that still shows buttons."""
        return [m for (chat, _), m in self.messages.items()
                if chat == chat_id and m.get("reply_markup", {}).get("inline_keyboard")][-1]

    # The Bot API

    async def _answer(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        call = ApiCall(method, params, 0)  # recorded on arrival: a long poll is seen at once
        self.calls.append(call)
        self._changed.set()
        delay = self._take_delay(method)
        flooded = self._flooded(method, params)
        failure = None if flooded or delay else self._take_failure(method)
        if delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), delay)
            status, body = _error(*FAILURES["502"])
        elif flooded:
            status, body = _flood_body(flooded)
        elif failure is not None:
            status, body = _failure_body(failure)
            if failure.answer == "429":
                self._flood_until[_flood_key(method, params)] = (
                    time.monotonic() + failure.retry_after)
        elif self.token is not None and request.match_info["token"] != self.token:
            status, body = 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        else:
            status, body = await self._result(method.lower(), params)
        call.status = status
        self._changed.set()
        return web.json_response(body, status=status)

    def _flooded(self, method: str, params: dict[str, Any]) -> int:
        """Seconds still to wait after an earlier 429 for this chat (or method), else 0."""
        until = self._flood_until.get(_flood_key(method, params), 0.0)
        remaining = until - time.monotonic()
        return math.ceil(remaining) if remaining > FLOOD_GRACE else 0

    def _take_delay(self, method: str) -> float:
        if method == "getUpdates":
            return 0.0
        for index, (seconds, only) in enumerate(self._delays):
            if only in (None, method):
                del self._delays[index]
                return seconds
        return 0.0

    def _take_failure(self, method: str) -> _Failure | None:
        if method == "getUpdates":  # failures are meant for what the bot sends
            return None
        for index, failure in enumerate(self._failures):
            if failure.method in (None, method):
                if failure.after > 0:
                    failure.after -= 1
                    return None
                return self._failures.pop(index)
        return None

    async def _result(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "getme":
            return _ok(BOT_USER)
        if method == "setwebhook":
            self.webhook = dict(params)
            return _ok(True)
        if method == "deletewebhook":
            self.webhook = {}
            return _ok(True)
        if method == "getupdates":
            return _ok(await self._get_updates(params))
        if method == "sendmessage":
            return self._send_message(params)
        if method == "answercallbackquery":
            return _ok(True)
        if method == "getfile":
            file_id = str(params.get("file_id", ""))
            if file_id not in self.files:
                return _error(400, "Bad Request: invalid file_id")
            return _ok({"file_id": file_id, "file_unique_id": f"u{file_id}",
                        "file_size": len(self.files[file_id]), "file_path": f"files/{file_id}"})
        if method == "editmessagereplymarkup":
            return self._edit_markup(params)
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        while not self._updates and not self._closing.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._pushed.clear()
            waiters = [asyncio.ensure_future(self._pushed.wait()),
                       asyncio.ensure_future(self._closing.wait())]
            await asyncio.wait(waiters, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
        return self._updates[: int(params.get("limit") or 100)]

    def _send_message(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        text = str(params.get("text", ""))
        if not text.strip():
            return _error(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            return _error(400, "Bad Request: message is too long")
        chat_id = int(params["chat_id"])
        message: dict[str, Any] = {
            "message_id": next(self._message_ids), "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"}, "from": BOT_USER, "text": text,
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        self.messages[(chat_id, message["message_id"])] = message
        return _ok(message)

    def _edit_markup(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        key = (int(params.get("chat_id", 0)), int(params.get("message_id", 0)))
        message = self.messages.get(key)
        if message is None:
            return _error(400, "Bad Request: message to edit not found")
        markup = params.get("reply_markup") or {}
        if markup.get("inline_keyboard"):
            message["reply_markup"] = markup
        elif "reply_markup" in message:
            del message["reply_markup"]
        else:
            return _error(400, "Bad Request: message is not modified")
        return _ok(message)


def _ok(result: Any) -> tuple[int, dict[str, Any]]:
    return 200, {"ok": True, "result": result}


def _error(status: int, description: str) -> tuple[int, dict[str, Any]]:
    return status, {"ok": False, "error_code": status, "description": description}


def _flood_key(method: str, params: dict[str, Any]) -> str:
    return f"chat {params['chat_id']}" if params.get("chat_id") else method


def _flood_body(retry_after: int) -> tuple[int, dict[str, Any]]:
    status, description = FAILURES["429"]
    status, body = _error(status, description.format(retry_after=retry_after))
    body["parameters"] = {"retry_after": retry_after}
    return status, body


def _failure_body(failure: _Failure) -> tuple[int, dict[str, Any]]:
    status, description = FAILURES[failure.answer]
    status, body = _error(status, description.format(retry_after=failure.retry_after))
    if failure.answer == "429":
        body["parameters"] = {"retry_after": failure.retry_after}
    return status, body


async def _params(request: web.Request) -> dict[str, Any]:
    params = await request_params(request)
    for name in JSON_PARAMS & params.keys():
        if isinstance(params[name], str):
            params[name] = json.loads(params[name])
    return params


# What Telegram sends to the bot.


def text_update(update_id: int, user: str, text: str, **message: Any) -> dict[str, Any]:
    """A private message from one of USERS (their chat id is their user id)."""
    sender = USERS[user]
    chat = {"id": sender["id"], "type": "private", "first_name": sender["first_name"]}
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": int(time.time()), "chat": chat,
        "from": sender, "text": text, **message}}


def press_update(update_id: int, user: str, message: dict[str, Any], index: int) -> dict[str, Any]:
    """A callback_query: `user` pressed button `index` of the bot's `message`."""
    buttons = [row[0] for row in message["reply_markup"]["inline_keyboard"]]
    return {"update_id": update_id, "callback_query": {
        "id": f"q{update_id}", "from": USERS[user], "message": message,
        "chat_instance": "-1", "data": buttons[index]["callback_data"]}}


# By hand: a customer in a terminal.


async def _show(double: TelegramApiDouble) -> None:
    """Print what the bot sends, as it arrives."""
    shown: set[int] = set()
    while True:
        await double.next_call()
        for call in double.calls:
            if call.status == 0 or id(call) in shown or call.method == "getUpdates":
                continue
            shown.add(id(call))
            if call.method == "sendMessage" and call.ok:
                print(f"bot> {call.params.get('text')}", flush=True)
                rows = (call.params.get("reply_markup") or {}).get("inline_keyboard", [])
                for n, row in enumerate(rows, 1):
                    print(f"    [{n}] {row[0]['text']}", flush=True)
            elif call.method in ("answerCallbackQuery", "editMessageReplyMarkup") and call.ok:
                print(f"  ({call.method})", flush=True)
            elif not call.ok:
                print(f"  ({call.method} answered {call.status})", flush=True)


async def _chat(double: TelegramApiDouble, bot: str | None, secret: str, user: str) -> None:
    chat_id = USERS[user]["id"]
    loop = asyncio.get_running_loop()
    async with httpx.AsyncClient() as client:
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            line = line.strip()
            if not line:
                continue
            if line.startswith("/press "):
                try:
                    update = press_update(double.next_update_id(), user,
                                          double.last_with_buttons(chat_id),
                                          int(line.split()[1]) - 1)
                except (ValueError, IndexError):
                    print("  (no such button)", flush=True)
                    continue
            else:
                update = text_update(double.next_update_id(), user, line)
            if bot is None:
                double.push_update(update)
                continue
            response = await client.post(f"{bot}/telegram/webhook", json=update,
                                         headers={"X-Telegram-Bot-Api-Secret-Token": secret})
            print(f"  (the bot answered Telegram: HTTP {response.status_code})", flush=True)


async def _main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.doubles.telegram_api")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--bot", help="the bot's base URL (webhook mode); else polling mode")
    parser.add_argument("--secret", default=WEBHOOK_SECRET,
                        help="the bot's telegram.webhook_secret")
    parser.add_argument("--user", default="olivia", choices=sorted(USERS))
    args = parser.parse_args()
    double = TelegramApiDouble(token=None)
    await double.start(args.port)
    print(f"telegram double: api_base = {double.url}  (token: any, like {TOKEN})", flush=True)
    how = f"webhook {args.bot}/telegram/webhook" if args.bot else "getUpdates (polling)"
    print(f"writing as {args.user} through {how}; '/press N' presses a button", flush=True)
    printer = asyncio.create_task(_show(double))
    try:
        await _chat(double, args.bot, args.secret, args.user)
        await asyncio.Event().wait()
    finally:
        printer.cancel()
        await double.stop()


if __name__ == "__main__":
    try:
        asyncio.run(_main())
    except KeyboardInterrupt:
        pass
