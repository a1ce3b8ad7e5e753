"""Slack: direct messages to the bot and its buttons, through slack-bolt (AsyncApp)."""

from channels.slack.channel import SlackChannel

__all__ = ["SlackChannel"]
