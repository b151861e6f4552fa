"""Who books: applying makes no member; a founder without a startup books nothing; staff book as before;
holds per person are capped and cannot be renewed by letting them run out and booking again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from incubator.accounts.services import create_api_token
from incubator.booking import services
from incubator.booking.models import Booking, BookingStatus
from incubator.core.errors import DomainError
from incubator.core.permissions import Role
from incubator.intake.models import Application
from incubator.orgs.models import Membership
from tests.booking.fixtures import SAIGON, next_weekday_at
from tests.conftest import csrf_token, login
from tests.factories import UserFactory, enrolled, member
from tests.intake.fixtures import make_call


@pytest.fixture()
def api(client, session):
    def _call(user, method, url, **kwargs):
        token, _record = create_api_token(session, user, "t")
        session.flush()
        return client.open(f"/api/v1/orgs/bbi{url}", method=method,
                           headers={"Authorization": f"Bearer {token}"}, **kwargs)

    return _call


def book(api, user, resource, starts, minutes=60):
    return api(user, "POST", "/bookings", json={"resource_id": resource.id, "starts_at": starts.isoformat(),
                                                "ends_at": (starts + timedelta(minutes=minutes)).isoformat()})


def test_an_applicant_is_no_member_yet_reaches_their_application(client, api, world, fablab, session):
    call = make_call(world.org, world.cohort.programme, world.cohort)
    newcomer = UserFactory(name="Park Ji-ho")
    session.flush()
    login(client, newcomer.email)
    call_url = f"/o/bbi/calls/{call.id}"
    response = client.post(f"{call_url}/apply", data={"csrf_token": csrf_token(client, call_url)})
    draft = session.execute(select(Application)).scalar_one()
    assert response.headers["Location"].endswith(f"/applications/{draft.id}/edit")
    assert session.execute(select(Membership).where(Membership.user_id == newcomer.id)).first() is None
    # Their applications are theirs to see and change, without a membership.
    assert client.get(f"/o/bbi/applications/{draft.id}/edit").status_code == 200
    assert "BBI Incubation 2027" in client.get("/o/bbi/applications/mine").get_data(as_text=True)
    assert client.get(f"/o/bbi/applications/{draft.id}").status_code == 302  # to their edit page
    # Signing in again leads them to their applications.
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/o/bbi/applications/mine")})
    assert login(client, newcomer.email).headers["Location"].endswith("/o/bbi/applications/mine")
    # But nothing of the organisation's labs: not a member.
    start = next_weekday_at(1, 10)
    assert client.get("/o/bbi/labs").status_code == 404
    week = f"/o/bbi/resources/{fablab.room.id}/book?start={start.astimezone(SAIGON).isoformat()}"
    token = csrf_token(client, "/o/bbi/applications/mine")
    assert client.post(week, data={"minutes": "60", "csrf_token": token}).status_code == 404
    assert book(api, newcomer, fablab.room, start).status_code == 404
    assert session.execute(select(Booking)).first() is None


def test_a_founder_without_a_startup_cannot_book(client, api, world, fablab, session):
    lone = member(world.org, Role.FOUNDER, name="Lone Founder")
    start = next_weekday_at(1, 10)
    refused = book(api, lone, fablab.room, start)
    assert refused.status_code == 403 and refused.get_json()["code"] == "no_startup"
    login(client, lone.email)
    url = f"/o/bbi/resources/{fablab.room.id}/book?start={start.astimezone(SAIGON).isoformat().replace('+', '%2B')}"
    page = client.get(url)
    assert page.status_code == 403 and "Only founders of a startup" in page.get_data(as_text=True)
    assert client.post(url, data={"minutes": "60", "csrf_token": csrf_token(client, "/o/bbi/bookings")}
                       ).status_code == 403
    assert client.get("/o/bbi/shared-resources").status_code == 403
    # The labs pages show the calendar but offer no booking.
    week = client.get(f"/o/bbi/resources/{fablab.room.id}?week={start.astimezone(SAIGON).date()}")
    assert week.status_code == 200 and '<a class="slot slot-free"' not in week.get_data(as_text=True)
    assert "Shared labs" not in week.get_data(as_text=True)
    assert session.execute(select(Booking)).first() is None
    # A founder of a startup sees free slots to book.
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/o/bbi/bookings")})
    login(client, world.founder.email)
    week = client.get(f"/o/bbi/resources/{fablab.room.id}?week={start.astimezone(SAIGON).date()}")
    assert '<a class="slot slot-free"' in week.get_data(as_text=True) and "Shared labs" in week.get_data(as_text=True)


def test_staff_book_without_a_startup(api, world, fablab, session):
    staff = member(world.org, Role.STAFF)
    made = book(api, staff, fablab.room, next_weekday_at(1, 10))
    assert made.status_code == 201 and made.get_json()["status"] == "confirmed"
    assert book(api, world.manager, fablab.room, next_weekday_at(2, 10)).status_code == 201


def test_holds_are_capped_per_person(app, api, world, fablab, session):
    starts = [next_weekday_at(day, 10) for day in range(5)]
    for start in starts[:3]:
        assert book(api, world.founder, fablab.room, start).get_json()["status"] == "awaiting_payment"
    refused = book(api, world.founder, fablab.room, starts[3])
    assert refused.status_code == 409 and refused.get_json()["code"] == "too_many_holds"
    assert book(api, world.other_founder, fablab.room, starts[3]).status_code == 201  # per person
    first = session.execute(select(Booking).where(Booking.user_id == world.founder.id)
                            .order_by(Booking.starts_at)).scalars().first()
    assert api(world.founder, "POST", f"/bookings/{first.id}/cancel").status_code == 200
    assert book(api, world.founder, fablab.room, starts[4]).status_code == 201  # a place is free again
    before, app.config["MAX_HOLDS_PER_USER"] = app.config["MAX_HOLDS_PER_USER"], 5
    try:
        assert book(api, world.founder, fablab.room, starts[3] + timedelta(hours=2)).status_code == 201
    finally:
        app.config["MAX_HOLDS_PER_USER"] = before
    # Bookings covered by credits hold nothing.
    assert book(api, world.founder, fablab.laser, starts[0]).get_json()["status"] == "confirmed"


def test_a_hold_cannot_be_renewed_by_letting_it_run_out(app, api, world, fablab, session):
    start = next_weekday_at(1, 10)
    held = book(api, world.founder, fablab.room, start).get_json()
    booking = session.get(Booking, held["id"])
    later = booking.hold_expires_at + timedelta(minutes=1)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert services.expire_holds(session, fablab.room.id, now=later) == 1
        with pytest.raises(DomainError) as refused:  # the same person, the same time: no new hold
            services.create_booking(session, world.org, fablab.room, world.founder, start,
                                    start + timedelta(hours=1), now=later)
        assert refused.value.code == "hold_renewal" and refused.value.status == 409
        with pytest.raises(DomainError):  # nor an overlapping one
            services.create_booking(session, world.org, fablab.room, world.founder, start + timedelta(minutes=30),
                                    start + timedelta(minutes=90), now=later)
        # Another time is fine, and so is the same time once the cool-down has passed.
        services.create_booking(session, world.org, fablab.room, world.founder, start + timedelta(hours=2),
                                start + timedelta(hours=3), now=later)
        again = services.create_booking(session, world.org, fablab.room, world.founder, start,
                                        start + timedelta(hours=1), now=later + timedelta(hours=2))
        assert again.status == BookingStatus.AWAITING_PAYMENT
    session.flush()


def test_cancelling_a_hold_and_booking_again_does_not_renew_it(api, world, fablab, session):
    start = next_weekday_at(1, 10)
    held = book(api, world.founder, fablab.room, start).get_json()
    assert api(world.founder, "POST", f"/bookings/{held['id']}/cancel").status_code == 200
    again = book(api, world.founder, fablab.room, start)
    assert again.status_code == 409 and again.get_json()["code"] == "hold_renewal"
    assert book(api, world.other_founder, fablab.room, start).status_code == 201  # someone else's chance
    # A confirmed booking (credits) cancelled and booked again is no hold: allowed.
    laser = book(api, world.founder, fablab.laser, start).get_json()
    assert api(world.founder, "POST", f"/bookings/{laser['id']}/cancel").status_code == 200
    assert book(api, world.founder, fablab.laser, start).status_code == 201


def test_accepting_an_application_still_makes_the_team_founders(session, world):
    from incubator.intake.models import Stage
    from tests.intake.fixtures import application

    call = make_call(world.org, world.cohort.programme, world.cohort)
    newcomer = UserFactory()
    draft = application(call, newcomer, Stage.INTERVIEW)
    assert session.execute(select(Membership).where(Membership.user_id == newcomer.id)).first() is None
    from incubator.intake import decisions

    membership = session.execute(select(Membership).where(Membership.user_id == world.manager.id)).scalar_one()
    decisions.decide(session, draft, world.manager, membership, "accepted", world.cohort)
    role = session.execute(select(Membership.role).where(Membership.user_id == newcomer.id)).scalar_one()
    assert role == "founder"
    assert enrolled  # (the factory the other tests use for startups)


def test_an_applicant_sees_the_payment_of_their_fee_without_being_a_member(client, world, session):
    from incubator.intake.models import Stage
    from incubator.ledger.models import Payment, PaymentPurpose, PaymentStatus
    from tests.intake.fixtures import application

    call = make_call(world.org, world.cohort.programme, world.cohort)
    newcomer, stranger = UserFactory(), UserFactory()
    draft = application(call, newcomer, Stage.DRAFT)
    payment = Payment(org_id=world.org.id, purpose=PaymentPurpose.APPLICATION_FEE, application_id=draft.id,
                      user_id=newcomer.id, description="Application fee", amount=200_000, currency="VND",
                      status=PaymentStatus.PAID, destination_account="acct_test", idempotency_key="fee-1")
    session.add(payment)
    session.flush()
    assert client.get(f"/o/bbi/payments/{payment.id}").status_code == 302  # sign in first
    login(client, newcomer.email)
    page = client.get(f"/o/bbi/payments/{payment.id}")
    assert page.status_code == 200 and "/o/bbi/applications/mine" in page.get_data(as_text=True)
    assert client.get(f"/o/bbi/payments/{payment.id}/receipt.pdf").mimetype == "application/pdf"
    assert payment.receipt_number in client.get("/o/bbi/receipts").get_data(as_text=True)
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/o/bbi/receipts")})
    login(client, stranger.email)
    assert client.get(f"/o/bbi/payments/{payment.id}").status_code == 404
    assert client.get(f"/o/bbi/payments/{payment.id}/receipt.pdf").status_code == 404
