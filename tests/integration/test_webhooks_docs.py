"""docs/webhooks.md is true: the bodies the shop gets match the documented JSON Schemas
(docs/webhooks/*.schema.json), and the verification snippets in it accept what our sender
signs and refuse a tampered body.

ORDERBOT_WRITE_WEBHOOK_EXAMPLES=1 also writes each body the shop got to
docs/webhooks/examples/<type>.json (the doc's examples come from here).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from standardwebhooks.webhooks import Webhook

from composition.bootstrap import Orderbot
from orders.changes import TYPES
from tests.conftest import BotFactory
from tests.doubles.webhook_shop import SECRET, WebhookShop
from tests.integration import test_webhooks_events as events
from tests.integration.webhook_helpers import webhook_bot

DOCS = Path(__file__).resolve().parents[2] / "docs"
SCHEMAS = DOCS / "webhooks"
EXAMPLES = SCHEMAS / "examples"
Flow = Callable[[Orderbot, WebhookShop], Awaitable[None]]
# Each flow makes the bot send one or more event types, as a customer or an admin would.
FLOWS: dict[str, Flow] = {
    "order.confirmed": events.test_confirmation_in_the_chat_sends_order_confirmed_with_the_choices,
    "order.cancelled": events.test_cancelling_a_paid_order_sends_order_cancelled_with_the_refund,
    "order.cancelled (declined)": events.test_declining_sends_order_cancelled,
    "order.delivery_changed": events.test_changing_the_delivery_sends_order_delivery_changed,
    "order.return_requested": events.test_a_return_sends_order_return_requested_with_its_rma,
    "order.payment_link_created": events.test_a_payment_link_sends_order_payment_link_created,
    "conversation.*": events.test_escalation_and_release_send_the_conversation_events,
    "customer.erased": events.test_erasing_a_customer_sends_customer_erased_once,
}


def schema(type: str) -> Draft202012Validator:
    document = json.loads((SCHEMAS / f"{type}.schema.json").read_text())
    Draft202012Validator.check_schema(document)
    return Draft202012Validator(document, format_checker=Draft202012Validator.FORMAT_CHECKER)


def test_every_event_type_has_a_schema_and_the_doc_names_it() -> None:
    doc = (DOCS / "webhooks.md").read_text()
    assert sorted(path.name for path in SCHEMAS.glob("*.schema.json")) == sorted(
        f"{type}.schema.json" for type in TYPES)
    for type in TYPES:
        assert f"webhooks/{type}.schema.json" in doc and f"examples/{type}.json" in doc


@pytest.mark.parametrize("flow", list(FLOWS.values()), ids=list(FLOWS))
async def test_the_bodies_the_shop_gets_match_the_documented_schemas(
    make_bot: BotFactory, webhook_shop: WebhookShop, flow: Flow
) -> None:
    bot = await webhook_bot(make_bot, webhook_shop)
    await flow(bot, webhook_shop)
    assert webhook_shop.delivered
    for received in webhook_shop.delivered:
        errors = [f"{list(error.absolute_path)}: {error.message}"
                  for error in schema(received.type).iter_errors(received.payload)]
        assert errors == [], (received.type, errors)
        if os.environ.get("ORDERBOT_WRITE_WEBHOOK_EXAMPLES") and "declined" not in str(
                received.payload["data"].get("reason")):
            EXAMPLES.mkdir(exist_ok=True)
            (EXAMPLES / f"{received.type}.json").write_text(
                json.dumps(received.payload, indent=2, ensure_ascii=False) + "\n")


def test_the_documented_examples_match_their_schemas() -> None:
    for type in TYPES:
        example = json.loads((EXAMPLES / f"{type}.json").read_text())
        assert example["type"] == type
        assert list(schema(type).iter_errors(example)) == [], type


def snippet(language: str) -> str:
    """The doc's one code block in that language."""
    [code] = re.findall(rf"```{language}\n(.*?)```", (DOCS / "webhooks.md").read_text(),
                        flags=re.S)
    return code


def signed(body: bytes) -> dict[str, str]:
    """Headers as our sender makes them (shop_api/webhooks/sender.py), plus a rotated-out
    signature first: a header may carry several."""
    now = datetime.now(UTC)
    signature = Webhook(SECRET).sign("msg_0123456789abcdef0123456789abcdef", now, body)
    return {"webhook-id": "msg_0123456789abcdef0123456789abcdef",
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": "v1,b2xkLWtleS1zaWduYXR1cmUtbm90LW91cnM= " + signature}


BODY = b'{"type":"customer.erased","timestamp":"2026-12-06T15:00:00.000Z","data":' \
       b'{"order":null,"customer":{"id":7,"orders":["A-1013"]}}}'


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize(("body", "expected"), [(BODY, "ok"),
                                                (BODY.replace(b"A-1013", b"A-1014"), "refused")])
def test_the_node_snippet_accepts_our_signature_and_refuses_a_tampered_body(
    tmp_path: Path, body: bytes, expected: str
) -> None:
    script = tmp_path / "check.mjs"
    script.write_text(snippet("js") + """
import { readFileSync } from "node:fs";
const [bodyFile, headersFile] = process.argv.slice(2);
const headers = JSON.parse(readFileSync(headersFile, "utf8"));
console.log(verifyWebhook(process.env.WEBHOOK_SECRET, headers, readFileSync(bodyFile))
  ? "ok" : "refused");
""")
    (tmp_path / "body").write_bytes(body)
    (tmp_path / "headers.json").write_text(json.dumps(signed(BODY)))
    ran = subprocess.run(["node", str(script), str(tmp_path / "body"),
                          str(tmp_path / "headers.json")], capture_output=True, text=True,
                         timeout=30, env={**os.environ, "WEBHOOK_SECRET": SECRET}, check=False)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == expected


@pytest.mark.parametrize(("body", "expected"), [(BODY, True),
                                                (BODY.replace(b"A-1013", b"A-1014"), False)])
def test_the_python_snippet_accepts_our_signature_and_refuses_a_tampered_body(
    body: bytes, expected: bool
) -> None:
    scope: dict[str, object] = {}
    exec(snippet("python"), scope)  # noqa: S102 (the doc's own code)
    verify = scope["verified_payload"]
    assert callable(verify)
    if expected:
        assert verify(SECRET, signed(BODY), body)["type"] == "customer.erased"
    else:
        assert verify(SECRET, signed(BODY), body) is None
