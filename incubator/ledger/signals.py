"""What happens to a payment, told to the domains that care, so that payments imports none of them.

Payments sends the events; booking and intake connect to them (a booking is confirmed or its hold
released, an application is submitted). Every receiver gets the payment as sender and the request's
``session`` as a keyword, and runs inside the same transaction: a receiver that raises fails the whole
change, exactly as a direct call would.

Two requests go the other way, from a domain to payments, which answers them: ``refund_requested``
(the money of a settled payment goes back: a withdrawn application, a payment that came too late for
its booking) and ``fee_checkout_requested`` (the apply page opens the checkout of an application's fee).
``ask`` sends a request and fails loudly if nothing answers it, so that no refund is silently skipped.
"""

from __future__ import annotations

from typing import Any

from blinker import Namespace, Signal

signals = Namespace()

# payment.status just became paid: the thing it pays for may now go ahead (or ask for a refund).
payment_settled = signals.signal("payment-settled")
# The checkout ran out unpaid: whatever was held for it can be released.
payment_expired = signals.signal("payment-expired")
# Money of the payment went back (``amount``: this refund, minor units); payment.status says how much is left.
payment_refunded = signals.signal("payment-refunded")

# Requests answered by payments (sender: the payment, or the application for a fee checkout).
refund_requested = signals.signal("refund-requested")
fee_checkout_requested = signals.signal("fee-checkout-requested")


def ask(signal: Signal, sender: Any, **kwargs: Any) -> Any:
    """Send a request and answer what its one receiver returned; raise if no receiver is connected."""
    answers = signal.send(sender, **kwargs)
    if not answers:
        raise RuntimeError(f"nothing answers {getattr(signal, 'name', signal)!r}: is incubator.payments loaded?")
    return answers[0][1]
