"""The customer's frames read by hand (channels/webchat/frames.py) as the pydantic model reads
them: every frame the model accepts comes out the same, every frame it refuses is refused, so
a customer gets the same answer, ack or error frame as before the hand check existed."""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from channels.webchat.frames import ClientFrame, _ClientFrame, frame_id, read_frame

EXAMPLES = int(os.environ.get("ORDERBOT_FUZZ_EXAMPLES", "300"))
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def by_model(raw: str) -> ClientFrame | None:
    try:
        model = _ClientFrame.model_validate_json(raw)
    except ValidationError:
        return None
    return ClientFrame(model.type, model.text, model.payload, model.id,
                       tuple(model.attachments))


AS_THE_WIDGET_SENDS = [
    ({"type": "message", "text": "where is my order A-1012?", "id": "w1733550000-k3j"},
     ClientFrame("message", "where is my order A-1012?", id="w1733550000-k3j")),
    ({"type": "action", "payload": "/cancel A-1012", "id": 7},
     ClientFrame("action", payload="/cancel A-1012", id=7)),
    ({"type": "typing"}, ClientFrame("typing")),
    ({"type": "message", "text": "", "attachments": ["a1", "a2"], "id": "w2"},
     ClientFrame("message", id="w2", attachments=("a1", "a2"))),
    ({"type": "message", "text": "gdzie jest moje zamówienie? где мой заказ?"},
     ClientFrame("message", "gdzie jest moje zamówienie? где мой заказ?")),
]

REFUSED = [
    "{not json", "", "null", "[]", '"text"', "[" * 10_000 + "]" * 10_000,
    json.dumps({"type": "shout"}), json.dumps({"text": "no type"}),
    json.dumps({"type": "message", "text": 5}), json.dumps({"type": "action", "payload": None}),
    json.dumps({"type": "message", "text": "hi", "id": {"x": 1}}),
    json.dumps({"type": "message", "text": "hi", "id": "x" * 101}),
    json.dumps({"type": "action", "payload": "p" * 201}),
    json.dumps({"type": "message", "attachments": ["a"] * 6}),
    json.dumps({"type": "message", "attachments": ["a" * 33]}),
    json.dumps({"type": "message", "attachments": "a1"}),
    json.dumps({"type": ["message"]}),
    '{"type": "message", "text": "\\ud800"}',  # a lone surrogate: not text
]


def test_the_widgets_frames_are_read_as_sent() -> None:
    for sent, expected in AS_THE_WIDGET_SENDS:
        raw = json.dumps(sent, ensure_ascii=False)  # as JSON.stringify writes them
        assert read_frame(raw) == expected == by_model(raw)
        assert read_frame(json.dumps(sent)) == expected  # escaped: the model's way


def test_malformed_frames_are_refused_and_their_id_kept_where_readable() -> None:
    for raw in REFUSED:
        assert read_frame(raw) is None and by_model(raw) is None, raw
    assert frame_id(json.dumps({"type": "shout", "id": "c-9"})) == "c-9"
    assert frame_id(json.dumps({"type": "message", "text": 5, "id": 4})) == 4
    assert frame_id(json.dumps({"id": True})) is None
    assert frame_id("[" * 10_000) is None


def test_what_the_model_coerces_is_coerced_the_same() -> None:
    """The model's lax reading of odd frames (true as the id 1, an extra field ignored, the
    last of a repeated key) stays as it was: the hand check leaves them to it."""
    for raw in ['{"type": "message", "text": "a", "id": true}',
                '{"type": "message", "text": "a", "id": 3.0}',
                '{"type": "message", "text": "a", "extra": {"__proto__": 1}}',
                '{"type": "message", "text": "a", "type": "typing"}',
                '{"type": "message", "text": "a", "n": NaN}']:
        assert read_frame(raw) == by_model(raw), raw


VALUES: Any = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=40) | st.sampled_from(["message", "action", "typing", "", "x" * 101]),
    lambda inner: st.lists(inner, max_size=7) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3),
    max_leaves=12)
FIELDS = st.sampled_from(["type", "text", "payload", "id", "attachments", "other"])


@PROPERTY
@given(st.dictionaries(FIELDS, VALUES, max_size=5), st.booleans())
def test_any_object_is_read_as_the_model_reads_it(frame: dict[str, Any], ascii: bool) -> None:
    raw = json.dumps(frame, ensure_ascii=ascii)
    assert read_frame(raw) == by_model(raw)
