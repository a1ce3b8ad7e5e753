"""One load-generating process: many simulated customers on one event loop (uvloop), driven
by the benchmark over a pipe. The servers under test run in other processes.

    benchmark -> client: ("target", url) ("start", at) ; client -> benchmark: ("hello",
    double url or None) ("ready", None) ("done", Tally)

Telegram clients also host the Bot API double the bot sends its replies to.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any, Literal

import aiohttp
import uvloop

from bench.conversation import DemoOrder, conversation, echo
from bench.customers import Customer, Load, Transport
from bench.tally import Tally, Window
from bench.transports import EchoTransport, TelegramTransport, WebchatTransport

if TYPE_CHECKING:
    from bench.telegram_double import ReplyingDouble

OPENING_AT_ONCE = 64  # connections a client opens in parallel (the server's backlog is finite)
FIRST_CHAT_ID = 7_000_000
Kind = Literal["echo", "webchat", "telegram", "telegram_echo"]


@dataclass(frozen=True)
class ClientJob:
    kind: Kind
    load: Load
    first: int  # this process's first customer (their numbers are global)
    count: int
    orders: tuple[DemoOrder, ...] = ()
    telegram_secret: str = ""
    seed: int = 7


def run(job: ClientJob, pipe: Connection) -> None:
    """The process's entry point (multiprocessing target)."""
    uvloop.run(_run(job, pipe))


async def _run(job: ClientJob, pipe: Connection) -> None:
    loop = asyncio.get_running_loop()
    double: ReplyingDouble | None = None
    if job.kind.startswith("telegram"):
        from bench.telegram_double import ReplyingDouble  # aiohttp server: only when needed

        double = ReplyingDouble()
        await double.start()
    pipe.send(("hello", double.url if double else None))
    _, target = await loop.run_in_executor(None, pipe.recv)
    connector = aiohttp.TCPConnector(limit=max(OPENING_AT_ONCE, job.count))
    async with aiohttp.ClientSession(connector=connector) as http:
        tally = Tally(Window(0.0, 0.0))
        rng = random.Random(job.seed * 1_000_003 + job.first)
        customers = [Customer(_transport(job, target, http, double, job.first + i),
                              _steps(job, job.first + i), tally, rng)
                     for i in range(job.count)]
        customers = await _open_all(customers, tally)
        if job.load.mode == "idle":
            await asyncio.gather(*(c.say_once() for c in customers))
        pipe.send(("ready", None))
        _, start = await loop.run_in_executor(None, pipe.recv)
        if job.load.mode != "idle":
            end = start + job.load.warmup + job.load.duration
            tally.window = Window(start + job.load.warmup, end)
            await asyncio.gather(*(c.run(job.load, start, end) for c in customers))
        await asyncio.gather(*(c.close() for c in customers), return_exceptions=True)
    if double is not None:
        await double.stop()
    pipe.send(("done", tally))


async def _open_all(customers: list[Customer], tally: Tally) -> list[Customer]:
    """Connect every customer, a few at a time; those that could not connect are errors."""
    gate = asyncio.Semaphore(OPENING_AT_ONCE)

    async def open_one(customer: Customer) -> bool:
        async with gate:
            try:
                await customer.open()
            except Exception as error:
                tally.error(f"could not connect: {error!r}")
                return False
            return True

    opened = await asyncio.gather(*(open_one(c) for c in customers))
    return [customer for customer, ok in zip(customers, opened, strict=True) if ok]


def _transport(job: ClientJob, target: str, http: aiohttp.ClientSession,
               double: ReplyingDouble | None, number: int) -> Transport:
    if job.kind == "echo":
        return EchoTransport(target)
    if job.kind == "webchat":
        return WebchatTransport(target, http)
    assert double is not None
    chat_id = FIRST_CHAT_ID + number
    replies = double.chats[chat_id] = asyncio.Queue()
    return TelegramTransport(target, job.telegram_secret, http, chat_id, replies)


def _steps(job: ClientJob, number: int) -> Any:
    if job.kind in ("echo", "telegram_echo"):
        return echo(number)
    return conversation(job.orders, number)
