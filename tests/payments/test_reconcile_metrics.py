"""The reconciliation job's outcomes reach /metrics: each payment read back, by its status afterwards."""

from __future__ import annotations

from datetime import timedelta

from incubator.ledger.models import Payment
from tests.metrics_helpers import TOKEN, scrape, value
from tests.payments.fixtures import book_room

RECONCILED = "incubator_payment_reconciliations_total"


def test_each_payment_read_back_is_counted_by_outcome(client, session, app, pay_api, paying, fablab, fake,
                                                     monkeypatch):
    from incubator.payments.gateway import GatewayError
    from incubator.payments.tasks import reconcile_payments

    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)
    checkouts = []
    for hour, founder in zip((10, 14), (paying.founder, paying.other_founder), strict=True):
        booking = book_room(pay_api, founder, fablab.room, hour=hour)
        checkouts.append(pay_api(founder, "POST", f"/bookings/{booking['id']}/checkout").get_json())
    for checkout in checkouts:
        fake.complete(checkout["session_id"])
        session.get(Payment, checkout["payment_id"]).created_at -= timedelta(minutes=3)
    fake.sent.clear()  # no webhook arrived
    session.flush()
    broken = checkouts[0]
    real_get = fake.get_checkout

    def get_checkout(session_id):
        if session_id == broken["session_id"]:
            raise GatewayError("Stripe is unreachable for this one")
        return real_get(session_id)

    monkeypatch.setattr(fake, "get_checkout", get_checkout)
    before = scrape(client)
    with app.app_context():
        assert reconcile_payments.call_local() == 1
    after = scrape(client)
    assert value(after, RECONCILED, outcome="paid") - value(before, RECONCILED, outcome="paid") == 1
    assert value(after, RECONCILED, outcome="error") - value(before, RECONCILED, outcome="error") == 1

    monkeypatch.setattr(fake, "get_checkout", real_get)  # the gateway answers again: the next run reads it back
    with app.app_context():
        assert reconcile_payments.call_local() == 1
    again = scrape(client)
    assert value(again, RECONCILED, outcome="paid") - value(before, RECONCILED, outcome="paid") == 2
    assert value(again, RECONCILED, outcome="error") - value(before, RECONCILED, outcome="error") == 1
