"""Slack: direct messages to the bot and its buttons, through slack-bolt (AsyncApp):
channels.slack.channel.SlackChannel.

Nothing is imported here: schema.py (and with it every start's migrations) imports
channels.slack.tables, which must not pull in slack-bolt and aiohttp (~0.5 s) for a bot with
Slack off."""
