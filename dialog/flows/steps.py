"""Declared steps (in the spirit of aiogram's StatesGroup): a flow names its steps once, as an
enum whose values are the step strings kept in ConversationState.step, and binds each step to
its handler, the text it asks with and its buttons in one table a reader can scan. The flow's
data is a typed dataclass kept as the state's slots (JSON).

Compatibility: a conversation saved mid-flow by an older version holds plain dict slots and
the same step strings. Step values stay today's strings, data field names stay today's slot
keys, and `from_slots` is tolerant: keys it does not know are left to whoever wrote them (the
identification sub-flow keeps its own), missing ones take their defaults.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any, Generic, Self, TypeVar

from dialog.flows.base import Turn
from dialog.messages import Button


class FlowData:
    """Base of a flow's data dataclass: kept in the conversation state as its slots."""

    @classmethod
    def from_slots(cls, slots: Mapping[str, Any]) -> Self:
        known = {field.name for field in fields(cls)}  # type: ignore[arg-type]
        return cls(**{key: value for key, value in slots.items() if key in known})

    def to_slots(self) -> dict[str, Any]:
        """The fields that have a value (None is left out, as the dict slots left it)."""
        return {field.name: getattr(self, field.name)
                for field in fields(self)  # type: ignore[arg-type]
                if getattr(self, field.name) is not None}


S = TypeVar("S", bound=StrEnum)
D = TypeVar("D", bound=FlowData)
# handler(turn, data, *context): context is what the flow looked up for every step (confirm:
# the order being confirmed) and passes to resume.
Handler = Callable[..., Awaitable[bool]]


@dataclass(frozen=True)
class Step(Generic[D]):
    """What a step does with the customer's answer, and how it asks.

    handler(turn, data, *context) -> False when the message is no answer to this step (the manager
    then gives it to another flow). options are (button text key, argument) pairs; the
    button's payload is "<flow>:<argument>", the argument formatted with the ask's params
    ("yes:{number}")."""

    handler: Handler
    prompt: str | None = None
    options: tuple[tuple[str, str], ...] = ()


class Steps(Generic[S, D]):
    """One flow's table step -> Step, checked complete when the flow is built."""

    def __init__(self, flow: str, steps: type[S], data: type[D],
                 table: Mapping[S, Step[D]]) -> None:
        missing = [step.value for step in steps if step not in table]
        if missing:
            raise ValueError(f"flow {flow!r} declares steps without a handler: {missing}")
        self.flow, self._steps, self._data, self._table = flow, steps, data, dict(table)

    def current(self, turn: Turn) -> S | None:
        """The step the flow waits at (None: not this flow's, or a step no longer declared)."""
        if turn.state.flow != self.flow or turn.state.step is None:
            return None
        try:
            return self._steps(turn.state.step)
        except ValueError:
            return None

    def data(self, turn: Turn) -> D:
        return self._data.from_slots(turn.state.slots)

    def enter(self, turn: Turn, step: S, data: D) -> None:
        turn.enter(self.flow, step.value, **data.to_slots())

    def ask(self, turn: Turn, step: S, data: D, *extra: Button, prompt: str | None = None,
            **params: object) -> None:
        """Wait at `step` and ask its question (or `prompt`), with its buttons then `extra`."""
        spec = self._table[step]
        key = prompt or spec.prompt
        if key is None:
            raise ValueError(f"step {step.value!r} of {self.flow!r} has no prompt")
        self.enter(turn, step, data)
        buttons = [turn.button(text, f"{self.flow}:{argument.format(**params)}")
                   for text, argument in spec.options]
        turn.say(key, *buttons, *extra, **params)

    async def resume(self, turn: Turn, *context: Any) -> bool:
        """Hand the customer's message to the handler of the step the flow waits at."""
        step = self.current(turn)
        if step is None:
            return False
        return await self._table[step].handler(turn, self.data(turn), *context)
