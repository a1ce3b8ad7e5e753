"""Every flow, registered in one place."""

from __future__ import annotations

from dialog.flows.base import Flow
from dialog.flows.handoff import HandoffFlow
from dialog.flows.link import LinkFlow
from dialog.flows.smalltalk import SmalltalkFlow
from dialog.flows.status import StatusFlow


def all_flows() -> list[Flow]:
    return [SmalltalkFlow(), StatusFlow(), HandoffFlow(), LinkFlow()]
