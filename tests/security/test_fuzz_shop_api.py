"""The HTTP API fuzzed from its own OpenAPI schema (schemathesis): requests that fit the
schema and requests that break it, with the shop's key, never get a 5xx."""

from __future__ import annotations

import asyncio

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.schemas import BaseSchema

from tests.conftest import API_KEY, LiveServer

EXAMPLES = 40  # per generation mode, over all operations: well under a minute
AUTH = {"Authorization": f"Bearer {API_KEY}"}


def fuzz(schema: BaseSchema, base_url: str, mode: GenerationMode) -> None:
    """Runs in a thread: schemathesis calls over blocking HTTP, the server stays in the loop."""

    @given(case=schema.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    def request(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=base_url, headers=AUTH, checks=[not_a_server_error],
                               timeout=10)

    request()


async def test_no_generated_request_gets_a_server_error(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        raw = (await client.get("/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(raw)
    paths = set(raw["paths"])
    assert {"/api/orders", "/api/orders/{number}", "/api/orders/{number}/events",
            "/api/stock/{sku}"} <= paths
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        await asyncio.to_thread(fuzz, schema, live_server.url, mode)
    async with httpx.AsyncClient(base_url=live_server.url, headers=AUTH) as client:
        assert (await client.get("/api/orders/A-1013")).status_code == 200  # still serving
