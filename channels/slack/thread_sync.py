"""Desk -> Slack: each escalation's post in the operators channel, kept up to date (the state
it shows, its buttons) and its thread fed with what the customer, the bot and console operators
say.

Every bot process receives every desk event, so the database decides who acts (threads.py):
the post's row is inserted once, and a lease on it lets one process at a time post, edit and
mirror - each thing once, in transcript order. An event only says "look at conversation N":
the work is read from the database, so a missed or repeated event changes nothing, and a
process that finds the lease taken leaves the work to its holder, who looks again after
letting go.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, replace
from typing import Any

from channels.slack.blocks import EscalationPost, escalation_post, thread_line
from channels.slack.sending import SlackPoster, with_retries
from channels.slack.threads import BATCH, Line, PostState, SlackThreads, Thread
from coordination.base import Subscription
from dialog.desk_values import NotFound, QueueItem
from dialog.messages import DeliveryFailed
from dialog.seam import Desk

log = logging.getLogger(__name__)

LAST_CUSTOMER_MESSAGES = 5  # in an escalation's summary
RETRY_SECONDS = 30.0  # a thread Slack refused for now is tried again this much later
NAMELESS_OPERATOR = "Operator"  # when Slack does not tell a user's name
SOURCES = {"console": "console", "slack": "Slack"}  # an operator key's prefix, as shown

Pace = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class _Plan:
    """What a thread still needs: a new state on its post, lines to mirror (or pass over)."""

    state: PostState
    lines: list[Line]
    held_back: bool  # an operator's reply is being recorded: the lines stop before it


class ThreadSync:
    def __init__(
        self, *, channel: str, desk: Desk, threads: SlackThreads, poster: SlackPoster,
        pace: Pace,
    ) -> None:
        self._channel = channel
        self._desk = desk
        self._threads = threads
        self._poster = poster
        self._pace = pace
        self._subscription: Subscription | None = None
        self._syncing: dict[int, asyncio.Task[None]] = {}  # conversation id -> its sync
        self._again: set[int] = set()  # conversations that changed while being synced
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._subscription = await self._desk.subscribe(self._on_desk_event)
        self._spawn(self._catch_up())

    async def stop(self) -> None:
        if self._subscription is not None:
            await self._subscription.close()
        tasks = [*self._tasks, *self._syncs()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def drain(self) -> None:
        """Wait until the threads this process is working on are up to date."""
        while self._syncing:
            await asyncio.gather(*self._syncs(), return_exceptions=True)

    async def _on_desk_event(self, event: dict[str, Any]) -> None:
        """Called in the publisher's task (or the pub/sub reader): only starts the work."""
        if event.get("type") == "conversation":
            conversation_id = (event.get("conversation") or {}).get("id")
        else:
            conversation_id = event.get("conversation_id")
        if isinstance(conversation_id, int):
            self.look_at(conversation_id)

    def look_at(self, conversation_id: int) -> None:
        """Bring the conversation's posts up to date; one sync per conversation at a time."""
        if conversation_id in self._syncing:
            self._again.add(conversation_id)
            return
        task = asyncio.create_task(self._sync_while_changing(conversation_id))
        self._syncing[conversation_id] = task
        task.add_done_callback(lambda done: self._forget(conversation_id, done))

    async def _catch_up(self) -> None:
        """Escalations that came while no process with Slack on was running."""
        try:
            for state in ("escalated", "claimed"):
                for item in await self._desk.queue(state):
                    self.look_at(item.conversation_id)
        except Exception:
            log.exception("slack operators: could not read the queue at start")

    async def _sync_while_changing(self, conversation_id: int) -> None:
        try:
            while True:
                self._again.discard(conversation_id)
                try:
                    await self._sync(conversation_id)
                except Exception:
                    log.exception("slack operators: conversation %s not brought up to date",
                                  conversation_id)
                    self._retry_later(conversation_id)
                    return
                if conversation_id not in self._again:
                    return
        finally:  # at once (no await since the last look): an event from now on starts anew
            self._forget(conversation_id, asyncio.current_task())

    def _forget(self, conversation_id: int, task: asyncio.Task[Any] | None) -> None:
        if self._syncing.get(conversation_id) is task:
            del self._syncing[conversation_id]

    async def _sync(self, conversation_id: int) -> None:
        try:
            item = await self._desk.get(conversation_id)
        except NotFound:
            return
        if item.handoff_id is not None:
            await self._threads.open(item.handoff_id, conversation_id, self._channel)
        for thread_id in await self._threads.unsettled(conversation_id):
            while await self._pass(thread_id, item):
                pass

    async def _pass(self, thread_id: int, item: QueueItem) -> bool:
        """One turn on a thread under its lease; True if more work came in meanwhile."""
        token = uuid.uuid4().hex
        thread = await self._threads.take(thread_id, token)
        if thread is None:
            return False  # another process works on it, and looks again when it is done
        try:
            await self._bring_up_to_date(thread, token, item)
        except DeliveryFailed as failure:
            log.warning("slack operators: thread of handoff %s not brought up to date: %s",
                        thread.handoff_id, failure)
            if not failure.permanent:
                self._retry_later(thread.conversation_id)
            return False
        finally:
            await self._threads.release(thread_id, token)
        # Anything that changed while we held the lease was left for us: look again.
        thread_now = await self._threads.get(thread_id)
        if thread_now is None:
            return False
        plan = await self._plan(thread_now)
        return plan is not None and (thread_now.shown != plan.state.key or bool(plan.lines))

    async def _bring_up_to_date(self, thread: Thread, token: str, item: QueueItem) -> None:
        if thread.ts is None:
            thread = await self._post(thread, token, item)
        plan = await self._plan(thread)
        if plan is None:
            return
        assert thread.ts is not None
        if thread.shown != plan.state.key:
            text, blocks = await self._render(thread, plan.state, item)
            await with_retries(lambda: self._poster.update(thread.channel, thread.ts or "",
                                                           text, blocks))
            await self._threads.showing(thread.id, token, plan.state.key)
        for line in plan.lines:
            if not await self._threads.renew(thread.id, token):
                return  # stalled past the lease: another process has taken over
            if not line.in_thread and await self._threads.mirror(thread.id, line.id):
                await self._mirror(thread, line, item)
            await self._threads.advance(thread.id, token, line.id)
        if plan.state.ended and not plan.held_back and len(plan.lines) < BATCH:
            await self._threads.settle(thread.id, token)

    async def _post(self, thread: Thread, token: str, item: QueueItem) -> Thread:
        state = await self._threads.state(thread.handoff_id)
        if state is None:
            return thread
        upto = await self._threads.last_line(thread.conversation_id)
        text, blocks = await self._render(replace(thread, summary_upto=upto), state, item)
        await self._pace(thread.channel)
        ts = await with_retries(lambda: self._poster.post(thread.channel, text, blocks))
        await self._threads.posted(thread.id, token, ts, upto, state.key)
        log.info("slack operators: handoff %s posted", thread.handoff_id)
        return replace(thread, ts=ts, summary_upto=upto, mirrored_upto=upto, shown=state.key)

    async def _plan(self, thread: Thread) -> _Plan | None:
        state = await self._threads.state(thread.handoff_id)
        if state is None or thread.ts is None:
            return None
        lines = await self._threads.lines_after(thread, state)
        waiting = next((n for n, line in enumerate(lines)
                        if line.sender == "operator" and not line.in_thread), None)
        if waiting is not None and await self._threads.reply_pending(thread.id):
            return _Plan(state, lines[:waiting], held_back=True)
        return _Plan(state, lines, held_back=False)

    async def _render(
        self, thread: Thread, state: PostState, item: QueueItem
    ) -> tuple[str, list[dict[str, Any]]]:
        said = await self._threads.customer_lines(
            thread.conversation_id, thread.summary_upto, LAST_CUSTOMER_MESSAGES)
        return escalation_post(EscalationPost(
            conversation_id=thread.conversation_id, handoff_id=thread.handoff_id,
            customer=_customer(item), channel=item.channel, language=item.language,
            reason=state.reason, last_messages=tuple(said), status=status_text(state),
            open=not state.ended,
        ))

    async def _mirror(self, thread: Thread, line: Line, item: QueueItem) -> None:
        speaker = {"customer": item.customer_name or "Customer", "bot": "Bot"}.get(
            line.sender, line.author or NAMELESS_OPERATOR)
        text, blocks = thread_line(speaker, line.text, line.buttons)
        await self._pace(thread.channel)
        try:
            await with_retries(lambda: self._poster.post(thread.channel, text, blocks,
                                                         thread_ts=thread.ts))
        except DeliveryFailed as failure:
            if failure.permanent:  # Slack will never take it: the thread goes on without it
                log.warning("slack operators: line %s not mirrored: %s", line.id, failure)
                return
            await self._threads.unmirror(line.id)
            raise

    def _retry_later(self, conversation_id: int) -> None:
        async def later() -> None:
            await asyncio.sleep(RETRY_SECONDS)
            self.look_at(conversation_id)

        self._spawn(later())

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _syncs(self) -> list[asyncio.Task[None]]:
        return list(self._syncing.values())


def status_text(state: PostState) -> str:
    who = shown_operator(state.operator_key, state.operator_name) if state.operator_key else ""
    if state.status == "waiting":
        return "Waiting for an operator"
    if state.status == "claimed":
        return f"Claimed by {who}"
    done = "Handed back to the bot" if state.status == "handed_back" else "Resolved"
    return f"{done} by {who}" if who else done


def shown_operator(key: str | None, name: str | None) -> str:
    """"Anna K. (console)", "Sam (Slack)"."""
    source = SOURCES.get((key or "").partition(":")[0])
    name = name or NAMELESS_OPERATOR
    return f"{name} ({source})" if source else name


def _customer(item: QueueItem) -> str:
    if item.customer_name and item.customer_email:
        return f"{item.customer_name} ({item.customer_email})"
    return item.customer_name or item.customer_email or "not identified"
