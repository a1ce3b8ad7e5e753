"""The parts of a process start in their declared order and stop in reverse; a start that
fails midway stops what had already started, so that nothing is left running."""

from __future__ import annotations

from pathlib import Path

import pytest

from composition.bootstrap import build
from composition.lifecycle import Lifecycle, Step
from tests.conftest import make_settings


class Part:
    def __init__(self, name: str, events: list[str], fails_to: str | None = None) -> None:
        self.name, self._events, self._fails_to = name, events, fails_to

    async def start(self) -> None:
        if self._fails_to == "start":
            raise RuntimeError(f"{self.name} refused to start")
        self._events.append(f"start {self.name}")

    async def stop(self) -> None:
        if self._fails_to == "stop":
            raise RuntimeError(f"{self.name} refused to stop")
        self._events.append(f"stop {self.name}")


async def test_parts_start_in_order_and_stop_in_reverse() -> None:
    events: list[str] = []
    lifecycle = Lifecycle([Part(name, events) for name in ("database", "outbox", "channel")])
    await lifecycle.start()
    await lifecycle.stop()
    assert events == ["start database", "start outbox", "start channel",
                      "stop channel", "stop outbox", "stop database"]


async def test_a_failed_start_stops_what_had_started_in_reverse() -> None:
    events: list[str] = []
    lifecycle = Lifecycle([Part("database", events), Part("outbox", events),
                           Part("email", events, fails_to="start"), Part("jobs", events)])
    with pytest.raises(RuntimeError, match="email refused to start"):
        await lifecycle.start()
    # The failing part is asked to stop too (it may hold half of what it opened); the part
    # after it never started.
    assert events == ["start database", "start outbox",
                      "stop email", "stop outbox", "stop database"]
    await lifecycle.stop()  # the process's own stop afterwards: nothing stops twice
    assert events.count("stop database") == 1


async def test_a_part_that_fails_to_stop_does_not_keep_the_others_running() -> None:
    events: list[str] = []
    lifecycle = Lifecycle([Part("database", events), Part("channel", events, fails_to="stop"),
                           Part("jobs", events)])
    await lifecycle.start()
    with pytest.raises(RuntimeError, match="channel refused to stop"):
        await lifecycle.stop()
    assert events[-2:] == ["stop jobs", "stop database"]


async def test_a_step_without_a_stop_stops_as_nothing() -> None:
    events: list[str] = []

    async def prepare() -> None:
        events.append("prepared")

    lifecycle = Lifecycle([Step("preparation", start=prepare), Part("inbox", events)])
    await lifecycle.start()
    await lifecycle.stop()
    assert events == ["prepared", "start inbox", "stop inbox"]


async def test_the_bot_answers_recorded_messages_before_its_channels_take_new_ones(
    tmp_path: Path,
) -> None:
    bot = build(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'orderbot.db'}",
                              email={"enabled": True}))
    order = list(bot.lifecycle.components)
    channels = [order.index(channel) for channel in bot.channels]
    assert [channel.name for channel in bot.channels] == ["webchat", "email"]
    assert order.index(bot.takeover) < order.index(bot.outbox) < order.index(bot.inbox)
    assert order.index(bot.inbox) < min(channels)
    assert max(channels) < order.index(bot.jobs)
    assert order[0] == next(c for c in order if isinstance(c, Step) and c.name == "connections")
    # Stopping: no new turn, then the last replies go out, while their channels still run.
    stopping = list(bot.lifecycle.stop_order)
    stopped_channels = [stopping.index(channel) for channel in bot.channels]
    assert stopping.index(bot.inbox) < stopping.index(bot.outbox) < min(stopped_channels)
    assert stopping[-1] is order[0]  # the shared connections close last
    await bot.database.dispose()


async def test_a_declared_stop_order_is_kept_and_must_name_every_part() -> None:
    events: list[str] = []
    database, outbox, channel = (Part(name, events) for name in ("database", "outbox", "channel"))
    lifecycle = Lifecycle([database, outbox, channel], stop_order=[outbox, channel, database])
    await lifecycle.start()
    await lifecycle.stop()
    assert events[3:] == ["stop outbox", "stop channel", "stop database"]
    with pytest.raises(ValueError, match="every component"):
        Lifecycle([database, outbox], stop_order=[outbox])
