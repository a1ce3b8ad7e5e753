"""The model the bot answers with: the prepared one, replaced at start by the one learned from
operators' labels when there is one (dialog/nlu/retrain.py).

The dialog manager is built before the database can be read; it gets this stand-in, whose
model start-up may then replace, once, before any message is understood.
"""

from __future__ import annotations

from dialog.nlu.classifier import NluModel, Understanding
from dialog.nlu.retrain import Learned


class ServedModel(NluModel):
    # Not NluModel.__init__: this holds a model instead of being one.
    def __init__(self, base: NluModel) -> None:  # noqa: PLW0231 (see above)
        self.base = base  # trained on the project's data alone
        self.learned = Learned(base)

    @property  # the served model's, read at every message
    def threshold(self) -> float:  # type: ignore[override]  # NluModel's is a plain attribute
        return self.learned.model.threshold

    @property
    def labels(self) -> frozenset[str]:
        """The keys of the operators' labels the served model learned (OperatorLabel.key)."""
        return self.learned.labels

    def serve(self, learned: Learned) -> None:
        self.learned = learned

    def understand(self, text: str) -> Understanding:
        return self.learned.model.understand(text)
