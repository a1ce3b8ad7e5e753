"""Received mail parsed in worker processes, with a time limit: no mail can stop the bot.

Parsing runs the standard library's MIME parser and the quote patterns over whatever a sender
made, and a mail can be made to take seconds of CPU. On the event loop that stopped everything
else (a 4.2 MB mail kept /health from answering for 7 s). Here each mail is parsed in a
process of its own, forked from multiprocessing's forkserver with the parsing modules loaded
(milliseconds a mail). A mail not parsed within the time limit has its process killed; no
other mail is touched. (A thread cannot be stopped, and a shared process pool can only be
torn down whole, with every mail in it.)

At most `workers` mails are parsed at once; one more waits for a free place up to the time
limit, and is then told to come back later.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from channels.email.automatic import NO_RULES, AutomaticRules
from channels.email.parsing import ParsedMail, UnreadableMail, parse_mail

# The forkserver loads these once; each worker is forked from it ready to parse. "__main__"
# first, so that a worker does not import the program's main module again (bot.py).
_PRELOAD = ["__main__", __name__]
_CONTEXT = multiprocessing.get_context("forkserver")


class ParseTimedOut(Exception):
    """The mail was not parsed within the time limit (its worker was killed)."""


class ParseWorkersBusy(Exception):
    """Every worker stayed busy for the whole time limit."""


class ParseWorkerFailed(Exception):
    """The worker ended without an answer (killed by the system, out of memory...)."""


class ParseWorkers:
    def __init__(
        self, *, workers: int, seconds: float, rules: AutomaticRules = NO_RULES
    ) -> None:
        self._seconds = seconds
        self._rules = rules  # the shop's extra patterns of automatic mail, sent with each mail
        self._places = asyncio.Semaphore(workers)
        self._threads = ThreadPoolExecutor(max_workers=workers,
                                           thread_name_prefix="mail-parse")
        self._lock = threading.Lock()
        self._running: set[BaseProcess] = set()
        self._closed = False
        self._observers: list[Callable[[int], None]] = []
        _CONTEXT.set_forkserver_preload(_PRELOAD)

    async def start(self) -> None:
        """Start the forkserver now rather than on the first mail (it imports the program
        once, a second or two)."""
        await asyncio.to_thread(_ensure_forkserver)

    def on_worker_started(self, callback: Callable[[int], None]) -> None:
        """Call `callback` with each worker's process id right after it started, in the
        thread that waits for it (tests stop a worker there, before it can finish, to show
        the bot carrying on without it)."""
        self._observers.append(callback)

    async def parse(
        self, raw: bytes, mail_from: str | None, domain: str, authserv_id: str
    ) -> ParsedMail:
        """parse_mail in a worker; raises UnreadableMail as parse_mail does, ParseTimedOut,
        ParseWorkersBusy or ParseWorkerFailed."""
        if self._closed:
            raise ParseWorkerFailed("the email channel is stopping")
        try:
            async with asyncio.timeout(self._seconds):
                await self._places.acquire()
        except TimeoutError:
            raise ParseWorkersBusy from None
        try:
            loop = asyncio.get_running_loop()
            outcome = await loop.run_in_executor(
                self._threads, self._run, raw, mail_from, domain, authserv_id)
        finally:
            self._places.release()
        if isinstance(outcome, UnreadableMail):
            raise outcome
        return outcome

    async def close(self) -> None:
        """Kill the workers still parsing; their mails are answered "try again later"."""
        with self._lock:
            self._closed = True
            running = list(self._running)
        for process in running:
            with contextlib.suppress(ValueError):  # its thread has just closed it
                process.kill()
        await asyncio.to_thread(self._threads.shutdown, wait=True)

    def _run(
        self, raw: bytes, mail_from: str | None, domain: str, authserv_id: str
    ) -> ParsedMail | UnreadableMail:
        """In a thread of ours: one worker process, waited for up to the time limit."""
        reader, writer = _CONTEXT.Pipe(duplex=False)
        process = _CONTEXT.Process(target=_parse_into, name="orderbot-mail-parser",
                                   args=(writer, raw, mail_from, domain, authserv_id,
                                         self._rules),
                                   daemon=True)
        answered = False
        try:
            with self._lock:
                if self._closed:
                    raise ParseWorkerFailed("the email channel is stopping")
                process.start()
                self._running.add(process)
            writer.close()  # the worker holds the only writing end: its end is our EOF
            for observer in self._observers:
                observer(process.pid or 0)
            if not reader.poll(self._seconds):
                raise ParseTimedOut
            try:
                outcome = reader.recv()
            except EOFError:
                raise ParseWorkerFailed("the parsing worker ended without an answer") from None
            answered = True
            if not isinstance(outcome, ParsedMail | UnreadableMail):
                raise ParseWorkerFailed("the parsing worker answered something else")
            return outcome
        finally:
            writer.close()
            reader.close()
            if process.pid is not None:
                # An answered worker is ending by itself; any other must not go on using a CPU.
                process.join(self._seconds if answered else 0)
                if process.exitcode is None:
                    process.kill()
                    process.join()
                with self._lock:
                    self._running.discard(process)
                process.close()


def _parse_into(
    connection: Connection, raw: bytes, mail_from: str | None, domain: str, authserv_id: str,
    rules: AutomaticRules,
) -> None:
    """The worker process: parse, send the result (or the reason it is unreadable) back."""
    try:
        outcome: ParsedMail | UnreadableMail = parse_mail(raw, mail_from, domain, authserv_id,
                                                          rules)
    except UnreadableMail as error:
        outcome = error
    connection.send(outcome)
    connection.close()


def _ensure_forkserver() -> None:
    from multiprocessing import forkserver

    forkserver.ensure_running()
