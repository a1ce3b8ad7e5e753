"""Operators teach the bot (docs/console.md, "What did they mean?"): an operator marks what a
customer's message meant, and admins see the labels on the dashboard.

    PUT    /console/api/conversations/{id}/messages/{message_id}/intent  {"intent": "..."}
    DELETE /console/api/conversations/{id}/messages/{message_id}/intent
    GET    /console/api/intent-labels          (admin) how many, how many new, the latest

A message may be labelled in any conversation the operator may open (its own messages and
those of the same customer's other conversations, as the console shows them); 404 for any
other message, 422 for an unknown intent. The model learns the labels at the bot's next start
or with `python bot.py nlu retrain` (dialog/learning.py).
"""

# No `from __future__ import annotations`: FastAPI reads the annotations at run time.
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response, status
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict

from console.accounts import Accounts
from dialog.intent_labels import LabelView, NoWords, UnknownMessage, label_message, remove_label
from dialog.nlu.labels import INTENTS
from dialog.nlu.retrain import OperatorLabel
from dialog.unit_of_work import UnitOfWorkFactory

if TYPE_CHECKING:
    from console.app import OperatorConsole

Id = Annotated[int, PathParam(ge=1, le=2**31 - 1)]  # an id the databases can hold
LATEST = 20


class IntentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    intent: Literal[INTENTS]  # type: ignore[valid-type]


async def message_intents(units: UnitOfWorkFactory, accounts: Accounts,
                          message_ids: list[int]) -> dict[str, dict[str, Any]]:
    """For the transcript's customer messages with words: what the bot guessed and the label
    (null when none), by message id."""
    async with units() as uow:
        guesses = await uow.labels.guesses(message_ids)
        labels = await uow.labels.of_messages(list(guesses))
    # the names after the transaction: SQLite's one connection is not shared (storage/)
    names = await accounts.names(_operators(labels.values()))
    return {str(message_id): {"guessed": guessed,
                              "label": _label_json(labels[message_id], names)
                              if message_id in labels else None}
            for message_id, guessed in guesses.items()}


def add_label_routes(router: APIRouter, console: "OperatorConsole", operator: Any,
                     admin: Any) -> None:
    """Register the endpoints on the console's router (`operator`, `admin`: its login
    dependencies)."""
    Me = Annotated[Any, operator]

    @router.put("/api/conversations/{conversation_id}/messages/{message_id}/intent")
    async def label(conversation_id: Id, message_id: Id, body: IntentIn, me: Me
                    ) -> dict[str, Any]:
        try:
            async with console.units() as uow:
                stored = await label_message(uow.labels, conversation_id, message_id,
                                             body.intent, me.id)
                await uow.commit()
            names = await console.accounts.names(_operators([stored]))
        except UnknownMessage as missing:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(missing)) from None
        except NoWords as empty:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(empty)) from None
        return {"label": _label_json(stored, names)}

    @router.delete("/api/conversations/{conversation_id}/messages/{message_id}/intent",
                   status_code=status.HTTP_204_NO_CONTENT)
    async def unlabel(conversation_id: Id, message_id: Id, me: Me) -> Response:
        try:
            async with console.units() as uow:
                await remove_label(uow.labels, conversation_id, message_id)
                await uow.commit()
        except UnknownMessage as missing:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(missing)) from None
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.get("/api/intent-labels")
    async def dashboard(me: admin, limit: Annotated[int, Query(ge=1, le=200)] = LATEST
                        ) -> dict[str, Any]:
        async with console.units() as uow:
            labels = await uow.labels.every()
            latest = await uow.labels.latest(limit)
        names = await console.accounts.names(_operators(latest))
        learned = console.learned_labels()
        new = sum(OperatorLabel(label.message_id, label.intent, label.text).key not in learned
                  for label in labels)
        return {"total": len(labels), "new": new,
                "latest": [_label_json(label, names) for label in latest]}


def _operators(labels: Iterable[LabelView]) -> set[int]:
    return {label.operator_id for label in labels if label.operator_id is not None}


def _label_json(label: LabelView, names: dict[int, str]) -> dict[str, Any]:
    return {**label.to_json(), "operator": None if label.operator_id is None else {
        "id": label.operator_id, "name": names.get(label.operator_id, "")}}
