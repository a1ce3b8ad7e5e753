"""Learning from operators' labels (dialog/nlu/retrain.py, dialog/learning.py): `python bot.py
nlu retrain` end to end on a real SQLite file, and the retrain at start-up when labels are new.
The learned models go to a temporary cache folder (XDG_CACHE_HOME)."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import bot as bot_module
from composition.bootstrap import Orderbot
from dialog.intent_labels import label_message, remove_label
from dialog.nlu import NluModel
from dialog.nlu import retrain as retrain_module
from dialog.nlu.prepared import prepared_model
from dialog.nlu.retrain import read_holdout
from dialog.tables import Conversation, TranscriptEntry
from tests.conftest import BotFactory

ROOT = Path(__file__).resolve().parents[2]
MISUNDERSTOOD = "the parcel smells of smoke"  # the data's model: not a return (see below)
GOOD_LABELS = [(MISUNDERSTOOD, "return_order"),
               ("everything in the box smells of cigarette smoke", "return_order")]


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder


async def _labelled(bot: Orderbot, labels: Sequence[tuple[str, str]]) -> list[int]:
    """Customer messages in one conversation, each labelled by an operator; their ids."""
    ids = []
    async with bot.units() as uow:
        session = uow.session
        conversation = Conversation(channel="webchat", chat_id=f"labels-{len(labels)}")
        session.add(conversation)
        await session.flush()
        for text, intent in labels:
            entry = TranscriptEntry(conversation_id=conversation.id, sender="customer",
                                    text=text, intent="human")
            session.add(entry)
            await session.flush()
            await label_message(uow.labels, conversation.id, entry.id, intent, None)
            ids.append(entry.id)
        await uow.commit()
    return ids


def _retrain(database_url: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ORDERBOT__DATABASE__URL": database_url,
           "XDG_CACHE_HOME": str(cache)}
    return subprocess.run([sys.executable, str(ROOT / "bot.py"), "nlu", "retrain"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)


async def _main(*args: str) -> int:
    """bot.py's command line in this process (its own event loop, on a thread)."""
    return await asyncio.to_thread(bot_module.main, list(args))


def _learned_files(cache: Path) -> list[Path]:
    return list(cache.rglob("nlu-*-learned-*.pickle"))


def _scores(output: str, model: str) -> list[float]:
    line = next(line for line in output.splitlines() if line.split()[:1] == [model])
    return [float(value) for value in line.split()[1:]]


