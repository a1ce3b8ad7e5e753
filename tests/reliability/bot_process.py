"""The real bot as a subprocess (`python bot.py`, settings from ORDERBOT__* variables), started,
awaited until it answers HTTP, killed with SIGKILL or stopped, its log kept in a file."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import settings_environ
from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent.parent
START_TIMEOUT = 60.0  # trains the NLU model and migrates: seconds normally
WAIT_TIMEOUT = 15.0
POLL_SECONDS = 0.05


def bot_environment(database_url: str, port: int, **sections: dict[str, Any]) -> dict[str, str]:
    """ORDERBOT__* variables as a user would set them, on top of the test's environment."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ORDERBOT")}
    http = {"port": port, **sections.pop("http", {})}
    environ.update(settings_environ(database_url, http=http, **sections))
    environ["PYTHONUNBUFFERED"] = "1"
    return environ


class BotProcess:
    def __init__(self, environ: dict[str, str], log_path: Path) -> None:
        self.environ = environ
        self.port = int(environ["ORDERBOT__HTTP__PORT"])
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: asyncio.subprocess.Process | None = None

    @classmethod
    def make(cls, database_url: str, log_path: Path, **sections: dict[str, Any]) -> BotProcess:
        return cls(bot_environment(database_url, free_port(), **sections), log_path)

    async def start(self, crash_at: str | None = None, freeze_at: str | None = None) -> None:
        """Start and wait until it answers HTTP (polling while it starts is a readiness check).
        `crash_at`: it kills itself at that point of a turn; `freeze_at`: it stops itself
        there (SIGSTOP) the first time (dialog/crashpoints.py), until `cont`."""
        environ = dict(self.environ)
        if crash_at:
            environ["ORDERBOT_TEST_CRASH_AT"] = crash_at
        if freeze_at:
            environ["ORDERBOT_TEST_FREEZE_AT"] = freeze_at
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, str(ROOT / "bot.py"), cwd=str(ROOT), env=environ,
                stdout=log, stderr=log,
            )
        deadline = time.monotonic() + START_TIMEOUT
        async with httpx.AsyncClient(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    raise RuntimeError(f"bot exited with {self.process.returncode}:\n{self.log()}")
                try:
                    if (await client.get(f"{self.url}/health")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(POLL_SECONDS)
        raise RuntimeError(f"bot did not start within {START_TIMEOUT}s:\n{self.log()}")

    async def kill(self) -> None:
        """kill -9: no clean-up of any kind (also of a frozen process)."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGCONT)  # a frozen process could not stop
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), WAIT_TIMEOUT)
            except TimeoutError:
                await self.kill()

    async def frozen(self, within: float = WAIT_TIMEOUT) -> None:
        """Wait until the process is stopped (state T: it reached its freeze point)."""
        assert self.process is not None
        deadline = time.monotonic() + within
        while _state(self.process.pid) != "T":
            if self.process.returncode is not None or time.monotonic() > deadline:
                raise AssertionError(f"the bot did not freeze:\n{self.log()}")
            await asyncio.sleep(POLL_SECONDS)

    def cont(self) -> None:
        """SIGCONT: a frozen process runs on from where it stopped."""
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    async def exited(self) -> int:
        """Wait for the process to end by itself (a crash point); its return code."""
        assert self.process is not None
        return await asyncio.wait_for(self.process.wait(), WAIT_TIMEOUT)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _state(pid: int) -> str:
    """The process's state letter (R, S, T for stopped ...), from /proc."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


async def query(database_url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Rows of one statement, read straight from the bot's database."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in await connection.execute(text(sql), params)]
    finally:
        await engine.dispose()


async def execute(database_url: str, sql: str, **params: Any) -> None:
    """One statement, committed, straight on the bot's database (the test's hand on time)."""
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(sql), params)
    finally:
        await engine.dispose()


async def wait_for_rows(
    database_url: str, sql: str, expected: Any, within: float = WAIT_TIMEOUT, **params: Any
) -> None:
    """Poll the database until the statement returns `expected` (a state reached, no sleep as
    synchronisation: each round reads the truth)."""
    deadline = time.monotonic() + within
    while True:
        rows = await query(database_url, sql, **params)
        if rows == expected:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{sql!r} gave {rows}, expected {expected}")
        await asyncio.sleep(POLL_SECONDS)
