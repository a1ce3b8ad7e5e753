"""One Redis round trip for what many turns ask of Redis at about the same moment.

The commands a process's turns send (take a lock, release one, append a reply to the stream)
are queued and sent together as one pipeline; while a pipeline is on its way, the next
commands gather behind it. A quiet process sends each command at once (no timer, no added
wait); a busy one sends many turns' commands in one write and reads their answers in one
read, which is what Redis's CPU per command and the client's per-call overhead mostly are.
Commands are sent in the order they were queued, one pipeline at a time, so a lock released
and then taken again by the same process reaches Redis in that order. A command asked for
"last" goes at the end of the next pipeline, once however many ask before it leaves (the
stream read that brings a process its own replies back with their appends, redis.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

_Command = tuple[tuple[Any, ...], AsyncScript | None, asyncio.Future[Any]]


class RedisBatch:
    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._queued: list[_Command] = []
        # Asked for last, by name: made (its arguments read) as the pipeline leaves.
        self._last: dict[str, tuple[Callable[[], tuple[Any, ...]], asyncio.Future[Any]]] = {}
        self._sending: asyncio.Task[None] | None = None

    def script(self, script: AsyncScript, keys: Sequence[Any], args: Sequence[Any]
               ) -> asyncio.Future[Any]:
        """EVALSHA of a registered script, in the next pipeline."""
        return self._queue(("EVALSHA", script.sha, len(keys), *keys, *args), script)

    def command(self, *command: Any) -> asyncio.Future[Any]:
        return self._queue(command, None)

    def last(self, name: str, command: Callable[[], tuple[Any, ...]]) -> asyncio.Future[Any]:
        """`command()` at the end of the next pipeline, after every command queued before it
        leaves; asked again by `name` before then, the same future (one command for all)."""
        asked = self._last.get(name)
        if asked is not None:
            return asked[1]
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._last[name] = (command, future)
        self._start()
        return future

    def _queue(self, command: tuple[Any, ...], script: AsyncScript | None
               ) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queued.append((command, script, future))
        self._start()
        return future

    def _start(self) -> None:
        """A pipeline on its way unless one is already: it takes whatever is queued."""
        if self._sending is None:
            self._sending = asyncio.create_task(self._send())

    async def _send(self) -> None:
        try:
            while self._queued or self._last:
                batch, self._queued = self._queued, []
                batch += [(command(), None, future) for command, future in self._last.values()]
                self._last = {}
                await self._pipeline(batch)
        finally:
            self._sending = None

    async def _pipeline(self, batch: list[_Command]) -> None:
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for command, _, _ in batch:
                    pipe.execute_command(*command)
                results = await pipe.execute(raise_on_error=False)
        except BaseException as error:  # Redis away: every command of the batch failed
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(error if isinstance(error, Exception)
                                         else ConnectionError("redis batch cancelled"))
            if not isinstance(error, Exception):
                raise
            return
        unloaded: list[_Command] = []
        for (command, script, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, NoScriptError) and script is not None:
                unloaded.append((command, script, future))
            elif isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)
        if unloaded:
            # Redis started or restarted empty: an EVALSHA that found no script ran nothing;
            # the scripts are loaded once and those commands sent again together.
            try:
                for source in {id(script): script for _, script, _ in unloaded}.values():
                    if source is not None:
                        await self._client.script_load(source.script)
            except Exception as error:  # noqa: BLE001 (handed to the callers)
                for _, _, future in unloaded:
                    if not future.done():
                        future.set_exception(error)
                return
            await self._pipeline(unloaded)


def ignore_failure(done: asyncio.Future[Any]) -> None:
    """A done callback for a command nobody waits for: its failure (Redis away) is retrieved,
    not an error ("Future exception was never retrieved")."""
    if not done.cancelled():
        done.exception()
