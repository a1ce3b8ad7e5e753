"""The return's declared steps and data, and the choice of what goes back: lines by button,
number or words ("2 mugs and the lamp", "all"), and how many of a line."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from dialog.attachments import ASKS_FOR_FILE
from dialog.flows.base import Turn
from dialog.flows.identify import IdentifyStep
from dialog.flows.return_answers import (
    ALL,
    DONE,
    chosen_quantities,
    count_in,
    offered,
    parse_lines,
    reask,
)
from dialog.flows.return_listing import (
    FLOW,
    chosen_text,
    eligibility_of,
    example,
    line_buttons,
    listing,
    quantity_buttons,
    why,
)
from dialog.flows.steps import FlowData


class ReturnStep(StrEnum):
    NEED_NUMBER = IdentifyStep.NEED_NUMBER.value
    NEED_PROOF = IdentifyStep.NEED_PROOF.value
    NEED_CODE = IdentifyStep.NEED_CODE.value  # a return needs the strong proof
    CHOOSE_LINES = "choose_lines"  # which lines; "chosen" grows until "done"
    QUANTITY = "quantity"  # how many of "line"
    REASON = "reason"
    PHOTO = ASKS_FOR_FILE  # "damaged": a photo of the damage, or "I have no photo"
    METHOD = "method"  # then the return is made: the RMA and the label


@dataclass
class ReturnData(FlowData):
    number: str | None = None
    chosen: dict[str, int] | None = None  # {line position: quantity} (JSON keys)
    line: int | None = None  # the line whose quantity is asked
    reason: str | None = None
    photo: str | None = None  # the attachment id of the photo of the damage


class LineChoice:
    """The CHOOSE_LINES and QUANTITY steps; once the lines are chosen, `ask_reason`."""

    def __init__(self, ask_reason: Callable[[Turn], Awaitable[None]]) -> None:
        self._ask_reason = ask_reason

    async def lines_answer(self, turn: Turn, data: ReturnData) -> bool:
        eligibility = await eligibility_of(turn, _number(turn))
        text = turn.inbound.text.strip()
        if chosen_quantities(turn.state.slots) and DONE.match(text):
            await self._ask_reason(turn)
            return True
        if ALL.match(text):
            await self.choose(turn, {line.position: line.returnable
                                      for line in eligibility.returnable_lines})
            return True
        if text.isdigit():  # past the buttons (a number within them is a press already)
            choices = offered(eligibility, chosen_quantities(turn.state.slots))
            index = int(text)
            if 1 <= index <= len(choices):
                await self.line_pressed(turn, choices[index - 1].position)
            else:
                turn.say("returns_lines_not_understood", *line_buttons(turn, eligibility),
                         example=example(eligibility))
            return True
        wanted = parse_lines(text, eligibility.lines)
        if not wanted:
            return reask(turn, "returns_lines_not_understood",
                               *line_buttons(turn, eligibility),
                               example=example(eligibility))
        by_position = {line.position: line for line in eligibility.lines}
        chosen: dict[int, int] = {}
        for position, count in wanted.items():
            line = by_position[position]
            if line.refusal is not None:
                turn.say("returns_line_refused", *line_buttons(turn, eligibility),
                         name=line.name, why=why(turn, line))
                return True
            count = line.returnable if count is None else count
            if not 1 <= count <= line.returnable:
                turn.say("returns_too_many", *line_buttons(turn, eligibility),
                         name=line.name, max=line.returnable)
                return True
            chosen[position] = count
        await self.choose(turn, chosen)
        return True

    async def line_pressed(self, turn: Turn, position: int) -> None:
        eligibility = await eligibility_of(turn, _number(turn))
        line = next((line for line in eligibility.lines if line.position == position), None)
        if line is None:
            turn.say("returns_lines_not_understood", *line_buttons(turn, eligibility),
                     example=example(eligibility))
            return None
        if line.refusal is not None:
            return turn.say("returns_line_refused", *line_buttons(turn, eligibility),
                            name=line.name, why=why(turn, line))
        if line.returnable == 1:
            return await self.choose(turn, {position: 1})
        data = replace(ReturnData.from_slots(turn.state.slots), line=position)
        turn.enter(FLOW, ReturnStep.QUANTITY, **data.to_slots())
        turn.say("returns_ask_quantity", *quantity_buttons(turn, line), name=line.name,
                 max=line.returnable)

    async def quantity_answer(self, turn: Turn, data: ReturnData) -> bool:
        eligibility = await eligibility_of(turn, _number(turn))
        position = int(data.line or 0)
        line = next(line for line in eligibility.lines if line.position == position)
        count = count_in(turn.inbound.text)
        if count is None and ALL.match(turn.inbound.text):
            count = line.returnable
        if count is None or not 1 <= count <= line.returnable:
            return reask(turn, "returns_bad_quantity",
                               *quantity_buttons(turn, line),
                               name=line.name, max=line.returnable)
        await self.choose(turn, {position: count})
        return True

    async def choose(self, turn: Turn, quantities: dict[int, int]) -> None:
        number = _number(turn)
        chosen = {**chosen_quantities(turn.state.slots), **quantities}
        data = ReturnData(number, chosen={str(position): count
                                          for position, count in chosen.items()})
        turn.enter(FLOW, ReturnStep.CHOOSE_LINES, **data.to_slots())
        eligibility = await eligibility_of(turn, _number(turn))
        if not offered(eligibility, chosen):
            return await self._ask_reason(turn)
        turn.say("returns_selected", *line_buttons(turn, eligibility),
                 chosen=await chosen_text(turn, _number(turn)),
                 lines=listing(turn, eligibility, chosen))


def _number(turn: Turn) -> str:
    return str(ReturnData.from_slots(turn.state.slots).number)
