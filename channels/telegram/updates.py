"""A Telegram update as what the bot handles: a customer's message or a button press.

Only private chats are answered: in a group every member would read the order details that a
linked chat shows. Everything else Telegram may send (edited messages, channel posts, a
sticker, inline queries...) is acknowledged and ignored. A photo, or a document (an image or a
PDF sent as a file), is a file to fetch (getFile) and keep before the message is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.types import CallbackQuery, Message, Update, User

from dialog.messages import ConversationKey, Inbound
from dialog.texts import LANGUAGES

CHANNEL = "telegram"
MAX_TEXT = 4096  # Telegram's own limit for a message; a longer text cannot come from it
MAX_PAYLOAD = 64  # Telegram's limit for callback_data and for a /start parameter
GREETING_COMMANDS = frozenset({"/start", "/help"})


@dataclass(frozen=True)
class ButtonPress:
    """A press of one of the bot's inline buttons: to be answered and its keyboard removed."""

    query_id: str
    chat_id: int
    message_id: int  # the bot's message that carried the keyboard
    language: str | None


@dataclass(frozen=True)
class TelegramFile:
    """A photo or document of a message: fetched with getFile, then checked and kept."""

    file_id: str
    name: str
    size: int | None  # as Telegram declares it; None when it does not say


@dataclass(frozen=True)
class Incoming:
    inbound: Inbound
    press: ButtonPress | None = None
    files: tuple[TelegramFile, ...] = ()


def incoming(update: Update) -> Incoming | None:
    """What to record for this update, or None for an update the bot does not answer."""
    if update.message is not None:
        return _message(update.message)
    if update.callback_query is not None:
        return _button_press(update.callback_query)
    return None


def _message(message: Message) -> Incoming | None:
    if message.chat.type != "private":
        return None
    text = (message.text or message.caption or "").strip()[:MAX_TEXT]
    files = _files(message)
    if not text and not files:
        return None
    action = _command_action(text) if not files else None
    inbound = Inbound(
        key=ConversationKey(CHANNEL, str(message.chat.id)),
        text="" if action else text,
        action=action,
        # The message's own id, unique in its chat. Not the update_id: after a week without
        # updates Telegram starts update ids again from a random number, so an old one may
        # come back on a new message.
        message_id=f"m{message.chat.id}:{message.message_id}",
        language=language_of(message.from_user),
        sender=_sender(message.from_user),
    )
    return Incoming(inbound, files=files)


def _files(message: Message) -> tuple[TelegramFile, ...]:
    if message.photo:  # the same photo in several sizes, smallest first: the largest
        photo = message.photo[-1]
        return (TelegramFile(photo.file_id, f"photo-{message.message_id}.jpg", photo.file_size),)
    document = message.document
    if document is not None:
        return (TelegramFile(document.file_id, document.file_name or "document",
                             document.file_size),)
    return ()


def _command_action(text: str) -> str | None:
    """`/start <link token>` links the chat to an order; a bare /start (or /help) greets."""
    command, _, argument = text.partition(" ")
    command = command.split("@", 1)[0].lower()  # "/start@shop_bot" in a menu
    if command == "/start" and argument.strip():
        return f"link:{argument.strip()[:MAX_PAYLOAD]}"
    if command in GREETING_COMMANDS:
        return "intent:greet"
    return None


def _button_press(query: CallbackQuery) -> Incoming | None:
    message = query.message
    if message is None or not query.data or message.chat.type != "private":
        return None
    chat_id = message.chat.id
    language = language_of(query.from_user)
    inbound = Inbound(
        key=ConversationKey(CHANNEL, str(chat_id)),
        action=query.data[:MAX_PAYLOAD],
        # One press per bot message: a second press of any of its buttons (another update)
        # is a replay, as is Telegram delivering the same press twice.
        message_id=f"cb{chat_id}:{message.message_id}",
        language=language,
        sender=_sender(query.from_user),
    )
    return Incoming(inbound, ButtonPress(query.id, chat_id, message.message_id, language))


def language_of(user: User | None) -> str | None:
    """The customer's Telegram app language, when the bot speaks it ("pt-br" -> None)."""
    code = (user.language_code or "")[:2].lower() if user is not None else ""
    return code if code in LANGUAGES else None


def _sender(user: User | None) -> str | None:
    return str(user.id) if user is not None else None
