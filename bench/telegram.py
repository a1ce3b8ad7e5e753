"""The Telegram webhook path: updates POSTed to the webhook, replies sent to the Bot API
double; the bare aiogram echo bot on the same double is the baseline. The double runs in the
one client process (the bot has one api_base), so these loads use one client process."""

from __future__ import annotations

from collections.abc import Callable

from bench.infra import DemoDatabase, bot_environment, sqlite_url
from bench.processes import ServerProcess
from bench.runner import Run
from tests.doubles.telegram_api import TOKEN, WEBHOOK_SECRET
from tests.servers import free_port


def telegram(run: Run, demo: DemoDatabase) -> None:
    chats = run.plan.telegram_chats
    database = sqlite_url(demo.copy(run.folder, "telegram"))
    echo: list[ServerProcess] = []
    bot: list[ServerProcess] = []

    def echo_bot(double: str) -> list[str]:
        return ["--api-base", double, "--token", TOKEN, "--secret", WEBHOOK_SECRET]

    def orderbot(double: str, port: int) -> dict[str, str]:
        return bot_environment(port, database, TELEGRAM__ENABLED="true", TELEGRAM__TOKEN=TOKEN,
                               TELEGRAM__API_BASE=double, TELEGRAM__WEBHOOK_SECRET=WEBHOOK_SECRET)

    try:
        baseline = run.load(
            f"aiogram echo closed {chats}", "aiogram echo", "telegram_echo",
            _starter(lambda double, port: run.server(
                "telegram echo", "bench.telegram_echo", {},
                ["--port", str(port), *echo_bot(double)]), echo),
            echo, "closed", chats, clients=1, secret=WEBHOOK_SECRET)
        run.load(
            f"telegram sqlite closed {chats}", "telegram sqlite", "telegram",
            _starter(lambda double, port: run.server(
                "bot telegram", "bench.bot_process", orderbot(double, port), ["--unpaced"]), bot),
            bot, "closed", chats, clients=1, secret=WEBHOOK_SECRET, database_url=database,
            baseline=baseline)
    finally:
        for server in [*echo, *bot]:
            server.stop()


def _starter(start: Callable[[str, int], ServerProcess],
             started: list[ServerProcess]) -> Callable[[str | None], str]:
    """Start the server once the double's URL is known; its URL for the customers."""

    def starter(double: str | None) -> str:
        assert double is not None
        port = free_port()
        started.append(start(double, port))
        return f"http://127.0.0.1:{port}"

    return starter
