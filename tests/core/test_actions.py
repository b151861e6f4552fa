"""A refusal leaves nothing behind (``core.actions``): the page flashes the refusal and redirects, and
neither a row nor a mail of what the service did before it refused is kept."""

from __future__ import annotations

import pytest
from flask import Blueprint, flash, redirect
from sqlalchemy import func, select

from incubator.booking.models import Booking, BookingStatus
from incubator.cohorts.models import CheckIn, Startup
from incubator.core import mail
from incubator.core.actions import attempt, savepoint
from incubator.core.errors import DomainError
from incubator.core.permissions import Role
from incubator.core.tenancy import ALL_ORGS
from incubator.extensions import db
from incubator.intake.models import Stage
from incubator.ledger.models import LedgerEntry, LedgerKind, Payment
from incubator.orgs.models import Invitation, Organisation
from incubator.payments.gateway import GatewayError
from tests.conftest import csrf_token
from tests.factories import member
from tests.intake.fixtures import application
from tests.payments.fixtures import book_room, deliver

# -- a route made for the test: it flushes a row and queues a mail, then refuses ----------------------


@pytest.fixture(scope="module")
def probe_app(database_url):
    """An app of its own (routes cannot be added to one that has served requests) with two routes that
    create an organisation and mail about it, one then refusing."""
    from incubator import create_app
    from incubator.core.mail import send_mail
    from incubator.orgs import services as org_services

    application_ = create_app({"DATABASE_URL": database_url, "WTF_CSRF_ENABLED": False})
    bp = Blueprint("probe", __name__)

    def make(slug: str) -> None:
        org_services.create_org(db.session, slug=slug, name=slug, kind="incubator", timezone="Asia/Ho_Chi_Minh",
                                currency="VND", default_locale="vi")
        send_mail(db.session, f"owner@{slug}.vn", f"Welcome to {slug}", "Hello")

    @bp.route("/probe/<slug>", methods=["POST"])
    def probe(slug: str):
        with attempt(flash_error=True) as outcome:
            make(slug)
            if slug.startswith("refused"):
                raise DomainError("Refused after the flush.")
        if outcome.ok and slug.startswith("late"):
            raise DomainError("Refused once the savepoint was released.")
        if outcome.ok:
            flash("Made.", "success")
        return redirect("/")

    application_.register_blueprint(bp)
    yield application_
    application_.extensions["db_engine"].dispose()


@pytest.fixture()
def probe(probe_app):
    connection = probe_app.extensions["db_engine"].connect()
    outer = connection.begin()
    probe_app.extensions["db_test_connection"] = connection
    checker = db.new_session(probe_app)
    checker.info[ALL_ORGS] = True
    mail.outbox.clear()
    try:
        yield probe_app.test_client(), checker
    finally:
        checker.close()
        probe_app.extensions.pop("db_test_connection", None)
        outer.rollback()
        connection.close()


def _orgs(session, slug: str) -> int:
    return session.scalar(select(func.count()).select_from(Organisation).where(Organisation.slug == slug))


def test_a_refusal_after_a_flush_leaves_no_row_and_no_mail_once_the_page_redirects(probe):
    client, session = probe
    answer = client.post("/probe/refused-one")
    assert answer.status_code == 302  # a redirect: the request commits
    assert _orgs(session, "refused-one") == 0
    assert mail.outbox == []
    with client.session_transaction() as cookie:
        assert ("danger", "Refused after the flush.") in cookie["_flashes"]


def test_what_came_before_the_refusal_in_the_request_is_kept(probe):
    client, session = probe
    assert client.post("/probe/kept-one").status_code == 302
    assert _orgs(session, "kept-one") == 1
    assert [m.subject for m in mail.outbox] == ["Welcome to kept-one"]


def test_a_request_refused_after_a_released_savepoint_sends_nothing(probe):
    """SQLAlchemy runs ``after_commit`` when a savepoint is released too: the mail waits for the request."""
    client, session = probe
    assert client.post("/probe/late-one").status_code == 400  # a refusal the page does not catch
    assert _orgs(session, "late-one") == 0
    assert mail.outbox == []


def test_a_job_queued_in_a_savepoint_runs_only_when_the_request_commits(app, connection):
    from incubator.core.jobs import after_commit

    ran: list[str] = []
    with app.test_request_context():
        with savepoint(db.session):
            after_commit(db.session, ran.append, "kept")
        assert ran == []  # released, not committed
        with attempt():
            after_commit(db.session, ran.append, "refused")
            raise DomainError("no")
        db.session.commit()
    assert ran == ["kept"]


def test_savepoint_rolls_back_and_lets_the_refusal_go_on(app, connection, session):
    from incubator.core.mail import send_mail
    from incubator.orgs import services as org_services

    with app.test_request_context():
        with pytest.raises(DomainError), savepoint(db.session):
            org_services.create_org(db.session, slug="inner-one", name="Inner")
            send_mail(db.session, "owner@inner.vn", "Welcome", "Hello")
            raise DomainError("no")
        assert db.session.scalar(select(func.count()).select_from(Organisation)
                                 .where(Organisation.slug == "inner-one")) == 0
        db.session.commit()
    assert mail.outbox == []


