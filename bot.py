"""orderbot: the composition root and command line.

    python bot.py [--config FILE]            run everything enabled in the settings
    python bot.py nlu-eval FILE              evaluate the intent classifier on FILE
    python bot.py nlu retrain                learn from the operators' labels (kept only if
                                             not worse on the holdout)
    python bot.py operator add NAME [--display-name X] [--admin] [--password-stdin]
                                             create a console operator account
    python bot.py erase-customer EMAIL       erase a customer's conversations and personal data
    python bot.py reconcile                  compare the shop's open orders with the bot's now
    python bot.py products import FILE [--format jsonl|csv] [--report FILE]
                                             load the catalogue from JSON lines or CSV

This is the only module that knows every part: composition/bootstrap.py builds them from the
settings (channels -> dialog -> orders <- adapters), composition/app.py puts the HTTP app over
them, composition/process.py serves it, composition/cli.py reads the command line.
"""

from __future__ import annotations

import sys

from composition import bootstrap, cli, process
from composition.app import make_app
from config import Settings, SettingsError


def run(settings: Settings) -> int:
    """The bot process: its parts, their HTTP app, served until a stop signal."""
    try:
        bot = bootstrap.build(settings)
    except SettingsError as error:  # a channel refused its settings
        return cli.bad_settings(error)
    return process.serve(bot, make_app(bot))


def main(argv: list[str] | None = None) -> int:
    return cli.main(argv, run)


if __name__ == "__main__":
    sys.exit(main())
