"""Operators' labels in the database -> the model the bot serves: at start-up (new labels:
retrain with the gate, before serving) and `python bot.py nlu retrain` (docs/deploy.md).
The learning itself is dialog/nlu/retrain.py."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from dialog.intent_labels import IntentLabels
from dialog.nlu.prepared import prepared_model
from dialog.nlu.retrain import (
    HoldoutMissing,
    Learned,
    LearnedModels,
    OperatorLabel,
    describe_holdout,
    learn,
    read_holdout,
    retrain,
)
from dialog.nlu.served import ServedModel
from dialog.unit_of_work import Repositories, UnitOfWorkFactory
from storage.upgrade import DatabaseError, in_migrated_database

log = logging.getLogger(__name__)


async def operator_labels(labels: IntentLabels) -> list[OperatorLabel]:
    return [OperatorLabel(label.message_id, label.intent, label.text)
            for label in await labels.every()]


async def learn_at_start(
    units: UnitOfWorkFactory, served: ServedModel, store: LearnedModels
) -> None:
    """Serve what was learned from the labels; retrain first when some are new (no labels,
    or none new: no training, and no scikit-learn)."""
    async with units() as uow:
        labels = await operator_labels(uow.labels)
    base = await served.ready()  # on a first start, trained meanwhile by another process
    learned, retraining = await asyncio.to_thread(learn, base, labels, store)
    served.serve(learned)
    if retraining is not None:
        outcome = "learned" if retraining.accepted else "not learned (the new model is worse)"
        log.info("NLU: %d operators' labels %s: holdout %.3f -> %.3f", len(labels), outcome,
                 retraining.current.overall, retraining.candidate.overall)


def add_commands(commands: Any) -> None:
    nlu = commands.add_parser("nlu", help="the intent classifier")
    actions = nlu.add_subparsers(dest="nlu_command", required=True)
    actions.add_parser("retrain", help="learn from the operators' labels; keep the new model "
                                       "only if it is not worse on the holdout")


def run_retrain(
    database_url: str, join: Callable[[Any], Repositories], out: IO[str] | None = None
) -> int:
    """Exit codes: 0 retrained (the new model kept or not), 1 no database or no holdout.
    join: the repositories of the command's one transaction (composition/ wires the SQL ones)."""
    out = out or sys.stdout
    missing = _missing_sqlite_file(database_url)
    if missing is not None:
        print(f"nlu retrain: no database at {missing}", file=sys.stderr)
        return 1
    try:
        labels = asyncio.run(in_migrated_database(
            database_url, lambda session: operator_labels(join(session).labels)))
    except (DatabaseError, OSError) as error:
        print(f"nlu retrain: cannot read the labels from the database ({error})",
              file=sys.stderr)
        return 1
    try:
        holdout = read_holdout()
    except (HoldoutMissing, ValueError) as error:
        print(f"nlu retrain: {error}", file=sys.stderr)
        return 1
    print(f"holdout: {describe_holdout(holdout)} messages", file=out)
    if not labels:
        print("no operators' labels yet: nothing to learn; the bot keeps its model", file=out)
        return 0
    store = LearnedModels(database_url)
    current, _ = store.current(prepared_model(), labels)
    new = len({label.key for label in labels} - current.labels)
    print(f"operators' labels: {len(labels)} ({new} not learned by the current model)",
          file=out)
    retraining = retrain(current.model, labels, holdout)
    print(retraining.table(), file=out)
    if retraining.accepted:
        keys = frozenset(label.key for label in labels)
        store.record(labels, Learned(retraining.model, keys), retraining.model)
        print("the new model is not worse: the bot uses it from its next start", file=out)
    else:
        store.record(labels, current)
        print(f"the new model is worse ({retraining.candidate.overall:.3f} < "
              f"{retraining.current.overall:.3f}): the bot keeps the current one", file=out)
    return 0


def _missing_sqlite_file(url: str) -> Path | None:
    prefix = "sqlite+aiosqlite:///"
    if url.startswith(prefix) and url[len(prefix):] not in ("", ":memory:"):
        path = Path(url[len(prefix):])
        return None if path.is_file() else path
    return None
