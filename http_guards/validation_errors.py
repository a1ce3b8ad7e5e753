"""422 answers that name each bad field without echoing the input back in full.

FastAPI's default answer carries every error's `input`: a 5 MB string sent in a field came
back in the 422, 5 MB again (a reflection amplifier, and a copy of the input in any log of
responses). Each input, and each part of an error's location (a dict key the body chose),
is cut to SHOWN_CHARS characters.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

SHOWN_CHARS = 200


def shown_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Validation errors as FastAPI gives them, each input and location cut short, less an
    input JSON cannot carry (a number like 1e999999 parses to infinity)."""
    shown = []
    for error in jsonable_encoder(errors):
        error = dict(error)
        if "loc" in error:
            error["loc"] = [_cut(part) if isinstance(part, str) else part
                            for part in error["loc"]]
        if "input" in error:
            error["input"] = _short(error["input"])
        try:
            json.dumps(error, allow_nan=False)
        except ValueError:
            error.pop("input", None)
        shown.append(error)
    return shown


def _short(value: Any) -> Any:
    if isinstance(value, str):
        return _cut(value)
    if isinstance(value, (dict, list)):
        try:
            text = json.dumps(value, ensure_ascii=False)
        except ValueError:
            return None
        return value if len(text) <= SHOWN_CHARS else _cut(text)
    return value


def _cut(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"


async def _answer(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return JSONResponse({"detail": shown_errors(error.errors())}, status_code=422)


def add_validation_handler(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _answer)
