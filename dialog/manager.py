"""DialogManager: one customer message in, the replies out, durably, one turn at a time.

A turn runs under the conversation's lock: load the state (only after the lock is held),
understand, run the flow, and commit state, transcript and outbox rows in one transaction.
The outbox sender delivers the replies only after that commit.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from coordination.base import Locks
from dialog import crashpoints
from dialog.desk import OperatorDesk
from dialog.desk_values import TranscriptLine
from dialog.flows.base import Flow, Turn, human_button, track_button
from dialog.flows.clarify import ask_which, courtesy, plausible
from dialog.flows.fallback import not_understood
from dialog.flows.outside import answer_outside, topic_of
from dialog.messages import Button, Capabilities, ConversationKey, Inbound, Outbound
from dialog.metrics import Metrics, NoMetrics
from dialog.nlu import Entities, NluModel, Understanding
from dialog.nlu.requests import understand_requests
from dialog.outbox import OutboxSender
from dialog.proposals import DECLINE, PROPOSAL, carry_on, hold_also, proposed_entities
from dialog.state import ConversationState, HistoryEntry, RecordedTurn
from dialog.store import ConversationStore
from dialog.texts import LANGUAGES, Texts
from dialog.tokens import TokenStore
from dialog.unit_of_work import Fenced, Repositories, UnitOfWorkFactory
from orders.service import NewCustomer
from storage.clock import utcnow

log = logging.getLogger(__name__)

SWITCH_LANGUAGE_CONFIDENCE = 0.7
KNOWN_WORDS_OUTSIDE = 0.5  # of a message's words: it reads as a language, not as mash
RESUME_CONTINUE = "resume:continue"  # "Continue with ...": back to the interrupted flow
RESUME_DROP = "resume:drop"
MAX_CHOICE_CHARS = 60
_OPTION_NUMBER = re.compile(r"^\(?(\d{1,2})\s*[.)]?$")
# Answers that start no flow: an active flow's question stays open behind them.
CLARIFIED = "clarify"
OUTSIDE = "out_of_scope"
FILE_NOTED = "attachment"  # a file alone, no flow waiting for one: noted for the operators
_NO_FLOW = (None, CLARIFIED, OUTSIDE, FILE_NOTED)


MAX_FENCED_RUNS = 3  # a turn refused this often by its fence fails (then: a stuck clock?)


class _Duplicate(Exception):
    """The inbound was recorded before: roll the turn back and answer nothing."""


class DialogManager:
    def __init__(
        self,
        *,
        units: UnitOfWorkFactory,
        store: ConversationStore,
        nlu: NluModel,
        texts: Texts,
        locks: Locks,
        outbox: OutboxSender,
        flows: Sequence[Flow],
        shop_name: str,
        desk: OperatorDesk | None = None,
        metrics: Metrics | None = None,
        tokens: TokenStore | None = None,
        capabilities: Mapping[str, Capabilities] | None = None,
    ) -> None:
        self._units = units  # one unit of work (one transaction) per turn
        self._store = store
        self._tokens = tokens or TokenStore()  # web chat tokens, with their maximum ages
        self._nlu = nlu
        self._texts = texts
        self._locks = locks
        self._outbox = outbox
        self._shop_name = shop_name
        self._desk = desk  # the operators see a conversation that is with them, live
        self._metrics = metrics or NoMetrics()  # counters in memory, for /metrics
        # What each channel declared when it was registered (filled in as channels are added).
        self._capabilities = capabilities if capabilities is not None else {}
        self._by_name = {flow.name: flow for flow in flows}
        self._by_intent = {intent: flow for flow in flows for intent in flow.intents}

    @property
    def texts(self) -> Texts:
        return self._texts

    async def handle(self, inbound: Inbound, *, record: bool = False) -> list[Outbound]:
        """Answer one customer message; [] for a duplicate or while an operator holds it.

        `record`: the message is not in the inbox yet; it is recorded there (processed) in
        this turn's own transaction, and a platform id recorded before makes it a duplicate.
        """
        started = time.perf_counter()
        try:
            replies = await self._handle(inbound, record)
        except Exception:
            self._metrics.turn_failed(inbound.key.channel)
            raise
        self._metrics.turn(inbound.key.channel, time.perf_counter() - started, len(replies))
        return replies

    async def _handle(self, inbound: Inbound, record: bool = False) -> list[Outbound]:
        inbound = self._with_sender_email(inbound)
        understanding = (
            understand_requests(self._nlu, inbound.text) if inbound.text.strip() else None
        )
        # A message with several requests: the first is this turn's, the next is offered after.
        later = understanding.requests[1:] if understanding is not None else ()
        refused = 0
        while True:
            try:
                return await self._turn_once(inbound, understanding, later, record)
            except Fenced as error:
                # Another turn of the conversation ran meanwhile (this process was stalled past
                # its lock's lease, or another process made the conversation as this turn
                # began): nothing of this one was written; run it again on the state that
                # turn left (a message that turn answered is now a duplicate).
                refused += 1
                if refused >= MAX_FENCED_RUNS:
                    raise
                log.warning("a turn in %s was refused (%s); running it again",
                            inbound.key, error)

    async def _turn_once(
        self, inbound: Inbound, understanding: Any, later: Sequence[Understanding],
        record: bool,
    ) -> list[Outbound]:
        try:
            async with self._locks.hold(str(inbound.key)) as fence:
                crashpoints.reached("turn_locked")  # a test hook, off in production
                async with self._units() as uow:
                    if inbound.inbox_id is not None and not await uow.inbox.claim(
                        inbound.inbox_id
                    ):
                        raise _Duplicate
                    language = self._first_language(inbound, understanding)
                    if record:  # recorded in the inbox as its state is read
                        answering = await self._store.load_answering(
                            uow, inbound, language, inbound.customer_id, fence)
                        if answering is None:
                            raise _Duplicate
                        state = answering
                    else:
                        state = await self._store.load(
                            uow, inbound.key, language, inbound.customer_id, fence)
                    crashpoints.reached("turn_loaded")  # a test hook, off in production
                    if inbound.customer_id is not None:
                        state.customer_id = inbound.customer_id
                    elif state.customer_id is None and inbound.sender:
                        state.customer_id = await uow.shop.customer_for_identity(
                            inbound.key.channel, inbound.sender, email=inbound.sender_email)
                    if inbound.context is not None:
                        state.context = dict(inbound.context)
                    self._follow_language(state, understanding, self._nlu.threshold)
                    turn = self._turn(inbound, understanding, state, uow)
                    recorded = _with_pressed_title(inbound, state.offered)
                    proven_before = set(state.verified_orders) | set(state.strong_orders)
                    status_before = state.status
                    # an operator holds it: the bot stays silent
                    handled_by: str | None = "operator"
                    if state.status != "claimed":
                        handled_by = await self._route(turn, uow, later)
                    if status_before == "bot" and state.status == "escalated":
                        await self._tell_wait(turn, uow)
                    proven = [n for n in dict.fromkeys(state.verified_orders + state.strong_orders)
                              if n not in proven_before]
                    written = await self._store.record_turn(
                        uow, state, recorded, turn.replies,
                        flow="fallback" if turn.misunderstood else handled_by,
                        intent=understanding.intent if understanding and inbound.action is None
                        else None,
                        events=turn.events,
                        # its inbox row, recorded or claimed in this transaction, is unique
                        recorded_in_inbox=record or inbound.inbox_id is not None,
                        # its news may come here (if strong), an erasure finds it
                        watch=proven,
                    )
                    if written is None:
                        raise _Duplicate
                    for write in turn.afterwards:
                        await write()
                    uow.after_commit(lambda: crashpoints.reached("reply_queued"))  # test hook
                    uow.after_commit(lambda: self._outbox.enqueue(written.deliveries))
                    desk = self._desk
                    if desk is not None and (status_before != "bot" or state.status != "bot"):
                        lines = _lines(state, recorded, written)
                        uow.after_commit(lambda: desk.publish_lines(lines))
                    await uow.commit()
        except _Duplicate:
            log.debug("duplicate message %s in %s dropped", inbound.message_id, inbound.key)
            return []
        for reason in turn.refused:
            self._metrics.refused(reason)
        return turn.replies

    def _turn(
        self, inbound: Inbound, understanding: Any, state: ConversationState,
        uow: Repositories,
    ) -> Turn:
        """The turn the flows work with, bound to this unit of work's transaction."""
        return Turn(
            inbound=inbound,
            understanding=understanding.requests[0]
            if understanding is not None and understanding.requests else understanding,
            state=state,
            shop=uow.shop,
            texts=self._texts,
            shop_name=self._shop_name,
        )

    async def _route(
        self, turn: Turn, uow: Repositories, later: Sequence[Understanding] = ()
    ) -> str | None:
        """Answer the message; the name of the flow that did ("resume": the offer to go back
        to an interrupted flow; "clarify": a question which one was meant; "out_of_scope":
        the honest answer to what the shop does not do; None: not understood)."""
        state = turn.state
        if turn.inbound.action is None:  # "2", or a button's words: that button
            chosen = chosen_payload(turn.inbound.text, state.offered)
            if chosen is not None:
                turn.inbound = replace(turn.inbound, action=chosen)
        proposal, state.proposal = state.proposal, None  # it answers the next message only
        if self._answer_resume_offer(turn):
            return "resume"
        before = (state.flow, state.step, dict(state.slots)) if state.flow else None
        status_before = state.status
        handled_by = await self._answer_proposal(turn, proposal) or await self._dispatch(turn)
        if before is not None and status_before == "bot" and state.status == "escalated":
            # A person takes over mid-flow: once they hand back, the bot offers to go on.
            await self._suspend(turn, uow, *before)
        elif (
            before is not None
            and handled_by not in (*_NO_FLOW, before[0])
            and state.status == "bot"
            and not self._said(turn, "goodbye")
        ):
            await self._suspend(turn, uow, *before)
        if later and handled_by is not None:
            hold_also(turn, later[0], handled_by)
        if not carry_on(turn, handled_by, _NO_FLOW, just_held=bool(later)):
            self._offer_resume(turn)
        return handled_by

    async def _answer_proposal(self, turn: Turn, proposal: dict[str, Any] | None) -> str | None:
        """Run what the last message proposed, if the customer took it (its button, or "yes"
        to a single proposal); None if the message is no answer to a proposal."""
        action = turn.inbound.action
        if action == DECLINE or (
            proposal is not None and turn.state.flow is None and action is None
            and self._said(turn, "deny")
        ):
            turn.say("anything_else", track_button(turn), human_button(turn))
            return "smalltalk"
        if action is not None:
            name, _, intent = action.partition(":")
            if name != PROPOSAL or intent not in self._by_intent:
                return None
            return await self._start(turn, intent, proposed_entities(proposal, intent))
        if (
            proposal is not None and turn.state.flow is None
            and len(proposal["intents"]) == 1 and self._said(turn, "affirm")
        ):
            intent = proposal["intents"][0]
            return await self._start(turn, intent, proposed_entities(proposal, intent))
        return None

    async def _start(self, turn: Turn, intent: str, entities: Entities) -> str:
        """Start the intent's flow as if the customer had just asked for it with `entities`."""
        turn.state.misunderstandings = 0
        turn.understanding = Understanding(
            intent, 1.0, turn.state.language, 1.0, entities, ((intent, 1.0),)
        )
        flow = self._by_intent[intent]
        await flow.start(turn, intent)
        return flow.name

    async def _tell_wait(self, turn: Turn, uow: Repositories) -> None:
        """After "a colleague will answer": how long that will honestly take."""
        if self._desk is None:
            return
        waits = self._desk.waits
        wait = await waits.estimate(uow, turn.state.id, utcnow())
        turn.replies.append(Outbound(key=turn.state.key, text=waits.text(turn.language, wait)))

    async def _dispatch(self, turn: Turn) -> str | None:
        """Run the flow the message is for; its name (None: not understood)."""
        state, understanding = turn.state, turn.understanding
        if turn.inbound.action is not None:
            name, _, argument = turn.inbound.action.partition(":")
            if name == "intent" and argument in self._by_intent:
                state.misunderstandings = 0
                flow = self._by_intent[argument]
                await flow.start(turn, argument)
                return flow.name
            if name in self._by_name:
                state.misunderstandings = 0
                await self._by_name[name].on_action(turn, argument)
                return name
            not_understood(turn)
            return None
        active = self._by_name.get(state.flow) if state.flow else None
        confident = (
            understanding is not None and understanding.confidence >= self._nlu.threshold
        )
        if active is not None:
            switches = (
                confident
                and understanding is not None
                and understanding.intent not in ("affirm", "deny")
                and understanding.intent not in active.intents
            )
            if (not switches or _has_entities(understanding)) and await active.resume(turn):
                state.misunderstandings = 0
                return active.name
        if turn.inbound.attachments and not turn.inbound.text.strip():
            # A photo or PDF with no words: not a misunderstanding. It is kept in the
            # transcript, where an operator sees it.
            turn.say("attachment_received")
            return FILE_NOTED
        if confident and understanding is not None and understanding.intent in self._by_intent:
            topic = topic_of(turn, strong_only=True)
            if topic is not None:  # "rezygnuję z subskrypcji newslettera" is no cancellation
                answer_outside(turn, topic)
                return OUTSIDE
            state.misunderstandings = 0
            flow = self._by_intent[understanding.intent]
            await flow.start(turn, understanding.intent)
            return flow.name
        if understanding is None:
            not_understood(turn)
            return None
        # out_of_scope also holds keyboard mash ("asdf" is confidently out_of_scope), which is
        # no request to answer honestly: only text that reads as a language (the language
        # detector is sure) and whose words are mostly words the data knows is.
        outside = (
            confident and understanding.intent == "out_of_scope"
            and understanding.language_confidence >= SWITCH_LANGUAGE_CONFIDENCE
            and understanding.known_words >= KNOWN_WORDS_OUTSIDE
        )
        topic = topic_of(turn) if outside or not confident else None
        if outside or topic is not None:
            answer_outside(turn, topic)
            return OUTSIDE
        threshold = self._nlu.threshold
        meant = plausible(understanding, threshold)
        if understanding.entities.order_numbers and meant[:1] in ([], ["order_status"]):
            # An order number, and nothing likelier than its status: the status, which tells
            # (after the proof) and changes nothing, is no risky guess.
            state.misunderstandings = 0
            await self._by_intent["order_status"].start(turn, "order_status")
            return "status"
        if meant:
            ask_which(turn, meant)
            return CLARIFIED
        polite = courtesy(understanding, threshold)
        if polite is not None and polite in self._by_intent:
            return await self._start(turn, polite, understanding.entities)
        not_understood(turn)
        return None

    # Changing one's mind mid-flow: the other question is answered, then the interrupted flow
    # is offered back ("Continue with ..."), at the same step with the same slots.

    def _said(self, turn: Turn, intent: str) -> bool:
        understanding = turn.understanding
        return (
            turn.inbound.action is None
            and understanding is not None
            and understanding.confidence >= self._nlu.threshold
            and understanding.intent == intent
        )

    def _answer_resume_offer(self, turn: Turn) -> bool:
        """Handle a yes/no (or button) to "Shall we go back to ...?"; True if it was one."""
        state, action = turn.state, turn.inbound.action
        suspended = state.suspended
        if action in (RESUME_CONTINUE, RESUME_DROP) and not (suspended or {}).get("offered"):
            state.suspended = None  # an old offer: nothing waits any more
            turn.say("anything_else", track_button(turn), human_button(turn))
            return True
        if not suspended or not suspended.get("offered"):
            return False
        idle = state.flow is None
        if action == RESUME_CONTINUE or (idle and self._said(turn, "affirm")):
            state.suspended = None
            state.flow, state.step = suspended["flow"], suspended["step"]
            state.slots = dict(suspended["slots"])
            turn.say("resume_back")
            if suspended.get("text"):
                buttons = tuple(Button(title, payload) for title, payload in suspended["buttons"])
                turn.replies.append(
                    Outbound(key=state.key, text=suspended["text"], buttons=buttons)
                )
            return True
        state.suspended = None  # declined, or the customer moved on
        if action == RESUME_DROP or (idle and self._said(turn, "deny")):
            turn.say("anything_else", track_button(turn), human_button(turn))
            return True
        return False

    async def _suspend(
        self, turn: Turn, uow: Repositories, flow: str, step: str | None, slots: dict[str, Any]
    ) -> None:
        """Keep the interrupted flow and the question it had asked (its last message)."""
        asked = await self._store.last_from_bot(uow, turn.state.id)
        turn.state.suspended = {
            "flow": flow, "step": step, "slots": slots, "offered": False,
            "text": asked.text if asked else "",
            "buttons": [[b.title, b.payload] for b in asked.buttons] if asked else [],
        }

    def _offer_resume(self, turn: Turn) -> None:
        """Once the other question is answered (no flow waits), offer the interrupted one."""
        state, suspended = turn.state, turn.state.suspended
        if suspended is None or suspended.get("offered"):
            return
        if state.status != "bot":  # kept for the hand-back (dialog/desk.py offers it then)
            return
        if state.flow is not None or not turn.replies:
            return
        suspended["offered"] = True
        name = f"resume_what_{suspended['flow']}"
        what = turn.text(name if self._texts.has(state.language, name) else "resume_what_other")
        buttons = (
            turn.button("resume_button_continue", RESUME_CONTINUE, what=what),
            turn.button("resume_button_drop", RESUME_DROP),
        )
        number = suspended["slots"].get("number")
        if number:
            turn.say("resume_offer_number", *buttons, what=what, number=number)
        else:
            turn.say("resume_offer", *buttons, what=what)

    def _with_sender_email(self, inbound: Inbound) -> Inbound:
        """The sender's address on the message, if its channel says senders are addresses."""
        capabilities = self._capabilities.get(inbound.key.channel)
        sender = inbound.sender
        if capabilities is None or not capabilities.senders_are_email or "@" not in (sender or ""):
            return inbound
        return replace(inbound, sender_email=inbound.sender)

    @staticmethod
    def _first_language(inbound: Inbound, understanding: Understanding | None) -> str:
        if understanding is not None and understanding.language_confidence >= 0.5:
            return understanding.language
        if inbound.language in LANGUAGES:
            return inbound.language
        return "en"

    @staticmethod
    def _follow_language(
        state: ConversationState, understanding: Understanding | None, threshold: float
    ) -> None:
        """Switch to the language of a message the bot understood (gibberish switches nothing)."""
        if (
            understanding is not None
            and understanding.confidence >= threshold
            and understanding.language_confidence >= SWITCH_LANGUAGE_CONFIDENCE
            and understanding.language in LANGUAGES
        ):
            state.language = understanding.language

    # Client sessions (web chat): a secret token bound to one conversation.

    async def open_session(
        self,
        channel: str,
        chat_id: str,
        language: str | None,
        verified_email: str | None = None,
        customer_name: str | None = None,
        link_token: str | None = None,
    ) -> tuple[str, ConversationKey] | None:
        """A token for a new conversation, or for the verified customer's last one there.

        An order's link token proves that one order at the strong level (docs/security.md) in
        a new conversation that knows nothing else of the customer; None if it is unknown.
        """
        language = language if language in LANGUAGES else "en"
        async with self._units() as uow:
            customer_id = None
            linked_order = None
            key = ConversationKey(channel, chat_id)
            if link_token:
                linked_order = await uow.shop.order_by_link_token(link_token)
                if linked_order is None:
                    return None
            elif verified_email:
                customer_id = await uow.shop.customer_id_for(NewCustomer(
                    name=customer_name or verified_email, email=verified_email,
                    language=language,
                ))
            if customer_id is not None:
                previous = await self._store.latest_for_customer(uow, customer_id)
                if previous is not None and previous.key.channel == channel:
                    key = previous.key
            state = await self._store.load(uow, key, language, customer_id)
            if linked_order is not None:
                number = linked_order.number
                state.verified_orders.append(number)
                state.strong_orders.append(number)
                await self._store.save(uow, state)
                await self._store.watch(uow, state.id, [number])
            token = await self._tokens.issue(uow, state.id)
            await uow.commit()
        return token, key

    async def resolve_token(self, token: str) -> ConversationKey | None:
        """The conversation of a live token; None for unknown, expired or replaced ones."""
        async with self._units() as uow:
            key = await self._tokens.resolve(uow, token)
            await uow.commit()  # the use, or the expired token's removal
        return key

    async def resume_session(self, token: str) -> tuple[str, ConversationKey] | None:
        """A new token for the conversation of a live one, which stops working (rotation:
        a token copied from a browser works only until the widget next starts there)."""
        async with self._units() as uow:
            rotated = await self._tokens.rotate(uow, token)
            await uow.commit()
        return rotated

    async def last_buttons(self, key: ConversationKey) -> list[Button]:
        """What the customer was last offered."""
        async with self._units() as uow:
            return await self._store.last_buttons(uow, key)

    async def mark_undeliverable(self, channel: str, address: str) -> bool:
        """A channel learnt that an address bounces; False if no customer has it, or if the
        channel's senders are no addresses (nothing of a customer's to mark)."""
        capabilities = self._capabilities.get(channel)
        if capabilities is None or not capabilities.senders_are_email:
            return False
        async with self._units() as uow:
            marked = await uow.shop.mark_email_undeliverable(address)
            await uow.commit()
        return marked

    async def history(
        self, key: ConversationKey, limit: int = 200
    ) -> tuple[str, list[HistoryEntry]]:
        async with self._units() as uow:
            return await self._store.history(uow, key, limit)


