"""Telegram: private chats with the shop's bot and its inline buttons, through aiogram 3."""

from channels.telegram.channel import TelegramChannel

__all__ = ["TelegramChannel"]
