"""What Slack posts to /slack/events, checked before Bolt sees it: size, signature, shape.

Bolt checks the signature too, but it answers 500 to a timestamp that is not a number, and a
payload shaped unlike Slack's makes its matchers or our listeners raise, which it also turns
into 500 (and Slack retries a 500). So the request is refused here, with the reason:
413 too large, 401 not signed by Slack within 5 minutes, 400 not a Slack payload.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

# Slack's largest payloads are block_actions carrying the whole message (at most 50 blocks
# of 3,000 characters); a body past this is not from Slack.
MAX_BODY_BYTES = 1024 * 1024
WINDOW_SECONDS = 5 * 60


def signed(
    secret: str, headers: Mapping[str, str], body: bytes,
    clock: Callable[[], float] = time.time,
) -> bool:
    """Whether Slack signed this body, with a timestamp within 5 minutes either way."""
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not (timestamp.isascii() and timestamp.isdigit() and signature):
        return False
    if abs(clock() - int(timestamp)) > WINDOW_SECONDS:
        return False
    # Slack's v0 scheme over the raw bytes (slack_sdk's verifier wants them to be UTF-8)
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def malformed(body: bytes, content_type: str | None) -> str | None:
    """Why this body is not a Slack payload we can read, or None when it is one."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8"
    try:
        if content_type == "application/json" or text.startswith("{"):  # as Bolt reads it
            return _envelope_problem(json.loads(text))
        form = dict(parse_qsl(text, keep_blank_values=True))
        if "payload" not in form:
            return "neither a JSON object nor a form with a payload"
        return _envelope_problem(json.loads(form["payload"]))
    except ValueError:
        return "payload is not JSON"


def _envelope_problem(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "payload is not a JSON object"
    kind = data.get("type")
    if not isinstance(kind, str):
        return "payload has no type"
    for key in ("authorizations", "actions"):
        if key in data and not _list_of_objects(data[key]):
            return f"{key} is not a list of objects"
    for key in ("event", "user", "container", "message", "channel", "team", "enterprise"):
        if data.get(key) is not None and not isinstance(data[key], dict | str):
            return f"{key} is neither an object nor a string"
    if kind == "url_verification" and not isinstance(data.get("challenge"), str):
        return "url_verification without a challenge"
    if kind == "event_callback":
        return _event_problem(data)
    if kind == "block_actions":
        return _actions_problem(data)
    return None


def _event_problem(data: dict[str, Any]) -> str | None:
    event = data.get("event")
    if not isinstance(data.get("event_id"), str) or not data["event_id"]:
        return "event_callback without an event_id"
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return "event_callback without an event type"
    return None


def _actions_problem(data: dict[str, Any]) -> str | None:
    actions = data.get("actions")
    if not actions:
        return "block_actions without actions"
    if not all(isinstance(action.get("action_id"), str) for action in actions):
        return "block_actions with an action without an action_id"
    user = data.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        return "block_actions without a user"
    for key in ("container", "message", "channel", "team"):
        if data.get(key) is not None and not isinstance(data[key], dict):
            return f"block_actions with {key} that is not an object"
    return None


def _list_of_objects(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)
