"""The signals between payments and the domains it serves (the flows themselves are tested in
tests/payments and tests/intake: a paid booking is confirmed, a paid fee submits, a withdrawal refunds)."""

from __future__ import annotations

import pytest
from blinker import Signal

from incubator.ledger import signals


def test_a_request_nobody_answers_fails_loudly_instead_of_skipping_a_refund():
    with pytest.raises(RuntimeError, match="nothing answers"):
        signals.ask(Signal(), object())


def test_once_the_app_is_built_payments_answers_both_requests(app):
    assert signals.refund_requested.receivers and signals.fee_checkout_requested.receivers
    assert signals.payment_settled.receivers and signals.payment_expired.receivers
