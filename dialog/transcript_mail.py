""""Email me this conversation": a web chat's transcript mailed to the customer it is tied to,
through the email channel's outbox and relay like any reply (durable, retried, threaded)."""

from __future__ import annotations

from enum import StrEnum

from dialog.messages import ConversationKey
from dialog.proactive import ProactiveMessages
from dialog.state import HistoryEntry
from dialog.store import ConversationStore
from dialog.texts import Texts
from dialog.unit_of_work import UnitOfWorkFactory

MAX_ENTRIES = 500  # a longer chat is mailed from its 500th newest message on


class TranscriptMailed(StrEnum):
    SENT = "sent"
    NO_ADDRESS = "no_address"  # no identified customer, or no address that takes mail
    NO_EMAIL = "no_email"  # the email channel is off


class TranscriptMail:
    def __init__(
        self, units: UnitOfWorkFactory, store: ConversationStore,
        proactive: ProactiveMessages, texts: Texts,
    ) -> None:
        self._units, self._store = units, store
        self._proactive, self._texts = proactive, texts

    async def send(self, key: ConversationKey) -> TranscriptMailed:
        async with self._units() as uow:
            state = await self._store.load(uow, key)
            customer = (await uow.shop.get_customer(state.customer_id)
                        if state.customer_id is not None else None)
            if customer is None or not customer.email or customer.email_undeliverable:
                return TranscriptMailed.NO_ADDRESS
            _, entries = await uow.transcript.history(key, MAX_ENTRIES)
            mailed = await self._proactive.tell_owner(
                uow, customer, "transcript_mail", avoid=state.id, channel="email",
                transcript=self._lines(state.language, entries))
            if mailed is None or mailed.key.channel != "email":
                return TranscriptMailed.NO_EMAIL  # not committed: nothing is sent elsewhere
            await uow.commit()
            return TranscriptMailed.SENT

    def _lines(self, language: str, entries: list[HistoryEntry]) -> str:
        def who(entry: HistoryEntry) -> str:
            if entry.sender == "customer":
                return self._texts.get(language, "transcript_you")
            if entry.sender == "operator":
                return entry.author or self._texts.get(language, "transcript_operator")
            return self._texts.get(language, "transcript_assistant")

        return "\n\n".join(
            f"[{entry.at:%Y-%m-%d %H:%M} UTC] {who(entry)}:\n{entry.text}"
            for entry in entries if entry.text
        )
