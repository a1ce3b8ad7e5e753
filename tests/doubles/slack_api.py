"""A Slack Web API double on 127.0.0.1, and a fake customer who writes to the bot.

    python -m tests.doubles.slack_api [--port N] [--bot http://127.0.0.1:8000 --secret S]

prints the api_base to give the bot, then (with --bot) sends each line typed as a direct
message from a customer, signed like Slack; "/press N" presses button N of the bot's last
message. What the bot posts is printed as it arrives.

The double answers auth.test, chat.postMessage (in a thread with thread_ts), chat.update,
chat.postEphemeral, conversations.open and users.info (form, JSON or query parameters, like
slack_sdk sends them), records every call with its parameters and Authorization header, and can
answer the next calls with a failure: HTTP 429 with Retry-After, {"ok": false, "error":
"ratelimited"}, HTTP 500, or any Slack error code. As Slack does, after a 429 it refuses that
method again (429) until Retry-After has passed.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import math
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from tests.doubles.http_api import HttpApiDouble, request_params

TOKEN = "xoxb-test"
SIGNING_SECRET = "shh"  # what the tests (and the CLI) give the bot as slack.signing_secret
BOT_USER_ID, BOT_ID, TEAM_ID = "UBOT0001", "BBOT0001", "T0000001"
USERS: dict[str, dict[str, str]] = {
    "U_OLIVIA": {"name": "olivia", "locale": "en-GB", "email": "olivia.brown@example.com"},
    "U_ANNA": {"name": "anna", "locale": "pl-PL", "email": "anna.kowalska@example.com"},
    "U_IVAN": {"name": "ivan", "locale": "ru-RU", "email": "ivan.petrov@example.com"},
    # the shop's operators, who work in the operators channel
    "U_SAM": {"name": "sam", "locale": "en-GB", "email": "sam@shop.example",
              "display_name": "Sam from Support"},
    "U_KIM": {"name": "kim", "locale": "en-US", "email": "kim@shop.example",
              "display_name": "Kim"},
}


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    authorization: str | None
    status: int  # the HTTP status answered
    ok: bool  # what "ok" said


@dataclass
class _Failure:
    answer: str  # "429" | "500" | a Slack error code such as "ratelimited"
    retry_after: float
    method: str | None


class SlackApiDouble(HttpApiDouble[ApiCall]):
    route = "/api/{method}"

    def __init__(self, token: str | None = TOKEN, users: dict[str, dict[str, str]] | None = None):
        super().__init__()
        self.token = token
        self.users = dict(USERS if users is None else users)
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}  # (channel, ts) -> message
        self._failures: list[_Failure] = []
        self._limited_until: dict[str, float] = {}  # method -> end of its Retry-After
        self._ts = int(time.time())

    @property
    def api_base(self) -> str:
        return self.url + "/api/"

    def bot_settings(self, **changes: Any) -> dict[str, Any]:
        """The bot's [slack] settings for talking to this double."""
        return {"enabled": True, "bot_token": TOKEN, "signing_secret": SIGNING_SECRET,
                "api_base": self.api_base, **changes}

    def fail_next(
        self, count: int, answer: str, retry_after: int = 1, method: str | None = None
    ) -> None:
        """Answer the next `count` calls (of `method`, or any) with a failure."""
        self._failures.extend(_Failure(answer, retry_after, method) for _ in range(count))

    def posted(self, channel: str | None = None) -> list[dict[str, Any]]:
        """The parameters of every message posted (to `channel`), in arrival order."""
        return [c.params for c in self.successful("chat.postMessage")
                if channel is None or c.params.get("channel") == channel]

    def top_level(self, channel: str) -> list[dict[str, Any]]:
        """The messages in `channel` itself (not in a thread), as they look now (edits too)."""
        return [m for (c, _), m in self.messages.items()
                if c == channel and not m.get("thread_ts")]

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """The replies posted in the thread of message `ts`, in arrival order."""
        return [m for (c, _), m in self.messages.items()
                if c == channel and m.get("thread_ts") == ts]

    def ephemeral(self, user: str) -> list[dict[str, Any]]:
        """The parameters of the messages only `user` was shown."""
        return [c.params for c in self.successful("chat.postEphemeral")
                if c.params.get("user") == user]

    async def _answer(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await request_params(request)
        authorization = request.headers.get("Authorization")
        failure = self._take_failure(method) or self._still_limited(method)
        if failure is not None:
            response, ok = _failure_response(failure), False
            if failure.answer == "429":  # like Slack: refused until Retry-After has passed
                self._limited_until[method] = time.monotonic() + failure.retry_after
        elif self.token is not None and authorization != f"Bearer {self.token}":
            response, ok = web.json_response({"ok": False, "error": "invalid_auth"}), False
        else:
            result = self._result(method, params)
            response, ok = web.json_response(result), bool(result["ok"])
        self.calls.append(ApiCall(method, params, authorization, response.status, ok))
        self._changed.set()
        return response

    def _still_limited(self, method: str) -> _Failure | None:
        """A call made before the Retry-After of a 429 ran out is refused again."""
        left = self._limited_until.get(method, 0.0) - time.monotonic()
        return _Failure("429", left, method) if left > 0 else None

    def _take_failure(self, method: str) -> _Failure | None:
        for index, failure in enumerate(self._failures):
            if failure.method in (None, method):
                return self._failures.pop(index)
        return None

    def _result(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "url": "https://double.slack.example/", "team": "Double",
                    "user": "orderbot", "team_id": TEAM_ID, "user_id": BOT_USER_ID,
                    "bot_id": BOT_ID}
        if method == "chat.postMessage":
            self._ts += 1
            ts = f"{self._ts}.000100"
            message = {"type": "message", "text": params.get("text", ""), "user": BOT_USER_ID,
                       "bot_id": BOT_ID, "ts": ts, "blocks": params.get("blocks", [])}
            if params.get("thread_ts"):
                message["thread_ts"] = params["thread_ts"]
            self.messages[(params["channel"], ts)] = message
            return {"ok": True, "channel": params["channel"], "ts": ts, "message": message}
        if method == "chat.postEphemeral":
            if str(params.get("user")) not in self.users:
                return {"ok": False, "error": "user_not_in_channel"}
            self._ts += 1
            return {"ok": True, "message_ts": f"{self._ts}.000200"}
        if method == "chat.update":
            message = self.messages.get((params.get("channel", ""), params.get("ts", "")))
            if message is None:
                return {"ok": False, "error": "message_not_found"}
            message.update(text=params.get("text", ""), blocks=params.get("blocks", []))
            return {"ok": True, "channel": params["channel"], "ts": params["ts"]}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(params.get("users", "")).lstrip("U")}}
        if method == "users.info":
            user = self.users.get(str(params.get("user")))
            if user is None:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": {
                "id": params["user"], "name": user["name"], "locale": user["locale"],
                "is_bot": False, "is_email_confirmed": True,
                "profile": {"email": user["email"], "real_name": user["name"],
                            "display_name": user.get("display_name", "")}}}
        return {"ok": False, "error": "unknown_method"}


