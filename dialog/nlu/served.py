"""The model the bot answers with: the prepared one, replaced at start by the one learned from
operators' labels when there is one (dialog/nlu/retrain.py).

The dialog manager is built before the database can be read; it gets this stand-in, whose
model start-up may then replace, once, before any message is understood. On a first start the
prepared model is still being trained in a process of its own (prepared.py `Training`) while
the rest starts: `load_soon()` begins waiting for it, and loading it, in a thread as start-up
begins, and `ready()` waits for that off the event loop.
"""

from __future__ import annotations

import asyncio
import threading

from dialog.nlu.classifier import NluModel, Understanding
from dialog.nlu.prepared import Training
from dialog.nlu.retrain import Learned


class ServedModel(NluModel):
    # Not NluModel.__init__: this holds a model instead of being one.
    def __init__(self, base: NluModel | Training) -> None:  # noqa: PLW0231 (see above)
        self._training = base if isinstance(base, Training) else None
        self._base = None if isinstance(base, Training) else base
        self._learned = None if self._base is None else Learned(self._base)
        self._loading: asyncio.Future[NluModel] | None = None
        self._loading_lock = threading.Lock()  # the loading thread's, and a caller's below

    def load_soon(self) -> None:
        """Begin waiting for the prepared model, and loading it, in a thread now: start-up goes
        on meanwhile (migrations, the demo seed), and `ready()` then finds it loaded."""
        if self._base is None:
            self._load()

    async def ready(self) -> NluModel:
        """The prepared model, once trained (waited for in a thread: the loop keeps running)."""
        if self._base is None:
            return await asyncio.shield(self._load())
        return self._base

    def _load(self) -> asyncio.Future[NluModel]:
        if self._loading is None:  # one load, whoever asks first
            self._loading = asyncio.ensure_future(asyncio.to_thread(self._prepared))
        return self._loading

    @property
    def base(self) -> NluModel:
        """Trained on the project's data alone (waits for the training if it still runs)."""
        return self._prepared()

    @property
    def learned(self) -> Learned:
        if self._learned is None:
            self._learned = Learned(self._prepared())
        return self._learned

    def _prepared(self) -> NluModel:
        if self._base is None:
            with self._loading_lock:
                if self._base is None:
                    assert self._training is not None  # one of the two is set in __init__
                    self._base = self._training.model()
                    self._training = None
        return self._base

    @property  # the served model's, read at every message
    def threshold(self) -> float:  # type: ignore[override]  # NluModel's is a plain attribute
        return self.learned.model.threshold

    @property
    def labels(self) -> frozenset[str]:
        """The keys of the operators' labels the served model learned (OperatorLabel.key)."""
        return self.learned.labels

    def serve(self, learned: Learned) -> None:
        self._learned = learned

    def understand(self, text: str) -> Understanding:
        learned = self._learned  # read at every message: no property on the way once set
        return (learned or self.learned).model.understand(text)
