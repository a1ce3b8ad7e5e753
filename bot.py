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

The parts are imported inside the functions: on a first start the NLU model's training
process begins before them (dialog/nlu/prepared.py), so that it trains on the other core while
this one imports, migrates and seeds.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from dialog.nlu.prepared import start_training

if TYPE_CHECKING:
    from config import Settings


def run(settings: Settings) -> int:
    """The bot process: its parts, their HTTP app, served until a stop signal."""
    from composition import bootstrap, cli, process
    from composition.app import make_app
    from config import SettingsError

    try:
        bot = bootstrap.build(settings)
    except SettingsError as error:  # a channel refused its settings
        return cli.bad_settings(error)
    return process.serve(bot, make_app(bot))


def main(argv: list[str] | None = None) -> int:
    if serves(sys.argv[1:] if argv is None else argv):
        start_training()  # bootstrap.build() finds it under way
    from composition import cli

    return cli.main(argv, run)


def serves(argv: list[str]) -> bool:
    """Whether the command line runs the bot (no subcommand, no --help): only then is the
    model trained ahead; a subcommand that needs it trains it itself."""
    rest = iter(argv)
    for argument in rest:
        if argument == "--config":
            next(rest, None)
        elif not argument.startswith("--config="):
            return False
    return True


if __name__ == "__main__":
    sys.exit(main())
