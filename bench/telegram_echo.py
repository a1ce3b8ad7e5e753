"""The Telegram baseline: a bare aiogram echo bot (Dispatcher, one message handler) behind a
FastAPI webhook on the bot's own HTTP server settings, answering through the Bot API double.

    python -m bench.telegram_echo --port N --api-base URL --token T --secret S
"""

from __future__ import annotations

import argparse
import asyncio

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message, Update
from fastapi import FastAPI, Request, Response

from bench.listening import READY, shared_listener
from channels.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH, secret_matches
from serving import event_loop, http_server

HOST = "127.0.0.1"


def make_app(bot: Bot, secret: str) -> FastAPI:
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?")

    app = FastAPI()

    @app.post(WEBHOOK_PATH)
    async def webhook(request: Request) -> Response:
        if not secret_matches(request.headers.get(SECRET_HEADER), secret):
            return Response(status_code=403)
        update = Update.model_validate_json(await request.body(), context={"bot": bot})
        await dispatcher.feed_update(bot, update)
        return Response('{"ok":true}', media_type="application/json")

    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.telegram_echo")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-base", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--secret", required=True)
    args = parser.parse_args()
    listener = shared_listener(HOST, args.port)

    async def run() -> None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(args.api_base))
        bot = Bot(args.token, session=session)
        server = http_server(make_app(bot, args.secret), HOST, args.port)
        serving = asyncio.create_task(server.serve(sockets=[listener]))
        while not server.started:  # noqa: ASYNC110 (uvicorn offers no start event)
            await asyncio.sleep(0.01)
        print(f"telegram echo {READY} http://{HOST}:{args.port}", flush=True)
        try:
            await serving
        finally:
            await session.close()

    with event_loop() as runner:
        runner.run(run())


if __name__ == "__main__":
    main()
