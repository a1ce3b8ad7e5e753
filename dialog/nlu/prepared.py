"""A trained model kept between starts: start-up without training and without scikit-learn.

Training takes a second or two and importing scikit-learn and SciPy about as long again; on a
restart neither is needed when nothing they depend on changed. The model is saved under the
user's cache folder, named by a fingerprint of the training data and of this package's code,
so that changed data or code trains anew (a stale model is never used). A missing, unreadable
or unwritable cache only means training at start, as before.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
from pathlib import Path

from dialog.nlu.classifier import DATA_DIR, NluModel

log = logging.getLogger(__name__)

PACKAGE = Path(__file__).parent


def default_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "orderbot"


def prepared_model(cache: Path | None = None) -> NluModel:
    """The model trained on the current data and code: loaded, or trained and saved."""
    folder = cache or default_cache()
    path = folder / f"nlu-{fingerprint()}.pickle"
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
    model = NluModel.train()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
        partial.replace(path)  # whole or not at all, also with two processes starting
    except OSError as error:
        log.warning("NLU model not cached in %s (%s)", folder, error)
    return model


def fingerprint() -> str:
    """Changes with any training file or any of this package's modules."""
    digest = hashlib.sha256()
    for source in sorted([*DATA_DIR.rglob("*"), *PACKAGE.glob("*.py")]):
        if source.is_file():
            digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()[:16]