def _no_training(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """NluModel.train made to record its calls (and train as usual)."""
    calls: list[Any] = []
    train = NluModel.train.__func__  # type: ignore[attr-defined]

    def recorded(cls: type[NluModel], *args: Any, **kwargs: Any) -> NluModel:
        calls.append(kwargs.get("extra", ()))
        return train(cls, *args, **kwargs)

    monkeypatch.setattr(NluModel, "train", classmethod(recorded))
    return calls


def test_the_data_alone_does_not_understand_the_message(nlu: NluModel) -> None:
    understood = nlu.understand(MISUNDERSTOOD)
    assert understood.intent != "return_order" or understood.confidence < nlu.threshold


async def test_retrain_prints_both_scores_and_the_next_start_serves_the_new_model(
    make_bot: BotFactory, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await make_bot()
    await _labelled(bot, GOOD_LABELS)
    url = bot.settings.database.url
    done = await asyncio.to_thread(_retrain, url, cache)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert re.fullmatch(r"holdout: tests/nlu_(holdout|eval\.tsv \(stand-in\)): "
                        r"en \d+, pl \d+, ru \d+ messages", out.splitlines()[0])
    assert "operators' labels: 2 (2 not learned by the current model)" in out
    assert out.splitlines()[2].split() == ["model", "en", "pl", "ru", "overall"]
    current, new = _scores(out, "current"), _scores(out, "new")
    assert len(current) == len(new) == 4
    assert current[3] == pytest.approx(sum(current[:3]) / 3, abs=0.002)
    assert new[3] >= current[3] - retrain_module.TOLERANCE - 0.0005  # printed rounded
    assert "the new model is not worse: the bot uses it from its next start" in out
    assert len(_learned_files(cache)) == 1

    calls = _no_training(monkeypatch)
    restarted = await make_bot(database_url=url)
    assert calls == []  # what retrain kept is loaded, not trained again
    understood = restarted.nlu.understand(MISUNDERSTOOD)
    assert understood.intent == "return_order" and understood.confidence >= restarted.nlu.threshold


async def test_a_worse_model_is_not_kept(
    make_bot: BotFactory, cache: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Operators who label the holdout's own messages wrongly make a model worse on it."""
    bot = await make_bot()
    holdout = read_holdout()
    wrong = [(example.text, "out_of_scope" if example.intent != "out_of_scope" else "greet")
             for examples in holdout.values() for example in examples[:40]]
    await _labelled(bot, wrong)
    monkeypatch.setenv("ORDERBOT__DATABASE__URL", bot.settings.database.url)
    assert await _main("nlu", "retrain") == 0
    out = capsys.readouterr().out
    current, new = _scores(out, "current"), _scores(out, "new")
    assert new[3] < current[3]
    assert f"the new model is worse ({new[3]:.3f} < {current[3]:.3f}): the bot keeps the " \
           "current one" in out
    assert _learned_files(cache) == []

    calls = _no_training(monkeypatch)
    restarted = await make_bot(database_url=bot.settings.database.url)
    assert calls == []  # tried already: a restart does not try again
    assert restarted.nlu.labels == frozenset()


async def test_retrain_without_a_database_or_a_holdout_fails(
    make_bot: BotFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    missing = tmp_path / "nowhere" / "orderbot.db"
    monkeypatch.setenv("ORDERBOT__DATABASE__URL", f"sqlite+aiosqlite:///{missing}")
    assert await _main("nlu", "retrain") == 1
    assert f"nlu retrain: no database at {missing}" in capsys.readouterr().err
    assert not missing.exists()

    bot = await make_bot()
    await _labelled(bot, GOOD_LABELS)
    monkeypatch.setenv("ORDERBOT__DATABASE__URL", bot.settings.database.url)
    monkeypatch.setattr(retrain_module, "HOLDOUT_DIR", tmp_path / "no-holdout")
    monkeypatch.setattr(retrain_module, "STAND_IN", tmp_path / "no-holdout.tsv")
    assert await _main("nlu", "retrain") == 1
    assert "nlu retrain: no holdout" in capsys.readouterr().err


async def test_start_up_learns_new_labels_once_and_forgets_removed_ones(
    make_bot: BotFactory, cache: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = await make_bot()
    url = first.settings.database.url
    assert first.nlu.labels == frozenset()
    ids = await _labelled(first, GOOD_LABELS)
    calls = _no_training(monkeypatch)

    learned = await make_bot(database_url=url)  # new labels: retrained before serving
    assert [len(extra) for extra in calls] == [2]
    assert learned.nlu.understand(MISUNDERSTOOD).intent == "return_order"
    assert len(learned.nlu.labels) == 2

    again = await make_bot(database_url=url)  # nothing new: loaded, not trained
    assert len(calls) == 1
    assert again.nlu.labels == learned.nlu.labels
    assert again.nlu.understand(MISUNDERSTOOD).intent == "return_order"

    async with again.units() as uow:  # an operator takes one back
        conversation = await uow.session.scalar(
            TranscriptEntry.__table__.select().with_only_columns(
                TranscriptEntry.conversation_id).where(TranscriptEntry.id == ids[0]))
        await remove_label(uow.labels, conversation, ids[0])
        await uow.commit()
    forgot = await make_bot(database_url=url)  # trained anew without it
    assert [len(extra) for extra in calls] == [2, 1]
    assert len(forgot.nlu.labels) == 1 and forgot.nlu.labels < learned.nlu.labels
    assert len(_learned_files(cache)) == 1


SERVE_LEARNED = """
import asyncio, sys
from dialog.learning import learn_at_start
from dialog.nlu.prepared import prepared_model
from dialog.nlu.retrain import LearnedModels
from dialog.nlu.served import ServedModel
from storage.repositories.unit_of_work import SqlUnitOfWork
from storage.database import Database, make_engine

async def main(url, text):
    database = Database(make_engine(url))
    served = ServedModel(prepared_model())
    await learn_at_start(lambda: SqlUnitOfWork(database), served, LearnedModels(url))
    await database.dispose()
    print(len(served.labels), served.understand(text).intent, "sklearn" in sys.modules)

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def _serve_learned(url: str, cache: Path) -> str:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", SERVE_LEARNED, url, MISUNDERSTOOD], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


async def test_a_start_with_nothing_new_to_learn_imports_no_scikit_learn(
    make_bot: BotFactory, cache: Path
) -> None:
    """Start-up stays fast: the prepared and the learned model are loaded, not trained."""
    bot = await make_bot()
    await _labelled(bot, GOOD_LABELS)
    await asyncio.to_thread(prepared_model)  # what an earlier start of this release kept
    await make_bot(database_url=bot.settings.database.url)  # learns the labels, keeps it
    served = await asyncio.to_thread(_serve_learned, bot.settings.database.url, cache)
    assert served == "2 return_order False"
