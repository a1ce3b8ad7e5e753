"""The adapters and use cases a turn's shop (dialog/flows/shop.py) and the console's order
actions use, one typed field each: the composition root builds it once and passes it by
constructor.

Not frozen: its users read a field when they use it, so a test that assigns one
(`bot.services.payments = RefusingPayments()`) is heard at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialog.proactive import ProactiveMessages
from dialog.proof_limits import ProofLimits
from orders.billing import Invoices
from orders.confirmation import ConfirmationSettings
from orders.credit_check import CreditCheck
from orders.inventory import Inventory
from orders.payments import Payments
from orders.returns import ReturnDesk
from orders.tracking import Courier
from orders.vouchers import Vouchers


@dataclass(eq=False)
class ShopServices:
    payments: Payments
    inventory: Inventory
    credit_check: CreditCheck
    vouchers: Vouchers
    courier: Courier
    confirmation: ConfirmationSettings  # delivery slots, reminder times, the clock
    returns: ReturnDesk
    invoices: Invoices
    proactive: ProactiveMessages  # codes and news to the customer, in their own conversation
    proof_limits: ProofLimits
