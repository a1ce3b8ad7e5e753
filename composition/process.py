"""One bot process served: the listening socket, the start before uvicorn, the signals, the
banner, the stop."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import sys

from fastapi import FastAPI

from composition.banner import describe
from composition.bootstrap import Orderbot
from config import SettingsError
from serving import event_loop, http_server, settle_heap

log = logging.getLogger("orderbot")


def serve(bot: Orderbot, app: FastAPI, *, listener: socket.socket | None = None) -> int:
    """Run the bot until a stop signal; `listener` lets a caller bind it (the benchmark
    does). The exit code: 0 stopped, 1 uvicorn failed, 2 bad settings."""
    settings = bot.settings
    try:  # bound before anything starts, so a second copy of the bot changes nothing
        bound = listener or listen(settings.http.host, settings.http.port)
    except OSError as error:
        print(f"orderbot: bad settings: http.port: cannot listen on {settings.http.host}:"
              f"{settings.http.port} ({error.strerror}; is another orderbot running?)",
              file=sys.stderr)
        return 2
    server = http_server(app, settings.http.host, settings.http.port,
                         keep_alive_seconds=settings.http.keep_alive_seconds,
                         max_connections=settings.http.max_connections)

    async def run() -> int:
        # The bot starts before uvicorn (lifespan off), so that what a platform refuses at
        # start (a Telegram token, a busy SMTP port) stops it with one line naming the key.
        try:
            await bot.start()  # a failed start has stopped what had started
        except SettingsError as error:
            print(f"orderbot: bad settings: {error}", file=sys.stderr)
            return 2
        # uvicorn handles SIGINT/SIGTERM while it serves, then raises the signal again once it
        # has stopped; with the default handlers that would end the process before the bot
        # stops (replies in flight, the heartbeat that hands pending work over).
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stop_signal, _already_stopping)
        try:
            serving = asyncio.create_task(server.serve(sockets=[bound]))
            while not server.started and not serving.done():  # noqa: ASYNC110 (no event)
                await asyncio.sleep(0.05)
            if not server.started:
                if serving.done() and not serving.cancelled():
                    serving.exception()  # retrieved: uvicorn has logged why
                serving.cancel()
                return 1
            # What start-up built lives as long as the process: the collector need not walk
            # it again (a full pass over it took ~100 ms in a large process, a p99 spike).
            settle_heap()
            print("\n".join(describe(bot)), flush=True)
            await serving
            return 0
        finally:
            await _stop_quietly(bot)

    try:
        with event_loop() as runner:
            return runner.run(run())
    except SystemExit as stop:  # uvicorn exits this way when start-up fails
        return int(stop.code or 1)


def listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError:
        listener.close()
        raise
    listener.set_inheritable(True)
    return listener


async def _stop_quietly(bot: Orderbot) -> None:
    try:
        await bot.stop()
    except Exception:  # the process ends anyway; each part has saved what it could
        log.debug("stopping", exc_info=True)


def _already_stopping(_signal: int, _frame: object) -> None:
    """The signal uvicorn raises again after its shutdown: the bot's own stop follows."""
