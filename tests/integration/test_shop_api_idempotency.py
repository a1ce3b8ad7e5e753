"""Idempotency-Key on the shop API's POST and PUT (DESIGN.md, "The shop is the system of
record"): a retry gets the first answer, the work is done once; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from composition.bootstrap import Orderbot
from shop_api.idempotency import (
    IN_PROGRESS_SECONDS,
    REPLAYED_HEADER,
    Idempotency,
    key_lookup,
    request_fingerprint,
)
from shop_api.tables import IdempotencyKey
from tests.conftest import API_KEY, BotFactory, serve
from tests.integration.test_shop_api import (
    client_for,
    confirm,
    order_body,
    order_count,
    transcript,
)
from tests.servers import free_port


def key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


async def greetings(bot: Orderbot, number: str) -> int:
    return sum(number in entry.text and entry.sender == "bot"
               for entry in await transcript(bot, number))


async def stored_keys(bot: Orderbot) -> int:
    async with bot.database.transaction() as session:
        return await session.scalar(select(func.count()).select_from(IdempotencyKey)) or 0


async def test_a_retried_order_is_created_once_and_answered_again(
    bot: Orderbot, api: httpx.AsyncClient
) -> None:
    first = await api.post("/api/orders", json=order_body(), headers=key("order-A-1001"))
    assert first.status_code == 201, first.text
    greeted = await greetings(bot, "A-1001")
    assert greeted >= 1

    again = await api.post("/api/orders", json=order_body(), headers=key("order-A-1001"))
    assert again.status_code == 201, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    replayed, original = again.json(), first.json()
    # The chat links are not stored: the replay carries fresh ones, which open the same chat.
    assert replayed.pop("links")["webchat"].startswith(f"{bot.settings.base_url}/webchat/chat")
    original.pop("links")
    assert replayed == original
    assert await order_count(bot) == 1
    assert await greetings(bot, "A-1001") == greeted


async def test_the_chat_link_is_not_stored_with_the_key(
    bot: Orderbot, api: httpx.AsyncClient
) -> None:
    first = await api.post("/api/orders", json=order_body(), headers=key("k-1"))
    token = first.json()["links"]["webchat"].split("link=")[1]
    async with bot.database.transaction() as session:
        answers = list(await session.scalars(select(IdempotencyKey.answer)))
    assert answers and all(token not in (answer or "") for answer in answers)


async def test_the_same_key_with_another_body_or_path_is_refused(
    bot: Orderbot, api: httpx.AsyncClient
) -> None:
    assert (await api.post("/api/orders", json=order_body(),
                           headers=key("k-1"))).status_code == 201
    other_body = await api.post("/api/orders", json=order_body("A-1002"), headers=key("k-1"))
    other_path = await api.post("/api/orders/A-1001/events", json={"type": "payment_received"},
                                headers=key("k-1"))
    for refused in (other_body, other_path):
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"] == "this Idempotency-Key was used with another request"
    assert await order_count(bot) == 1
    assert (await api.get("/api/orders/A-1001")).json()["payment"]["status"] != "paid"


async def test_without_a_key_a_duplicate_number_is_still_a_conflict(
    bot: Orderbot, api: httpx.AsyncClient
) -> None:
    assert (await api.post("/api/orders", json=order_body())).status_code == 201
    again = await api.post("/api/orders", json=order_body())
    assert again.status_code == 409
    assert "idempotent-replayed" not in again.headers
    assert await stored_keys(bot) == 0


@pytest.mark.parametrize("value", ["", "k" * 256])
async def test_a_key_that_is_empty_or_too_long_is_refused(
    bot: Orderbot, api: httpx.AsyncClient, value: str
) -> None:
    refused = await api.post("/api/orders", json=order_body(), headers=key(value))
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert await order_count(bot) == 0


async def test_a_key_of_255_characters_is_accepted(
    bot: Orderbot, api: httpx.AsyncClient
) -> None:
    assert (await api.post("/api/orders", json=order_body(),
                           headers=key("k" * 255))).status_code == 201


async def test_two_identical_requests_at_once_create_one_order(
    bot: Orderbot, api: httpx.AsyncClient
) -> None:
    answers = await asyncio.gather(*(
        api.post("/api/orders", json=order_body(), headers=key("twice")) for _ in range(2)
    ))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses in ([201, 201], [201, 409]), [answer.text for answer in answers]
    if statuses == [201, 409]:
        busy = next(answer for answer in answers if answer.status_code == 409)
        assert "in progress" in busy.json()["detail"]
    else:
        assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == 1
    assert await order_count(bot) == 1
    # Afterwards, a retry of the one that was told "in progress" gets the first answer.
    retry = await api.post("/api/orders", json=order_body(), headers=key("twice"))
    assert retry.status_code == 201 and retry.headers["idempotent-replayed"] == "true"


async def test_identical_requests_at_once_to_the_live_server_create_one_order(
    make_bot: BotFactory, database_url: str
) -> None:
    """The same, over real connections to uvicorn: each request has its own connection."""
    shop = await make_bot(database_url, demo={"enabled": False}, http={"port": free_port()})
    server = await serve(shop)
    try:
        async with httpx.AsyncClient(base_url=server.url,
                                     headers={"Authorization": f"Bearer {API_KEY}"}) as client:
            answers = await asyncio.gather(*(
                client.post("/api/orders", json=order_body(), headers=key("live"))
                for _ in range(3)
            ))
    finally:
        await server.stop()
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(201) >= 1 and set(statuses) <= {201, 409}, statuses
    created = [answer for answer in answers
               if answer.status_code == 201 and "idempotent-replayed" not in answer.headers]
    assert len(created) == 1
    assert await order_count(shop) == 1


async def test_a_key_older_than_the_retention_is_forgotten(
    bot: Orderbot, api: httpx.AsyncClient
) -> None:
    assert (await api.post("/api/orders", json=order_body(),
                           headers=key("old"))).status_code == 201
    async with bot.database.transaction() as session:
        await session.execute(update(IdempotencyKey).values(
            created_at=datetime.now(UTC) - timedelta(hours=24, minutes=1)))
    # Forgotten: the same key for another order is a new request, not a 422.
    other = await api.post("/api/orders", json=order_body("A-1002"), headers=key("old"))
    assert other.status_code == 201, other.text
    assert await order_count(bot) == 2
    assert await stored_keys(bot) == 1


async def test_an_error_answer_is_replayed_too(bot: Orderbot, api: httpx.AsyncClient) -> None:
    missing = await api.post("/api/orders/Z-1/events", json={"type": "delivered"},
                             headers=key("e-1"))
    assert missing.status_code == 404
    await api.post("/api/orders", json=order_body("Z-1"))
    again = await api.post("/api/orders/Z-1/events", json={"type": "delivered"},
                           headers=key("e-1"))
    assert again.status_code == 404 and again.headers["idempotent-replayed"] == "true"


async def test_a_retried_event_is_applied_once(bot: Orderbot, api: httpx.AsyncClient) -> None:
    await api.post("/api/orders", json=order_body())
    await confirm(bot, "A-1001")
    shipped = {"type": "shipped", "carrier": "DPD", "tracking_number": "DPD700123",
               "tracking_url": "https://tracking.dpd.example/DPD700123"}
    answers = [await api.post("/api/orders/A-1001/events", json=shipped,
                              headers=key("ship-1")) for _ in range(2)]
    assert [answer.status_code for answer in answers] == [200, 200]
    assert answers[1].headers["idempotent-replayed"] == "true"
    assert answers[1].json() == answers[0].json()
    order = (await api.get("/api/orders/A-1001")).json()
    assert [h["to"] for h in order["history"]] == ["pending_confirmation", "confirmed", "shipped"]
    told = [entry for entry in await transcript(bot, "A-1001") if "DPD700123" in entry.text]
    assert len(told) == 1


async def test_keys_are_kept_apart_per_api_key(make_bot: BotFactory, database_url: str) -> None:
    shop = await make_bot(database_url, demo={"enabled": False},
                          shop={"api_keys": ["first-key", "second-key"]})
    async with client_for(shop, "first-key") as first, client_for(shop, "second-key") as second:
        assert (await first.post("/api/orders", json=order_body(),
                                 headers=key("k"))).status_code == 201
        # Another API key's "k" is another key: not a replay of the first one's order.
        other = await second.post("/api/orders", json=order_body("A-1002"), headers=key("k"))
    assert other.status_code == 201 and "idempotent-replayed" not in other.headers
    async with shop.database.transaction() as session:
        hashes = list(await session.scalars(select(IdempotencyKey.lookup)))
    assert len(hashes) == 2 and not any("first-key" in h or "second-key" in h for h in hashes)


async def test_an_unauthenticated_request_claims_no_key(
    bot: Orderbot, api: httpx.AsyncClient
) -> None:
    async with client_for(bot, "wrong-key") as stranger:
        refused = await stranger.post("/api/orders", json=order_body(), headers=key("k"))
    assert refused.status_code == 401
    assert await stored_keys(bot) == 0
    assert (await api.post("/api/orders", json=order_body(),
                           headers=key("k"))).status_code == 201


async def died_holding(bot: Orderbot, key_value: str, body: bytes, seconds_ago: float) -> None:
    """What a process that died while answering POST /api/orders leaves behind: the key
    claimed, "in progress", and nothing else."""
    async with bot.database.transaction() as session:
        session.add(IdempotencyKey(
            lookup=key_lookup(API_KEY.encode(), key_value),
            request_hash=request_fingerprint("POST", "/api/orders", body),
            status_code=None, answer=None, relink=False,
            created_at=datetime.now(UTC) - timedelta(seconds=seconds_ago)))


def raw(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


JSON = {"Content-Type": "application/json"}


async def test_a_key_left_in_progress_by_a_dead_process_is_taken_over(
    bot: Orderbot, api: httpx.AsyncClient
) -> None:
    body = raw(order_body())
    await died_holding(bot, "dead", body, IN_PROGRESS_SECONDS + 1)
    taken = await api.post("/api/orders", content=body, headers={**JSON, **key("dead")})
    assert taken.status_code == 201, taken.text
    assert "idempotent-replayed" not in taken.headers  # this request did the work
    assert await order_count(bot) == 1
    assert await greetings(bot, "A-1001") >= 1
    again = await api.post("/api/orders", content=body, headers={**JSON, **key("dead")})
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert await order_count(bot) == 1 and await stored_keys(bot) == 1


async def test_a_key_in_progress_for_less_than_the_bound_is_still_busy(
    bot: Orderbot, api: httpx.AsyncClient
) -> None:
    body = raw(order_body())
    await died_holding(bot, "busy", body, IN_PROGRESS_SECONDS - 10)
    busy = await api.post("/api/orders", content=body, headers={**JSON, **key("busy")})
    assert busy.status_code == 409 and "in progress" in busy.json()["detail"]
    assert await order_count(bot) == 0


async def test_an_abandoned_key_is_not_taken_over_with_another_body(
    bot: Orderbot, api: httpx.AsyncClient
) -> None:
    await died_holding(bot, "dead", raw(order_body()), IN_PROGRESS_SECONDS + 1)
    other = await api.post("/api/orders", content=raw(order_body("A-1002")),
                           headers={**JSON, **key("dead")})
    assert other.status_code == 422 and "another request" in other.json()["detail"]
    assert await order_count(bot) == 0


async def test_requests_at_once_on_an_abandoned_key_take_it_over_once(
    bot: Orderbot, api: httpx.AsyncClient
) -> None:
    body = raw(order_body())
    await died_holding(bot, "dead", body, IN_PROGRESS_SECONDS + 1)
    answers = await asyncio.gather(*(
        api.post("/api/orders", content=body, headers={**JSON, **key("dead")})
        for _ in range(3)
    ))
    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {201, 409}, [answer.text for answer in answers]
    winners = [answer for answer in answers
               if answer.status_code == 201 and "idempotent-replayed" not in answer.headers]
    assert len(winners) == 1
    assert await order_count(bot) == 1
    retry = await api.post("/api/orders", content=body, headers={**JSON, **key("dead")})
    assert retry.status_code == 201 and retry.headers["idempotent-replayed"] == "true"


def _request() -> Request:
    return Request({"type": "http", "method": "POST", "path": "/api/orders", "headers": [
        (b"idempotency-key", b"slow")], "query_string": b""})


async def test_a_slow_first_request_cannot_overwrite_the_answer_of_the_one_that_took_over(
    bot: Orderbot,
) -> None:
    """With a bound of 0 s every claim is abandoned at once: the first request is still
    working when the second takes its key over; the first's late answer is not stored."""
    async def no_links(number: str) -> dict[str, str | None]:
        return {}

    idempotency = Idempotency(bot.database, 24, no_links, in_progress_seconds=0)
    working, finish = asyncio.Event(), asyncio.Event()

    async def slow() -> Response:
        working.set()
        await finish.wait()
        return JSONResponse({"answer": "late"}, status_code=201)

    async def quick() -> Response:
        return JSONResponse({"answer": "taken over"}, status_code=201)

    body = b"{}"
    first = asyncio.create_task(idempotency.answer(_request(), body, b"k", slow))
    await asyncio.wait_for(working.wait(), 10)
    second = await idempotency.answer(_request(), body, b"k", quick)
    finish.set()
    assert json.loads(bytes((await first).body)) == {"answer": "late"}  # its own caller
    assert json.loads(bytes(second.body)) == {"answer": "taken over"}
    replay = await idempotency.answer(_request(), body, b"k", quick)
    assert replay.headers[REPLAYED_HEADER] == "true"
    assert json.loads(bytes(replay.body)) == {"answer": "taken over"}