def _failure_response(failure: _Failure) -> web.Response:
    if failure.answer == "429":
        return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                 headers={"Retry-After": str(math.ceil(failure.retry_after))})
    if failure.answer == "500":
        return web.Response(status=500, text="<html>Internal Server Error</html>",
                            content_type="text/html")
    return web.json_response({"ok": False, "error": failure.answer})


# What Slack sends to the bot: signed Events API and interactivity requests.


def signed_headers(secret: str, body: str | bytes, timestamp: int | None = None,
                   content_type: str = "application/json") -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    if isinstance(body, str):
        signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    else:  # bytes that need not be UTF-8, which slack_sdk's verifier wants
        base = b"v0:" + stamp.encode() + b":" + body
        signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature,
            "Content-Type": content_type}


def direct_message(user: str, channel: str, text: str, event_id: str | None = None,
                   **event: Any) -> dict[str, Any]:
    """An Events API envelope of a direct message (message.im) to the bot."""
    ts = f"{time.time():.6f}"
    return {
        "token": "unused", "team_id": TEAM_ID, "api_app_id": "A0000001", "type": "event_callback",
        "event_id": event_id or "Ev" + uuid.uuid4().hex[:10].upper(),
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        "event": {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts,
                  "event_ts": ts, "channel_type": "im", "client_msg_id": str(uuid.uuid4()),
                  **event},
    }


