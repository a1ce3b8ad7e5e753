"""What a Telegram webhook update costs the bot, without the customers' network: the bot and
its FastAPI app built in this process, updates POSTed to POST /telegram/webhook through
httpx's ASGI transport, the replies sent over HTTP to the Bot API double in a process of its
own (python -m bench.telegram_double), N private chats at once, each writing again once its
reply is sent.

    python -m bench.telegram_cost [--chats 100] [--updates 4000] [--profile] [--paced]

It prints updates/s and the CPU time of an update in this process (the webhook, the turn, the
reply's send and its sent mark; not the double's). Compare it with bench/turn_cost.py's CPU
per turn to see what the Telegram path adds around the turn. The figures of record come from
`python -m bench --only telegram`.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.conversation import DemoOrder, conversation
from bench.infra import bot_environment, seed_demo_database, sqlite_url
from bench.turn_cost import _write_profile
from tests.doubles.telegram_api import TOKEN, WEBHOOK_SECRET

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def _update(update_id: int, chat_id: int, text: str) -> bytes:
    user = {"id": chat_id, "is_bot": False, "first_name": f"Customer {chat_id}",
            "language_code": "en"}
    message = {"message_id": update_id, "date": int(time.time()), "text": text, "from": user,
               "chat": {"id": chat_id, "type": "private", "first_name": user["first_name"]}}
    return json.dumps({"update_id": update_id, "message": message}).encode()


async def _drive(args: argparse.Namespace, orders: tuple[DemoOrder, ...]) -> dict[str, float]:
    import httpx

    from channels.telegram.pacing import ChatPacer
    from composition.app import make_app
    from composition.bootstrap import build
    from composition.cli import DEFAULT_CONFIG
    from config import load_settings

    bot = build(load_settings(DEFAULT_CONFIG))
    telegram = bot.telegram
    assert telegram is not None
    if not args.paced:
        telegram.sender.pacer = ChatPacer(interval=0.0, burst=1, overall_interval=0.0,
                                          overall_burst=1)
    replied: dict[str, asyncio.Event] = {}
    deliver = telegram.sender.deliver

    async def delivered(outbox_id: int, chat_id: str, *rest: Any, **kw: Any) -> None:
        await deliver(outbox_id, chat_id, *rest, **kw)
        replied[chat_id].set()

    telegram.sender.deliver = delivered  # type: ignore[method-assign]
    app = make_app(bot)
    ids = itertools.count(int(time.time() * 1000))
    done = 0
    warmup = args.updates // 5
    marks: dict[str, float] = {}
    profile = cProfile.Profile() if args.profile else None
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:

            async def chat(index: int) -> None:
                nonlocal done
                chat_id = 900_000 + index
                event = replied[str(chat_id)] = asyncio.Event()
                steps = conversation(orders, index)
                while done < args.updates + warmup:
                    event.clear()
                    response = await client.post(
                        "/telegram/webhook", content=_update(next(ids), chat_id,
                                                             next(steps).text),
                        headers={SECRET_HEADER: WEBHOOK_SECRET,
                                 "Content-Type": "application/json"})
                    if response.status_code != 200:
                        raise RuntimeError(f"webhook answered {response.status_code}")
                    async with asyncio.timeout(30):
                        await event.wait()
                    done += 1
                    if done == warmup:
                        marks["wall"], marks["cpu"] = time.perf_counter(), time.process_time()
                        if profile is not None:
                            profile.enable()

            await asyncio.gather(*(chat(i) for i in range(args.chats)))
    if profile is not None:
        profile.disable()
        _write_profile(profile, args.profile_output)
    wall = time.perf_counter() - marks["wall"]
    cpu = time.process_time() - marks["cpu"]
    updates = done - warmup
    return {"updates": updates, "per_s": updates / wall, "cpu_us": 1e6 * cpu / updates}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.telegram_cost", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--updates", type=int, default=4000)
    parser.add_argument("--paced", action="store_true", help="keep Telegram's send pacing")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--profile-output", default="/tmp/telegram_cost.profile.txt")
    args = parser.parse_args(argv)
    double = subprocess.Popen([sys.executable, "-m", "bench.telegram_double"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert double.stdout is not None
        api_base = double.stdout.readline().strip()
        with tempfile.TemporaryDirectory(prefix="orderbot-telegram-cost-") as scratch:
            folder = Path(scratch)
            os.environ.setdefault("XDG_CACHE_HOME", str(folder / "cache"))
            print("telegram_cost: seeding the demo database", file=sys.stderr, flush=True)
            demo = seed_demo_database(folder)
            os.environ.update(bot_environment(
                0, sqlite_url(demo.copy(folder, "measured")), "",
                TELEGRAM__ENABLED="true", TELEGRAM__TOKEN=TOKEN, TELEGRAM__API_BASE=api_base,
                TELEGRAM__WEBHOOK_SECRET=WEBHOOK_SECRET))
            os.environ["ORDERBOT__DEMO__ENABLED"] = "false"
            import uvloop  # as serving.py runs the bot

            result = uvloop.run(_drive(args, demo.orders))
    finally:
        double.terminate()
        double.wait()
    print(f"telegram_cost: {result['updates']:.0f} updates, {result['per_s']:.0f} updates/s, "
          f"{result['cpu_us']:.0f} µs of CPU per update")
    if args.profile:
        print(f"profile: {args.profile_output} (and .prof)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
