"""Webhooks to the shop (docs/webhooks.md): every change the bot makes, as a signed POST.

models.py     the webhook_deliveries table: the durable outbox of webhooks
recorder.py   WebhookLog, the orders.changes.ChangeLog that writes a row in the change's
              own transaction
sender.py     WebhookSender: claims due rows with a lease, signs, POSTs, retries
deliveries.py what admins see and do (the console's deliveries page), /health's figure
"""
