"""What the web chat costs around a turn: the channel's own path, with a turn that costs
nothing, measured as the benchmark measures the bot.

    python -m bench.webchat_cost [--customers 100] [--seconds 10] [--clients 2] [--rounds 1]

A server process runs the real web chat channel (its router, frame parsing, pub/sub, reply
frames) on the bot's own HTTP server and event loop (serving.py), in front of a stand-in for
the dialog whose answer is an echo handed to the channel's send from a sender task, as the
outbox does. The benchmark's web chat customers (bench.client_process, closed loop) talk to
it, and the server's CPU per turn is printed beside the bare echo's (bench.echo_server) in
the same sitting: the difference is what the channel adds to every turn (docs/performance.md,
"The web chat around the turn"). The figures of record stay those of `python -m bench`.

    python -m bench.webchat_cost --serve --port N   (the server process itself)
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.client_process import ClientJob, Kind
from bench.conversation import PRODUCTS, DemoOrder
from bench.customers import Load
from bench.listening import READY, shared_listener
from bench.load import run_load
from bench.processes import ServerProcess
from serving import event_loop, http_server
from tests.servers import free_port

HOST = "127.0.0.1"
# The conversation's postcode step expects the order's number in the reply: an echo of a
# "postcode" that carries it is accepted like the bot's answer.
ORDERS = tuple(DemoOrder(f"A-{1001 + n}", f"A-{1001 + n} 00-950") for n in range(20))


class _EchoConversations:
    """The dialog's seam with a turn that costs nothing: each message is answered with its
    own text (with the product's name as the catalogue spells it, which the product step's
    check expects), sent from another task after `answer` returns, as the outbox sends."""

    def __init__(self) -> None:
        from composition.cli import DEFAULT_CONFIG
        from config import load_settings
        from dialog.texts import Texts

        self.settings = load_settings(DEFAULT_CONFIG)
        self.texts = Texts.load()
        self._replies: asyncio.Queue[Any] = asyncio.Queue()
        self._keys: dict[str, Any] = {}
        self._ids = itertools.count(1)
        self.send: Callable[[Any], Any] | None = None

    async def answer(self, inbound: Any) -> None:
        self._replies.put_nowait(inbound)

    async def deliver(self) -> None:
        from dialog.messages import Delivery, Outbound

        while True:
            inbound = await self._replies.get()
            n = next(self._ids)
            assert self.send is not None
            await self.send(Delivery(outbox_id=n, message_id=n, outbound=Outbound(
                key=inbound.key, text=_echo(inbound.text)),
                at=datetime.now(UTC).isoformat()))

    async def history(self, key: Any, limit: int = 200) -> tuple[str, list[Any]]:
        return "en", []

    async def open_session(self, channel: str, chat_id: str, language: str | None,
                           **_: Any) -> tuple[str, Any]:
        from dialog.messages import ConversationKey

        key = ConversationKey(channel, chat_id)
        self._keys[chat_id] = key
        return chat_id, key

    async def resolve_token(self, token: str) -> Any:
        return self._keys.get(token)


def _echo(text: str) -> str:
    named = [product for product in PRODUCTS if product.lower() in text]
    return " ".join([text, *named])


def serve(port: int) -> None:
    from fastapi import FastAPI

    from channels.webchat.channel import WebchatChannel
    from coordination.memory import InProcessPubSub

    async def run() -> None:
        conversations = _EchoConversations()
        channel = WebchatChannel(conversations, InProcessPubSub(),  # type: ignore[arg-type]
                                 conversations.settings.webchat, f"http://{HOST}:{port}")
        conversations.send = channel.send
        app = FastAPI()
        app.include_router(channel.router())
        server = http_server(app, HOST, port)
        sender = asyncio.create_task(conversations.deliver())
        serving = asyncio.create_task(server.serve(sockets=[shared_listener(HOST, port)]))
        while not server.started:  # noqa: ASYNC110 (uvicorn offers no start event)
            await asyncio.sleep(0.01)
        print(f"webchat {READY} http://{HOST}:{port}", flush=True)
        await serving
        sender.cancel()

    with event_loop() as runner:
        runner.run(run())


def _measure(name: str, module: str, args: list[str], kind: Kind, port: int, customers: int,
             seconds: float, clients: int, folder: Path,
             samples: Path | None = None, think: float = 0.0) -> tuple[float, int, float]:
    server = ServerProcess(name, module, args, {}, folder / f"{name}.log")
    spies: list[subprocess.Popen[bytes]] = []

    def record() -> None:  # py-spy, as bench.profile samples the bot
        assert samples is not None
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        spies.append(subprocess.Popen(
            [spy, "record", "--pid", str(server.process.pid), "--duration", str(int(seconds)),
             "--rate", "250", "--nonblocking", "--format", "raw", "-o", str(samples)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    try:
        server.wait_ready()
        load = Load("open" if think else "closed", customers, 2.0, seconds, think)
        job = ClientJob(kind, load, first=0,
                        count=customers, orders=ORDERS)
        result = run_load(job, clients, f"http://{HOST}:{port}", lambda: [server.metered()],
                          connected=record if samples is not None else None)
        for spy in spies:
            spy.wait()
    finally:
        server.stop()
    turns = result.tally.completed
    cpu_seconds = result.usage[0].cpu_percent / 100 * seconds
    return 1e6 * cpu_seconds / max(turns, 1), result.tally.errors, turns / seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.webchat_cost", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--think", type=float, default=0.0,
                        help="open loop: mean seconds between a customer's messages (a load "
                             "the same for every variant compared; closed loop if 0)")
    parser.add_argument("--rounds", type=int, default=1, help="echo and web chat, alternately")
    parser.add_argument("--no-echo", action="store_true", help="the web chat alone")
    parser.add_argument("--profile", metavar="FILE",
                        help="py-spy samples of the web chat server, with bench.profile's summary")
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.port)
        return 0
    with tempfile.TemporaryDirectory(prefix="orderbot-webchat-cost-") as scratch:
        folder = Path(scratch)
        for _ in range(args.rounds):
            if not args.no_echo:
                port = free_port()
                cost, errors, rate = _measure("echo", "bench.echo_server", ["--port", str(port)],
                                              "echo", port, args.customers, args.seconds,
                                              args.clients, folder, think=args.think)
                print(f"echo:    {cost:7.1f} µs of server CPU per round trip, {rate:,.0f}/s, "
                      f"{errors} errors", flush=True)
            port = free_port()
            cost, errors, rate = _measure("webchat", "bench.webchat_cost",
                                          ["--serve", "--port", str(port)], "webchat", port,
                                          args.customers, args.seconds, args.clients, folder,
                                          Path(args.profile) if args.profile else None,
                                          think=args.think)
            print(f"webchat: {cost:7.1f} µs of server CPU per turn, {rate:,.0f} turns/s, "
                  f"{errors} errors", flush=True)
    if args.profile:
        from bench.profile import summarise, webchat_pieces

        print(summarise(Path(args.profile)) + "\n" + webchat_pieces(Path(args.profile)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
