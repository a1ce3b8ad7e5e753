"""The web chat baseline: a bare FastAPI WebSocket echo on the bot's own HTTP server settings
and event loop (bot.http_server, bot.event_loop) - the ceiling of our stack on this machine.

    python -m bench.echo_server --port N
"""

from __future__ import annotations

import argparse
import asyncio

from fastapi import FastAPI, WebSocket, WebSocketDisconnect

from bench.listening import READY, shared_listener
from serving import event_loop, http_server

HOST = "127.0.0.1"


def make_app() -> FastAPI:
    app = FastAPI()

    @app.websocket("/ws")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                await websocket.send_text(await websocket.receive_text())
        except WebSocketDisconnect:
            pass

    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.echo_server")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    server = http_server(make_app(), HOST, args.port)
    listener = shared_listener(HOST, args.port)

    async def run() -> None:
        serving = asyncio.create_task(server.serve(sockets=[listener]))
        while not server.started:  # noqa: ASYNC110 (uvicorn offers no start event)
            await asyncio.sleep(0.01)
        print(f"echo {READY} http://{HOST}:{args.port}", flush=True)
        await serving

    with event_loop() as runner:
        runner.run(run())


if __name__ == "__main__":
    main()
