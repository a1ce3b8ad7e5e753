"""The bot as the benchmark runs it: the composition's own parts, app and serve(), and
settings (from ORDERBOT__* environment variables), with two differences that only a load test needs:

- it listens with SO_REUSEPORT, so that two processes share one port (the production shape
  without a proxy: the kernel spreads the connections);
- with --unpaced, the Telegram sender is not paced to Telegram's real limits (one message a
  second per chat, thirty in all): the Bot API double does not limit, and the benchmark
  measures the bot, not the pacing.

    python -m bench.bot_process [--unpaced]
"""

from __future__ import annotations

import argparse
import logging
import sys

from dialog.nlu.prepared import start_training


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bot_process")
    parser.add_argument("--unpaced", action="store_true", help="no Telegram send pacing")
    args = parser.parse_args()
    start_training()  # as bot.py does: before the imports below, which it overlaps
    from bench.listening import shared_listener
    from composition.app import make_app
    from composition.bootstrap import build
    from composition.cli import DEFAULT_CONFIG
    from composition.process import serve
    from config import load_settings

    logging.basicConfig(  # as bot.py does
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = load_settings(DEFAULT_CONFIG)
    bot = build(settings)
    if args.unpaced and bot.telegram is not None:
        from channels.telegram.pacing import ChatPacer  # aiogram: only with Telegram on

        bot.telegram.sender.pacer = ChatPacer(interval=0.0, burst=1, overall_interval=0.0,
                                              overall_burst=1)
    listener = shared_listener(settings.http.host, settings.http.port)
    return serve(bot, make_app(bot), listener=listener)


if __name__ == "__main__":
    sys.exit(main())
