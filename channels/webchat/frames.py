"""The customer's frames as the web chat reads them (docs/channels/webchat.md, "Client to
server").

Every message of every turn is read here. pydantic's compiled validator reading the JSON
itself is the cheapest way measured (as cheap as `json.loads` alone, cheaper than a check by
hand after it), as long as no field's default is a mutable object: pydantic deep-copies such
a default for every frame that leaves the field out, over a third of the reading's cost
(docs/performance.md, "The web chat around the turn").
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import BaseModel, Field, ValidationError

MAX_ATTACHMENTS = 5  # files one message may carry
MAX_ID = 100


class ClientFrame(BaseModel):
    type: Literal["message", "action", "typing"]
    text: str = ""
    payload: Annotated[str, Field(max_length=200)] = ""
    # The client's own id of the frame: acknowledged once recorded, a resent one not answered.
    id: Annotated[str, Field(max_length=MAX_ID)] | int | None = None
    # Files uploaded first (POST /webchat/attachments) that this message carries; a factory,
    # not a `[]` default, which pydantic would deep-copy for every frame.
    attachments: Annotated[list[Annotated[str, Field(max_length=32)]],
                           Field(max_length=MAX_ATTACHMENTS)] = Field(default_factory=list)


def read_frame(raw: str) -> ClientFrame | None:
    """The frame, or None when it is malformed (not JSON, not an object, a wrong field)."""
    try:
        return ClientFrame.model_validate_json(raw)
    except ValidationError:
        return None


def frame_id(raw: str) -> str | int | None:
    """The client's id of a frame refused as malformed, where one can be read from it."""
    try:
        found = json.loads(raw).get("id")
    except (ValueError, AttributeError, RecursionError):  # not JSON, not an object, too deep
        return None
    if isinstance(found, bool) or not isinstance(found, str | int):
        return None
    return found if isinstance(found, int) or len(found) <= MAX_ID else None
