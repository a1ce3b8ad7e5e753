"""The closed sets of labels the NLU layer can return."""

from __future__ import annotations

INTENTS: tuple[str, ...] = (
    "greet",
    "goodbye",
    "thanks",
    "affirm",
    "deny",
    "order_status",
    "cancel_order",
    "change_delivery",
    "return_order",
    "human",
    "product_availability",
    "payment",
    "out_of_scope",
)

LANGUAGES: tuple[str, ...] = ("en", "pl", "ru")

# Returned when a message carries no intent of its own (empty, or only an order number,
# e-mail or postcode); always paired with confidence 0.0.
NO_INTENT = "out_of_scope"
