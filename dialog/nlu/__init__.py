"""Natural-language understanding: intent, language and entities of one customer message.

    model = NluModel.train()          # at start-up, well under a second
    model.understand("gdzie jest moja paczka A-1001")
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
