"""Natural-language understanding: intent, language and entities of one customer message.

Train once at start-up with ``NluModel.train()`` (about a second), then call
``model.understand(text)`` per message; compare ``confidence`` with ``model.threshold``.
"""

from __future__ import annotations

from dialog.nlu.classifier import NluModel, Understanding
from dialog.nlu.entities import Entities, extract_entities
from dialog.nlu.evaluation import evaluate
from dialog.nlu.labels import INTENTS, LANGUAGES

__all__ = [
    "INTENTS",
    "LANGUAGES",
    "Entities",
    "NluModel",
    "Understanding",
    "evaluate",
    "extract_entities",
]
