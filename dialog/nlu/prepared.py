"""A trained model kept between starts: start-up without training and without scikit-learn.

Training takes a second or two and importing scikit-learn and SciPy about as long again; on a
restart neither is needed when nothing they depend on changed. The model is saved under the
user's cache folder, named by a fingerprint of the training data and of this package's code,
so that changed data or code trains anew (a stale model is never used). A missing, unreadable
or unwritable cache only means training at start, as before.

On a first start the training runs in a process of its own (`start_training`), begun before
the bot imports its web stack, migrates its database and seeds the demo shop, so those run on
the other core meanwhile; the bot waits for it only before it understands its first message.
That process also keeps scikit-learn and SciPy (tens of megabytes) out of the bot's memory.

    python -m dialog.nlu.prepared [--cache FOLDER]    train and keep the model (if not kept)
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import pickle
import subprocess
import sys
from pathlib import Path

from dialog.nlu.classifier import DATA_DIR, NluModel

log = logging.getLogger(__name__)

PACKAGE = Path(__file__).parent
ROOT = PACKAGE.parent.parent  # the folder `python -m dialog.nlu.prepared` runs in


def default_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "orderbot"


def model_path(cache: Path | None = None) -> Path:
    return (cache or default_cache()) / f"nlu-{fingerprint()}.pickle"


class Training:
    """The model being trained by a process of its own; `model()` waits for it."""

    def __init__(self, path: Path, process: subprocess.Popen[bytes] | None) -> None:
        self.path = path
        self._process = process

    @property
    def running(self) -> bool:
        """Not waited for yet (the process may have ended already)."""
        return self._process is not None

    def model(self) -> NluModel:
        """The trained model; trained here if the other process could not (its failure was
        logged to stderr): a first start is slower then, never without a model."""
        if self._process is not None:
            code = self._process.wait()
            self._process = None
            if code != 0:
                log.warning("NLU training process failed (exit %d); training here", code)
        return prepared_model(self.path.parent)


# The training this process began: the composition root begins it before its imports, the
# bootstrap asks again later and must get the same one, not a second training process.
_begun: list[Training] = []


def start_training(cache: Path | None = None) -> Training:
    """Begin training in another process unless the model is kept already (then loading it is
    left to `Training.model`) or this process began it already. Cheap: reads the training
    data and code for the fingerprint."""
    path = model_path(cache)
    for training in _begun:
        if training.path == path and training.running:
            return training
    if path.exists():
        return Training(path, None)
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "dialog.nlu.prepared", "--cache", str(path.parent)],
            cwd=ROOT, stdin=subprocess.DEVNULL,
        )
    except OSError as error:  # no process to spare: train in this one when needed
        log.warning("NLU training process not started (%s)", error)
        return Training(path, None)
    _begun[:] = [Training(path, process)]
    return _begun[0]


def prepared_model(cache: Path | None = None) -> NluModel:
    """The model trained on the current data and code: loaded, or trained and saved."""
    path = model_path(cache)
    model = _load(path)
    if model is not None:
        return model
    model = NluModel.train()
    _keep(model, path)
    return model


def _load(path: Path) -> NluModel | None:
    try:
        with path.open("rb") as file:
            model = pickle.load(file)  # our own file, in the user's own cache folder
        if isinstance(model, NluModel):
            log.info("NLU model loaded from %s", path)
            return model
    except FileNotFoundError:
        pass
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as error:
        log.warning("NLU model cache %s unreadable (%s); training", path, error)
    return None


def _keep(model: NluModel, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
        partial.replace(path)  # whole or not at all, also with two processes starting
    except OSError as error:
        log.warning("NLU model not cached in %s (%s)", path.parent, error)


def fingerprint() -> str:
    """Changes with any training file or any of this package's modules."""
    digest = hashlib.sha256()
    for source in sorted([*DATA_DIR.rglob("*"), *PACKAGE.glob("*.py")]):
        if source.is_file():
            digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dialog.nlu.prepared")
    parser.add_argument("--cache", type=Path, default=None, help="the model cache folder")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    prepared_model(args.cache)
    return 0


if __name__ == "__main__":
    code = main()
    # The bot waits for this process to end: the interpreter's own shutdown (freeing
    # scikit-learn's, SciPy's and the model's objects one by one, ~0.2 s) is skipped. The model
    # is on disk already (written whole, then renamed); only the log needs flushing.
    logging.shutdown()
    os._exit(code)
