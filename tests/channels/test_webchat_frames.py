"""The customer's frames as the web chat reads them (channels/webchat/frames.py): the
widget's frames as sent, malformed ones refused with their id kept where it can be read, a
frame without attachments never sharing its list with another (the reading's default is
built per frame: one frame's list changed must not show in the next), and messages without
the client's id each with an inbox id of its own."""

from __future__ import annotations

import json

from channels.webchat.channel import WebchatChannel
from channels.webchat.frames import ClientFrame, frame_id, read_frame
from config import WebchatSettings
from coordination.memory import InProcessPubSub
from dialog.messages import ConversationKey
from dialog.texts import Texts

AS_THE_WIDGET_SENDS = [
    ({"type": "message", "text": "where is my order A-1012?", "id": "w1733550000-k3j"},
     {"type": "message", "text": "where is my order A-1012?", "id": "w1733550000-k3j"}),
    ({"type": "action", "payload": "/cancel A-1012", "id": 7},
     {"type": "action", "payload": "/cancel A-1012", "id": 7}),
    ({"type": "typing"}, {"type": "typing"}),
    ({"type": "message", "text": "", "attachments": ["a1", "a2"], "id": "w2"},
     {"type": "message", "id": "w2", "attachments": ["a1", "a2"]}),
    ({"type": "message", "text": "gdzie jest moje zamówienie? где мой заказ?"},
     {"type": "message", "text": "gdzie jest moje zamówienie? где мой заказ?"}),
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
    '{"type": "message", "text": "\\ud800"}',  # a lone surrogate: not text
]


def test_the_widgets_frames_are_read_as_sent() -> None:
    for sent, fields in AS_THE_WIDGET_SENDS:
        for raw in (json.dumps(sent, ensure_ascii=False), json.dumps(sent)):
            assert read_frame(raw) == ClientFrame(**fields), raw


def test_malformed_frames_are_refused_and_their_id_kept_where_readable() -> None:
    for raw in REFUSED:
        assert read_frame(raw) is None, raw
    assert frame_id(json.dumps({"type": "shout", "id": "c-9"})) == "c-9"
    assert frame_id(json.dumps({"type": "message", "text": 5, "id": 4})) == 4
    assert frame_id(json.dumps({"id": True})) is None
    assert frame_id("[" * 10_000) is None


def test_a_frame_without_attachments_has_a_list_of_its_own() -> None:
    first = read_frame('{"type": "message", "text": "a"}')
    second = read_frame('{"type": "message", "text": "b"}')
    assert first is not None and second is not None
    first.attachments.append("x")
    assert second.attachments == [] and read_frame('{"type": "typing"}') == ClientFrame(
        type="typing")


def test_messages_without_the_clients_id_are_never_taken_for_one_another() -> None:
    """Each gets an inbox id of its own, in one process and in another (a second channel: a
    second bot process, or this one restarted), so that none is dropped as a duplicate."""
    class Conversations:
        texts = Texts.load()

    key = ConversationKey("webchat", "c1")
    ids = []
    for _process in range(2):
        channel = WebchatChannel(Conversations(), InProcessPubSub(),  # type: ignore[arg-type]
                                 WebchatSettings(), "http://127.0.0.1:8080")
        for text in ("hello", "hello", "thanks"):
            parsed, error = channel._parse(key, json.dumps({"type": "message", "text": text}),
                                           "en")
            assert error is None and parsed is not None and parsed[1] is None
            ids.append(parsed[0].message_id)
    assert len(set(ids)) == 6 and not any(":" in own for own in ids if own)
    with_id, _ = channel._parse(key, json.dumps({"type": "message", "text": "a", "id": "w1"}),
                                "en")
    assert with_id is not None and with_id[0].message_id == "c1:w1"
