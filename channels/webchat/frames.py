"""The customer's frames as the web chat reads them (docs/channels/webchat.md, "Client to
server").

Every message of every turn is read here, so the frames the widget sends (plain JSON objects
of the known fields) are checked by hand after `json.loads`; anything else — another field,
a value of another type, an escaped character, JSON the standard parser refuses — is left to
the pydantic model, which decides exactly as it always has (the same coercions, the same
refusals). The hand check accepts only what the model accepts unchanged, so both ways give the
same frame.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationError

MAX_ATTACHMENTS = 5  # files one message may carry
MAX_PAYLOAD = 200
MAX_ID = 100
MAX_ATTACHMENT_ID = 32


class _ClientFrame(BaseModel):
    type: Literal["message", "action", "typing"]
    text: str = ""
    payload: Annotated[str, Field(max_length=MAX_PAYLOAD)] = ""
    # The client's own id of the frame: acknowledged once recorded, a resent one not answered.
    id: Annotated[str, Field(max_length=MAX_ID)] | int | None = None
    # Files uploaded first (POST /webchat/attachments) that this message carries.
    attachments: Annotated[list[Annotated[str, Field(max_length=MAX_ATTACHMENT_ID)]],
                           Field(max_length=MAX_ATTACHMENTS)] = []


@dataclass(frozen=True, slots=True)
class ClientFrame:
    type: str  # "message" | "action" | "typing"
    text: str = ""
    payload: str = ""
    id: str | int | None = None
    attachments: tuple[str, ...] = ()


_FIELDS = frozenset(_ClientFrame.model_fields)
_TYPES = frozenset(("message", "action", "typing"))


def read_frame(raw: str) -> ClientFrame | None:
    """The frame, or None when it is malformed (not JSON, not an object, a wrong field)."""
    frame = _plain(raw)
    if frame is not None:
        return frame
    try:
        model = _ClientFrame.model_validate_json(raw)
    except ValidationError:
        return None
    return ClientFrame(model.type, model.text, model.payload, model.id,
                       tuple(model.attachments))


def _plain(raw: str) -> ClientFrame | None:
    """The frame when it is plainly valid as it stands; None: let the model decide."""
    # An escape may hide a lone surrogate, which json.loads keeps and the model refuses.
    if "\\u" in raw:
        return None
    try:
        data: Any = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if type(data) is not dict or not data.keys() <= _FIELDS:
        return None
    kind = data.get("type")
    text = data.get("text", "")
    payload = data.get("payload", "")
    client_id = data.get("id")
    attachments = data.get("attachments", [])
    # `type(x) is` and not isinstance: a bool is an int, and the model reads true as 1.
    if (type(kind) is not str or kind not in _TYPES or type(text) is not str
            or type(payload) is not str or len(payload) > MAX_PAYLOAD
            or not (client_id is None or type(client_id) is int
                    or (type(client_id) is str and len(client_id) <= MAX_ID))
            or type(attachments) is not list or len(attachments) > MAX_ATTACHMENTS
            or not all(type(a) is str and len(a) <= MAX_ATTACHMENT_ID for a in attachments)):
        return None
    return ClientFrame(kind, text, payload, client_id, tuple(attachments))


def frame_id(raw: str) -> str | int | None:
    """The client's id of a frame refused as malformed, where one can be read from it."""
    try:
        found = json.loads(raw).get("id")
    except (ValueError, AttributeError, RecursionError):  # not JSON, not an object, too deep
        return None
    if isinstance(found, bool) or not isinstance(found, str | int):
        return None
    return found if isinstance(found, int) or len(found) <= MAX_ID else None
