"""Every flow, built in one place with what it needs: flows never import one another."""

from __future__ import annotations

from dialog.flows.availability import AvailabilityFlow
from dialog.flows.base import Flow
from dialog.flows.cancel import CancelFlow
from dialog.flows.confirm import ConfirmFlow
from dialog.flows.delivery import DeliveryFlow
from dialog.flows.handoff import HandoffFlow
from dialog.flows.link import LinkFlow
from dialog.flows.payment import PaymentFlow
from dialog.flows.rating import RatingFlow, offer_on_goodbye
from dialog.flows.returns import ReturnFlow
from dialog.flows.smalltalk import SmalltalkFlow
from dialog.flows.status import StatusFlow


def all_flows() -> list[Flow]:
    status = StatusFlow()
    return [
        SmalltalkFlow(say_goodbye=offer_on_goodbye), status, HandoffFlow(),
        LinkFlow(tell_status=status.on_action), AvailabilityFlow(), PaymentFlow(),
        ReturnFlow(), ConfirmFlow(), DeliveryFlow(), CancelFlow(), RatingFlow(),
    ]
