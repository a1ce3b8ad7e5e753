"""The Slack operators channel: each escalation is a post there (a summary, and Claim / Hand
back / Resolve), and the post's thread is the conversation - an operator's reply goes to the
customer; what the customer, the bot and console operators say appears in it (thread_sync.py).

Both ways go through the operators' desk (dialog/desk.py), which the console uses too, so a
claim in one shows in the other. Here, Slack -> desk: an operator's thread reply (which claims
an unclaimed conversation first) and button presses, handled in the request Slack sent and
answered once the desk has committed. What cannot be done is told to that operator alone
(chat.postEphemeral), and nothing changes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from channels.slack.blocks import escape
from channels.slack.events import OperatorPress, ThreadReply, operator_press, thread_reply
from channels.slack.profiles import UserProfiles
from channels.slack.sending import SlackPoster, with_retries
from channels.slack.thread_sync import NAMELESS_OPERATOR, Pace, ThreadSync, shown_operator
from channels.slack.threads import SlackThreads, Thread
from dialog.desk_values import (
    AlreadyTaken,
    DeskError,
    NotFound,
    OperatorRef,
    QueueItem,
    TranscriptLine,
)
from dialog.messages import DeliveryFailed
from dialog.seam import Desk

log = logging.getLogger(__name__)


class OperatorsBridge:
    def __init__(
        self, *, channel: str, desk: Desk, threads: SlackThreads, poster: SlackPoster,
        profiles: UserProfiles, pace: Pace,
    ) -> None:
        self._channel = channel
        self._desk = desk
        self._threads = threads
        self._poster = poster
        self._profiles = profiles
        self._sync = ThreadSync(channel=channel, desk=desk, threads=threads, poster=poster,
                                pace=pace)
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        await self._sync.start()

    async def stop(self) -> None:
        await self._sync.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def drain(self) -> None:
        """Wait until the threads this process is working on are up to date."""
        await self._sync.drain()

    async def on_message(self, body: dict[str, Any], bot_user_id: str | None) -> None:
        """An operator's reply in an escalation's thread goes to the customer."""
        reply = thread_reply(body, bot_user_id, self._channel)
        if reply is None:
            return
        thread = await self._threads.by_post(reply.channel, reply.thread_ts)
        if thread is None:
            return  # a thread on some other message
        started = await self._threads.reply_started(thread.id, f"{reply.channel}:{reply.ts}")
        if started is None:
            log.info("slack operators: reply %s seen before, not sent again", reply.ts)
            return
        try:
            line = await self._send_reply(thread, reply)
        except Exception:
            await self._threads.reply_dropped(started)
            raise
        if line is None:
            await self._threads.reply_dropped(started)
            return
        await self._threads.reply_recorded(started, line.id)
        # The desk published the line; whoever synced since held back before it, waiting for
        # this mark: the thread goes on from here.
        self._sync.look_at(thread.conversation_id)

    async def _send_reply(self, thread: Thread, reply: ThreadReply) -> TranscriptLine | None:
        operator = await self._operator(reply.user)

        def refuse(why: str) -> None:
            self._notify(reply.channel, reply.user, f"{why} — your message was not sent.",
                         thread_ts=reply.thread_ts)

        item = await self._desk.get(thread.conversation_id)
        if item.handoff_id != thread.handoff_id:
            refuse("This escalation is over")
            return None
        if item.operator is not None and item.operator.key != operator.key:
            refuse(f"Held by {shown_operator(item.operator.key, item.operator.name)}")
            return None
        try:
            if item.status != "claimed":  # replying takes the conversation
                await self._desk.claim(thread.conversation_id, operator)
            return await self._desk.say(thread.conversation_id, operator, reply.text)
        except AlreadyTaken as taken:
            refuse(f"Held by {shown_operator(taken.holder.key, taken.holder.name)}")
        except DeskError as error:
            refuse(_sentence(str(error)))
        return None

    async def on_press(self, body: dict[str, Any]) -> None:
        """Claim / Hand back / Resolve on an escalation post, through the desk."""
        press = operator_press(body)
        if press is None:
            return
        operator = await self._operator(press.user)
        try:
            item = await self._desk.get(press.conversation_id)
        except NotFound:
            item = None
        if item is None or item.handoff_id != press.handoff_id:
            self._notify(press.channel, press.user, "This escalation is over — nothing changed.")
            return
        try:
            await self._press(press, operator, item)
        except AlreadyTaken as taken:
            holder = shown_operator(taken.holder.key, taken.holder.name)
            self._notify(press.channel, press.user,
                         f"Already taken by {holder} — nothing changed.")
        except DeskError as error:
            self._notify(press.channel, press.user, f"{_sentence(str(error))} — nothing changed.")

    async def _press(self, press: OperatorPress, operator: OperatorRef, item: QueueItem) -> None:
        conversation_id = press.conversation_id
        if press.action == "claim":
            if item.operator is not None and item.operator.key == operator.key:
                self._notify(press.channel, press.user, "You hold this conversation already.")
                return
            await self._desk.claim(conversation_id, operator)
        elif press.action == "hand_back":
            await self._desk.hand_back(conversation_id, operator)
        else:
            await self._desk.resolve(conversation_id, operator)

    async def _operator(self, user: str) -> OperatorRef:
        profile = await self._profiles.get(user)
        return OperatorRef(f"slack:{user}", profile.name or NAMELESS_OPERATOR)

    def _notify(self, channel: str, user: str, text: str, thread_ts: str | None = None) -> None:
        """Tell one operator (only they see it), after Slack has had its answer."""
        async def send() -> None:
            try:
                await with_retries(lambda: self._poster.notify(channel, user, escape(text),
                                                               thread_ts))
            except DeliveryFailed as failure:
                log.warning("slack operators: notice not shown: %s", failure)

        self._spawn(send())

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]