def thread_reply(user: str, channel: str, thread_ts: str, text: str,
                 event_id: str | None = None) -> dict[str, Any]:
    """An Events API envelope of a person's reply in the thread of message `thread_ts`."""
    return direct_message(user, channel, text, event_id, channel_type="channel",
                          thread_ts=thread_ts)


def button_press(user: str, message: dict[str, Any], channel: str, index: int) -> dict[str, Any]:
    """A block_actions payload: `user` pressed button `index` of the bot's `message`."""
    buttons = [element for block in message["blocks"] if block["type"] == "actions"
               for element in block["elements"]]
    pressed = buttons[index]
    return {
        "type": "block_actions", "user": {"id": user, "team_id": TEAM_ID},
        "api_app_id": "A0000001", "token": "unused", "team": {"id": TEAM_ID},
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel,
                      "is_ephemeral": False},
        "trigger_id": "1.2.3", "channel": {"id": channel, "name": "directmessage"},
        "message": message, "enterprise": None, "is_enterprise_install": False,
        "actions": [{**pressed, "block_id": "b1", "type": "button",
                     "action_ts": f"{time.time():.6f}"}],
    }


def as_form(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


# By hand: a customer in a terminal.


async def _show(double: SlackApiDouble) -> None:
    """Print what the bot posts or edits, as it arrives."""
    shown = 0
    while True:
        await double.next_call()
        for call in double.calls[shown:]:
            if call.method in ("chat.postMessage", "chat.update"):
                verb = "bot" if call.method == "chat.postMessage" else "bot (edited)"
                print(f"{verb}> {call.params.get('text')}", flush=True)
                for block in call.params.get("blocks", []):
                    for n, element in enumerate(block.get("elements", []), 1):
                        label = element.get("text")
                        label = label["text"] if isinstance(label, dict) else label
                        shown_as = f"[{n}] {label}" if block["type"] == "actions" else label
                        print(f"    {shown_as}", flush=True)
        shown = len(double.calls)


async def _chat(double: SlackApiDouble, bot: str, secret: str, user: str) -> None:
    """Send each line typed as a direct message; "/press N" presses a button."""
    channel = "D" + user.lstrip("U")
    loop = asyncio.get_running_loop()
    async with httpx.AsyncClient(base_url=bot) as client:
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            line = line.strip()
            if line.startswith("/press "):
                with_buttons = [m for (c, _), m in double.messages.items() if c == channel
                                and any(b["type"] == "actions" for b in m["blocks"])]
                if not with_buttons:
                    print("  (no message with buttons to press)", flush=True)
                    continue
                try:
                    pressed = button_press(user, with_buttons[-1], channel,
                                           int(line.split()[1]) - 1)
                except (ValueError, IndexError):
                    print("  (no such button)", flush=True)
                    continue
                body = as_form(pressed)
                headers = signed_headers(secret, body,
                                         content_type="application/x-www-form-urlencoded")
            elif line:
                body = json.dumps(direct_message(user, channel, line))
                headers = signed_headers(secret, body)
            else:
                continue
            response = await client.post("/slack/events", content=body, headers=headers)
            print(f"  (the bot answered Slack: HTTP {response.status_code})", flush=True)


async def _main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.doubles.slack_api")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--bot", help="the bot's base URL, to chat with it from this terminal")
    parser.add_argument("--secret", default=SIGNING_SECRET, help="the bot's slack.signing_secret")
    parser.add_argument("--user", default="U_OLIVIA", choices=sorted(USERS))
    args = parser.parse_args()
    double = SlackApiDouble(token=None)
    await double.start(args.port)
    print(f"slack double: api_base = {double.api_base}  (bot_token: any)", flush=True)
    printer = asyncio.create_task(_show(double))
    try:
        if args.bot:
            print(f"writing to {args.bot} as {args.user}; '/press N' presses a button")
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