def _lines(state: ConversationState, inbound: Inbound, record: RecordedTurn,
           ) -> list[TranscriptLine]:
    """The turn as the operators' console shows it."""
    at = record.at
    lines = []
    if record.inbound_id is not None:
        lines.append(TranscriptLine(record.inbound_id, state.id, state.key.channel, "customer",
                                    None, inbound.text, at, attachments=record.attachments))
    lines.extend(
        TranscriptLine(d.message_id, state.id, state.key.channel, d.outbound.sender,
                       d.outbound.author, d.outbound.text, at, d.outbound.buttons)
        for d in record.deliveries
    )
    return lines


def _with_pressed_title(inbound: Inbound, offered: list[list[str]]) -> Inbound:
    """A pressed button is recorded with its title, so the transcript reads as the chat did."""
    if inbound.action is None or inbound.text.strip():
        return inbound
    title = next((title for title, payload in offered if payload == inbound.action), None)
    return replace(inbound, text=title) if title else inbound


def chosen_payload(text: str, offered: list[list[str]]) -> str | None:
    """The payload of the offered button a short reply picks: its words, or its number."""
    answer = text.strip()
    if not offered or not answer or len(answer) > MAX_CHOICE_CHARS:
        return None
    wanted = _words(answer)
    for title, payload in offered:
        if wanted and wanted == _words(title):
            return payload
    match = _OPTION_NUMBER.match(answer)
    if match:
        index = int(match.group(1))
        if 1 <= index <= len(offered):
            return offered[index - 1][1]
    return None


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold()))


def _has_entities(understanding: Understanding | None) -> bool:
    if understanding is None:
        return False
    entities = understanding.entities
    return bool(entities.order_numbers or entities.emails or entities.postcodes)
