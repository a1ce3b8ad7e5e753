"""Talk to a running bot's web chat from a terminal, as a customer would.

    .venv/bin/python scripts/chat.py [--url http://127.0.0.1:8000] [--language pl]
        [--email E --secret S] [MESSAGE ...]

Each MESSAGE is sent in turn and the bot's replies printed; a message starting with "!" presses
the button whose title (or number) follows, e.g. "!Confirm" or "!2". With no MESSAGE, lines are
read from standard input. Buttons are printed as [1] title.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import sys
import time
from typing import Any

import httpx
import websockets

QUIET_SECONDS = 1.5  # no more replies after this long: the bot has answered


async def _replies(socket: Any) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []
    while True:
        try:
            raw = await asyncio.wait_for(socket.recv(), QUIET_SECONDS)
        except TimeoutError:
            return received
        received.append(json.loads(raw))


def _show(messages: list[dict[str, Any]], buttons: list[dict[str, str]]) -> None:
    for message in messages:
        if message.get("type") == "history":
            for entry in message.get("messages", []):
                print(f"  (history) {entry.get('from')}: {entry.get('text')}")
            continue
        if message.get("type") != "message":
            print(f"  <{message}>")
            continue
        print(f"bot> {message.get('text')}")
        if message.get("buttons"):
            buttons[:] = message["buttons"]
            for index, button in enumerate(buttons, 1):
                print(f"      [{index}] {button['title']}")


def _press(wanted: str, buttons: list[dict[str, str]]) -> str | None:
    if wanted.isdigit() and 1 <= int(wanted) <= len(buttons):
        return buttons[int(wanted) - 1]["payload"]
    for button in buttons:
        if button["title"].casefold() == wanted.casefold():
            return button["payload"]
    return None


async def chat(args: argparse.Namespace) -> None:
    body: dict[str, Any] = {"language": args.language} if args.language else {}
    if args.email:
        body["customer"] = {"email": args.email, "name": args.email.split("@")[0]}
        at = int(time.time())  # the signature covers "email:timestamp" (README)
        body["signature"] = hmac.new(args.secret.encode(), f"{args.email}:{at}".encode(),
                                     hashlib.sha256).hexdigest()
        body["timestamp"] = at
    async with httpx.AsyncClient(base_url=args.url) as client:
        response = await client.post("/webchat/session", json=body,
                                     headers={"Origin": args.url})
        response.raise_for_status()
        token = response.json()["token"]
    ws_url = args.url.replace("http", "ws", 1) + f"/webchat/ws?token={token}"
    buttons: list[dict[str, str]] = []
    async with websockets.connect(ws_url, origin=args.url) as socket:
        _show(await _replies(socket), buttons)
        lines = args.messages or (line.rstrip("\n") for line in sys.stdin)
        for line in lines:
            if not line:
                continue
            print(f"you> {line}")
            if line.startswith("!"):
                payload = _press(line[1:], buttons)
                if payload is None:
                    print(f"  (no button {line[1:]!r})")
                    continue
                await socket.send(json.dumps({"type": "action", "payload": payload}))
            else:
                await socket.send(json.dumps({"type": "message", "text": line}))
            _show(await _replies(socket), buttons)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--language")
    parser.add_argument("--email", help="sign in as this customer (needs --secret)")
    parser.add_argument("--secret", default="", help="[webchat] identity_secret")
    parser.add_argument("messages", nargs="*")
    asyncio.run(chat(parser.parse_args()))


if __name__ == "__main__":
    main()
