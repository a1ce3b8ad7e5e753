"""GET /metrics: Prometheus text with messages in and out per channel, the turn latency
histogram, errors, outbox backlog and queue length; only for loopback callers, or for the
bearer token of [metrics] token."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from composition.app import make_app
from composition.bootstrap import Orderbot
from dialog.messages import ConversationKey, Inbound
from tests.conftest import BotFactory, serve
from tests.servers import free_port

OUTSIDE = ("203.0.113.7", 40000)  # a caller that is not on this machine


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def client(bot: Orderbot, caller: tuple[str, int] = ("127.0.0.1", 40000)) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=make_app(bot), client=caller)
    return httpx.AsyncClient(transport=transport, base_url="http://bot")


async def test_a_turn_is_counted_in_and_out_with_its_latency(make_bot: BotFactory) -> None:
    bot = await make_bot(http={"port": free_port()})
    server = await serve(bot)
    try:
        key = ConversationKey("webchat", "metrics-chat")
        await bot.manager.handle(Inbound(key=key, text="hello"))
        await bot.manager.handle(Inbound(key=key, text="I want to talk to a person"))
        await bot.outbox.drain()
        async with httpx.AsyncClient() as browser:  # over the real socket, from 127.0.0.1
            response = await browser.get(server.url + "/metrics")
    finally:
        await server.stop()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    got = samples(response.text)
    webchat = (("channel", "webchat"),)
    assert got[("orderbot_messages_in_total", webchat)] == 2
    assert got[("orderbot_turn_seconds_count", webchat)] == 2
    assert got[("orderbot_messages_out_total", webchat)] >= 3  # greeting, handoff, the wait
    assert got[("orderbot_queue_length", (("status", "escalated"),))] == 1
    assert got[("orderbot_outbox_backlog", ())] == 0
    assert ("orderbot_errors_total", (("channel", "webchat"), ("kind", "turn"))) not in got


async def test_only_loopback_callers_without_a_token(make_bot: BotFactory) -> None:
    bot = await make_bot()
    async with client(bot, OUTSIDE) as outside, client(bot) as local:
        refused = await outside.get("/metrics")
        assert refused.status_code == 403
        assert "loopback" in refused.json()["detail"]
        assert (await local.get("/metrics")).status_code == 200


async def test_a_token_opens_it_to_anyone_who_has_it(make_bot: BotFactory) -> None:
    bot = await make_bot(metrics={"token": "scrape-s3cret"})
    async with client(bot, OUTSIDE) as outside, client(bot) as local:
        assert (await outside.get("/metrics")).status_code == 401
        wrong = await outside.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
        assert (await local.get("/metrics")).status_code == 401  # the token is the rule now
        right = await outside.get("/metrics", headers={"Authorization": "Bearer scrape-s3cret"})
        assert right.status_code == 200 and "orderbot_turn_seconds" in right.text


async def test_metrics_can_be_turned_off(make_bot: BotFactory) -> None:
    bot = await make_bot(metrics={"enabled": False})
    async with client(bot) as local:
        assert (await local.get("/metrics")).status_code == 404


async def test_a_failing_turn_is_counted_as_an_error(make_bot: BotFactory) -> None:
    bot = await make_bot()

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the database went away")

    bot.manager._store.load = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        await bot.manager.handle(Inbound(key=ConversationKey("telegram", "1"), text="hello"))
    async with client(bot) as local:
        got = samples((await local.get("/metrics")).text)
    assert got[("orderbot_errors_total", (("channel", "telegram"), ("kind", "turn")))] == 1
