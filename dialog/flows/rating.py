"""The one-tap rating (1 to 5 stars) offered at the end of a conversation: when an operator
resolves it or hands it back with nothing to resume (dialog/desk.py), and when the customer
says goodbye to the bot (at most once a day). The question rides on the closing message, its
buttons are the stars in order, so "4" typed in any chat or replied to an email picks four.
Offers and ratings are events (dialog/events.py); a rating answers the newest offer once.
"""

from __future__ import annotations

from datetime import timedelta

from dialog import events
from dialog.flows.base import Turn, human_button
from dialog.messages import Button, Outbound
from dialog.texts import Texts
from storage.clock import utcnow

SCORES = range(1, 6)
LOW = 2  # a rating this low offers a person
OFFER_AGAIN_AFTER = timedelta(hours=24)  # goodbyes within this time are not asked again


def rating_buttons(texts: Texts, language: str) -> tuple[Button, ...]:
    return tuple(Button(texts.get(language, f"rating_button_{score}"), f"rating:{score}")
                 for score in SCORES)


def with_question(texts: Texts, language: str, text: str) -> str:
    return f"{text}\n\n{texts.get(language, 'rating_question')}"


async def offer_on_goodbye(turn: Turn, text: str) -> None:
    """Say the goodbye `text`, with the rating question unless one was asked lately."""
    offer = await turn.shop.latest_rating_offer(turn.state.id)
    if offer is not None and utcnow() - offer.at < OFFER_AGAIN_AFTER:
        turn.replies.append(Outbound(key=turn.state.key, text=text))
        return
    turn.replies.append(Outbound(
        key=turn.state.key, text=with_question(turn.texts, turn.language, text),
        buttons=rating_buttons(turn.texts, turn.language)))
    turn.record(events.RATING_OFFERED)


class RatingFlow:
    name = "rating"
    intents: frozenset[str] = frozenset()  # only its buttons (or their numbers) lead here

    async def start(self, turn: Turn, intent: str) -> None:
        turn.say("rating_not_offered")

    async def resume(self, turn: Turn) -> bool:
        return False

    async def on_action(self, turn: Turn, argument: str) -> None:
        score = int(argument) if argument.isdigit() else 0
        offer = await turn.shop.latest_rating_offer(turn.state.id)
        if score not in SCORES or offer is None:
            return turn.say("rating_not_offered")
        if offer.rated:
            return turn.say("rating_already")
        turn.record(events.RATING, value=score, handoff_id=offer.handoff_id)
        if score <= LOW:
            return turn.say("rating_thanks_low", human_button(turn))
        turn.say("rating_thanks")
