"""Calls to the Slack Web API for sending, paced per Slack channel, errors -> DeliveryFailed.

Retries belong to the outbox (dialog/outbox.py): the client is built with no retry handlers
of its own (slack_sdk's default retries a dropped connection once; its rate-limit handler is
not on by default), so a message is retried by exactly one loop, which honours Retry-After.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from channels.slack.blocks import Block
from dialog.messages import DeliveryFailed

log = logging.getLogger(__name__)

# Errors that may go away by themselves; any other error Slack names will not.
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
PER_CHANNEL_INTERVAL = 1.0  # Slack: about one message a second to one channel...
PER_CHANNEL_BURST = 3  # ...and short bursts over that are tolerated
ATTEMPTS = 4  # calls made outside the outbox (edits, the operators channel) try this often

T = TypeVar("T")


class ChannelPacer:
    """Spaces messages to one Slack channel (a token bucket, as a GCRA); others are not held.

    In-process: with several bot processes each paces its own sends, and a 429 that still
    happens is retried after Slack's Retry-After.
    """

    def __init__(
        self,
        interval: float = PER_CHANNEL_INTERVAL,
        burst: int = PER_CHANNEL_BURST,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._interval = interval
        self._burst = max(1, burst)
        self._clock = clock
        self._sleep = sleep
        self._due: dict[str, float] = {}  # channel -> when its bucket is full again

    async def wait(self, channel: str) -> None:
        """Wait for this channel's turn; the slot is taken before waiting (no await between)."""
        now = self._clock()
        due = max(self._due.get(channel, now), now)
        delay = due - (self._burst - 1) * self._interval - now
        self._due[channel] = due + self._interval
        if len(self._due) > 10_000:
            self._forget(now)
        if delay > 0:
            await self._sleep(delay)

    def _forget(self, now: float) -> None:
        for channel in [c for c, due in self._due.items() if due <= now]:
            del self._due[channel]


class SlackPoster:
    """The Web API methods the channel uses; every failure is a DeliveryFailed."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def post(
        self, channel: str, text: str, blocks: list[Block], thread_ts: str | None = None
    ) -> str:
        """Post a message (text and blocks already escaped), in a thread if given; its ts."""
        response = await _call(
            "chat.postMessage",
            self._client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, mrkdwn=False,
                unfurl_links=False, unfurl_media=False, thread_ts=thread_ts,
            ),
        )
        return str(response.get("ts", ""))

    async def notify(
        self, channel: str, user: str, text: str, thread_ts: str | None = None
    ) -> None:
        """A message only `user` sees (chat.postEphemeral); text already escaped."""
        await _call("chat.postEphemeral", self._client.chat_postEphemeral(
            channel=channel, user=user, text=text, thread_ts=thread_ts))

    async def update(self, channel: str, ts: str, text: str, blocks: list[Block]) -> None:
        update = self._client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        await _call("chat.update", update)

    async def identity(self) -> dict[str, Any]:
        """auth.test: who the bot token belongs to (team_id, user_id, bot_id)."""
        return dict((await _call("auth.test", self._client.auth_test())).data)

    async def open_direct(self, user: str) -> str:
        """The id of the direct-message channel with this user."""
        response = await _call("conversations.open", self._client.conversations_open(users=user))
        channel = response.get("channel") or {}
        if not isinstance(channel, dict) or not channel.get("id"):
            raise DeliveryFailed("slack conversations.open returned no channel", permanent=True)
        return str(channel["id"])


async def with_retries(
    call: Callable[[], Awaitable[T]], attempts: int = ATTEMPTS,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Make a Slack call, retried after a transient failure (Retry-After honoured); the last
    DeliveryFailed if every attempt failed or the failure is permanent."""
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except DeliveryFailed as failure:
            if failure.permanent or attempt == attempts:
                raise
            await sleep(failure.retry_after if failure.retry_after is not None else attempt)
    raise AssertionError("unreachable")


async def _call(method: str, request: Awaitable[Any]) -> Any:
    try:
        return await request
    except SlackApiError as error:
        raise failure(method, error) from None
    except (TimeoutError, aiohttp.ClientError, OSError) as error:
        raise DeliveryFailed(f"slack {method}: {type(error).__name__}") from None
    except SlackClientError as error:  # refused before sending: retrying will not help
        raise DeliveryFailed(f"slack {method}: {type(error).__name__}", permanent=True) from None


def failure(method: str, error: SlackApiError) -> DeliveryFailed:
    """What the outbox should do about a Slack error: wait and retry, or give up."""
    response = error.response
    status = getattr(response, "status_code", 0)
    data = getattr(response, "data", None)
    code = str(data.get("error", "")) if isinstance(data, dict) else ""
    reason = f"slack {method}: HTTP {status} {code}".rstrip()
    if status == 429 or code == "ratelimited":
        return DeliveryFailed(reason, retry_after=retry_after(getattr(response, "headers", None)))
    if status >= 500 or code in TRANSIENT_ERRORS:
        return DeliveryFailed(reason)
    # channel_not_found, not_in_channel, account_inactive, invalid_auth, invalid_blocks, ...
    return DeliveryFailed(reason, permanent=True)


def retry_after(headers: Any) -> float | None:
    """Slack's Retry-After header (seconds), if it gave a usable one."""
    try:
        value = float(headers.get("Retry-After"))
    except (AttributeError, TypeError, ValueError):
        return None
    return value if value >= 0 else None
