"""Outbound webhooks: organisations subscribe an endpoint to events and receive signed JSON POSTs.

Domains call ``incubator.webhooks.services.emit(session, org_id, type, data)`` in the transaction of
the change; this package imports no other domain (the domains import it, as they do the ledger).
"""
