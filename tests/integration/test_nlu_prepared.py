"""The first start's model (dialog/nlu/prepared.py): trained by a process of its own while the
bot starts, kept in the cache folder for the next start, and trained by the bot itself when
that process cannot keep it. Each start runs in a fresh interpreter, as a real one does, with
its own empty cache folder (XDG_CACHE_HOME)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import bot as bot_module

ROOT = Path(__file__).resolve().parents[2]

FIRST_ANSWER = """
import asyncio, sys
from dialog.nlu.prepared import model_path, start_training
from dialog.nlu.served import ServedModel

training = start_training()
began = training.running
again = start_training() is training  # what bootstrap.build() asks after bot.py began it
served = ServedModel(training)


async def start():  # as the bot's preparation does: loading begun first, waited for later
    served.load_soon()
    first, second = await asyncio.gather(served.ready(), served.ready())
    return first is second is served.base


once = asyncio.run(start())
print(began, again, once, served.understand("where is my order A-1001?").intent,
      served.understand("gdzie jest moja paczka").intent, "sklearn" in sys.modules,
      model_path().exists())
"""


def _start(cache: Path) -> list[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", FIRST_ANSWER], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_a_first_start_answers_with_a_model_trained_by_another_process(tmp_path: Path) -> None:
    """The bot's own process never imports scikit-learn; the model is kept for a restart, which
    starts no training process."""
    cache = tmp_path / "cache"
    assert _start(cache) == [
        "True", "True", "True", "order_status", "order_status", "False", "True"]
    assert _start(cache) == [
        "False", "False", "True", "order_status", "order_status", "False", "True"]


def test_a_model_the_training_process_cannot_keep_is_trained_by_the_bot(tmp_path: Path) -> None:
    """A cache folder that cannot be written (here: a file where the folder should be): the
    training process keeps nothing, so the bot trains the model itself and still answers."""
    blocked = tmp_path / "cache"
    blocked.write_text("not a folder")
    began, again, once, english, polish, scikit, kept = _start(blocked)
    assert (began, again, once, english, polish, kept) == (
        "True", "True", "True", "order_status", "order_status", "False")


@pytest.mark.parametrize(("argv", "serves"), [
    ([], True),
    (["--config", "my.toml"], True),
    (["--config=my.toml"], True),
    (["nlu-eval", "eval.tsv"], False),
    (["--config", "my.toml", "operator", "add", "anna"], False),
    (["--help"], False),
])
def test_only_running_the_bot_trains_ahead(argv: list[str], serves: bool) -> None:
    """`python bot.py operator add` must not start a training process it does not need."""
    assert bot_module.serves(argv) is serves


START_IMPORTS = """
import sys
import composition.app, composition.bootstrap, composition.process, schema
print(sorted(name for name in ("fpdf", "pypdf", "slack_bolt", "aiohttp", "aiogram", "sklearn",
                               "scipy") if name in sys.modules))
"""


def test_the_bot_starts_without_the_libraries_it_needs_only_later() -> None:
    """PDF documents, a customer's PDF, Slack, Telegram and training import their libraries
    when first needed (docs/performance.md, "Start-up, NLU and memory"), not at every start."""
    done = subprocess.run([sys.executable, "-c", START_IMPORTS], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