# -- real pages ---------------------------------------------------------------------------------------


def _paid_room(client, pay_api, paying, fablab, fake):
    booking = book_room(pay_api, paying.founder, fablab.room, hour=14)
    checkout = pay_api(paying.founder, "POST", f"/bookings/{booking['id']}/checkout").get_json()
    fake.complete(checkout["session_id"])
    deliver(client, fake)
    return booking["id"], checkout["payment_id"]


def test_cancelling_on_the_page_when_the_refund_fails_keeps_the_booking(client, session, pay_api, paying, fablab,
                                                                         fake, sign_in, monkeypatch):
    booking_id, payment_id = _paid_room(client, pay_api, paying, fablab, fake)

    def refuse(*_args, **_kwargs):
        raise GatewayError("Stripe is unreachable")

    monkeypatch.setattr(fake, "refund", refuse)
    sign_in(paying.founder)
    answer = client.post(f"/o/bbi/bookings/{booking_id}/cancel",
                         data={"csrf_token": csrf_token(client, "/o/bbi/bookings")}, follow_redirects=True)
    assert "The refund could not be made, so the booking was not cancelled" in answer.get_data(as_text=True)
    session.expire_all()
    assert session.get(Booking, booking_id).status == BookingStatus.CONFIRMED
    assert session.get(Payment, payment_id).status == "paid"
    assert session.scalars(select(LedgerEntry).where(LedgerEntry.kind == LedgerKind.REFUND)).all() == []


def _full_cohort_with_a_team(intake):
    intake.cohort.capacity = 1
    first = application(intake.call, member(intake.org, Role.FOUNDER), Stage.IN_REVIEW,
                        answers={"startup_name": "First", "pitch": "p", "country": "vn"})
    target = application(intake.call, intake.founder, Stage.IN_REVIEW, answers={
        "startup_name": "Second", "pitch": "p", "country": "vn",
        "team": [{"name": "Khoa Tran", "email": "khoa@agri.vn", "role": "CEO"}]})
    return first, target


def _no_invitation_for_the_team(session):
    assert session.scalars(select(Invitation.email).execution_options(all_orgs=True)
                           .where(Invitation.email == "khoa@agri.vn")).all() == []
    assert not [m for m in mail.outbox if "khoa@agri.vn" in m.to]


def test_accepting_into_a_full_cohort_invites_nobody(client, intake, session, sign_in):
    first, target = _full_cohort_with_a_team(intake)
    sign_in(intake.manager)
    for app_ in (first, target):
        url = f"/o/bbi/applications/{app_.id}"
        answer = client.post(f"{url}/decide", data={"csrf_token": csrf_token(client, url), "decision": "accepted",
                                                    "cohort_id": str(intake.cohort.id)})
        assert answer.status_code == 302
    session.expire_all()
    assert target.stage == Stage.IN_REVIEW
    assert session.execute(select(Startup.name)).scalars().all() == ["First"]
    _no_invitation_for_the_team(session)


def test_a_bulk_decision_on_a_full_cohort_invites_nobody(client, intake, session, sign_in):
    first, target = _full_cohort_with_a_team(intake)
    sign_in(intake.manager)
    listing = f"/o/bbi/calls/{intake.call.id}/applications"
    answer = client.post(f"/o/bbi/calls/{intake.call.id}/bulk", data={
        "csrf_token": csrf_token(client, listing), "action": "decide", "decision": "accepted",
        "cohort_id": str(intake.cohort.id), "application_id": [str(first.id), str(target.id)]},
        follow_redirects=True)
    assert "The cohort is full" in answer.get_data(as_text=True)
    session.expire_all()
    assert first.stage == Stage.ACCEPTED and target.stage == Stage.IN_REVIEW
    _no_invitation_for_the_team(session)


def test_a_check_in_refused_after_it_was_flushed_leaves_no_check_in(client, session, world, sign_in):
    """The check-in is flushed, then its evidence file is refused: the page answers 422 and keeps nothing."""
    import io

    from incubator.cohorts.checkins import add_months
    from tests.cohorts.fixtures import THIS_MONTH, kpis

    sign_in(world.founder)
    url = f"/o/bbi/startups/{world.startup.id}/checkins/new"
    data = {"period": add_months(THIS_MONTH, -1).strftime("%Y-%m"), **kpis(), "notes": "",
            "csrf_token": csrf_token(client, url), "evidence_file": (io.BytesIO(b"MZ"), "evidence.exe")}
    answer = client.post(url, data=data, content_type="multipart/form-data")
    assert answer.status_code == 422
    assert "Upload a PDF, a spreadsheet or an image." in answer.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(CheckIn)) == 0
