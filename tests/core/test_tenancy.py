from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update
from werkzeug.exceptions import NotFound

from incubator.core.db import get_required
from incubator.core.errors import NotFound as RowNotFound
from incubator.core.tenancy import CrossOrgReference, NoOrgInContext, all_orgs, get_or_404, set_current_org
from incubator.extensions import db
from incubator.orgs.models import Invitation
from tests.factories import InvitationFactory, OrgFactory


@pytest.fixture()
def two_orgs(session):
    a, b = OrgFactory(), OrgFactory()
    ia, ib = InvitationFactory(org_id=a.id), InvitationFactory(org_id=b.id)
    session.flush()
    return a, b, ia, ib


def test_queries_see_only_the_current_org(app, connection, two_orgs):
    a, b, ia, ib = two_orgs
    with app.app_context():
        set_current_org(db.session, a)
        assert [i.id for i in db.session.execute(select(Invitation)).scalars()] == [ia.id]


def test_no_org_in_context_raises_in_tests_and_development(app, connection, two_orgs):
    with app.app_context():
        with pytest.raises(NoOrgInContext, match="Invitation"):
            db.session.execute(select(Invitation)).scalars().all()
        with all_orgs(db.session):  # code that must span organisations says so
            assert len(db.session.execute(select(Invitation)).scalars().all()) >= 2


def test_no_org_in_context_sees_nothing_and_logs_in_production(app, connection, two_orgs, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "TENANCY_STRICT", False)
    with app.app_context():
        assert db.session.execute(select(Invitation)).scalars().all() == []
    assert "with no organisation in context" in caplog.text


def test_a_query_without_org_rows_needs_no_org(app, connection, two_orgs):
    from incubator.orgs.models import Organisation

    with app.app_context():
        assert db.session.execute(select(Organisation).where(Organisation.id == two_orgs[0].id)).scalar_one()


def test_a_row_cannot_point_at_another_orgs_row(app, connection, session):
    from incubator.cohorts.models import CheckIn
    from tests.factories import StartupFactory

    mine, theirs = OrgFactory(), OrgFactory()
    startup = StartupFactory(org_id=theirs.id)
    session.flush()
    session.add(CheckIn(org_id=mine.id, startup_id=startup.id, period=date(2026, 1, 1)))
    with pytest.raises(CrossOrgReference, match="CheckIn.startup"):
        session.flush()
    session.rollback()


def test_moving_a_reference_to_another_org_is_refused_too(app, connection, session):
    from tests.factories import StartupFactory, checkin

    mine, theirs = OrgFactory(), OrgFactory()
    record = checkin(StartupFactory(org_id=mine.id), date(2026, 1, 1))
    other = StartupFactory(org_id=theirs.id)
    session.flush()
    record.startup_id = other.id
    with pytest.raises(CrossOrgReference):
        session.flush()
    session.rollback()


def test_bulk_update_is_scoped_too(app, connection, two_orgs, session):
    a, b, ia, ib = two_orgs
    with app.app_context():
        set_current_org(db.session, a)
        db.session.execute(update(Invitation).values(email="changed@example.org"))
        db.session.flush()
        with all_orgs(db.session):
            emails = dict(db.session.execute(select(Invitation.id, Invitation.email)).all())
    assert emails[ia.id] == "changed@example.org"
    assert emails[ib.id] != "changed@example.org"


def test_all_orgs_is_explicit(app, connection, two_orgs):
    a, b, ia, ib = two_orgs
    with app.app_context():
        set_current_org(db.session, a)
        with all_orgs(db.session):
            ids = {i.id for i in db.session.execute(select(Invitation)).scalars()}
        assert {ia.id, ib.id} <= ids
        assert [i.id for i in db.session.execute(select(Invitation)).scalars()] == [ia.id]


def test_scoped_get_answers_404_for_another_orgs_id(app, connection, two_orgs):
    a, b, ia, ib = two_orgs
    with app.test_request_context():
        from flask import g

        g.org = a
        set_current_org(db.session, a)
        assert get_or_404(Invitation, ia.id).id == ia.id
        with pytest.raises(NotFound):
            get_or_404(Invitation, ib.id)


def test_get_required_hands_back_the_row_or_answers_not_found(app, connection, two_orgs):
    """A row another org owns, or one that is gone, is a 404 domain error, never a None passed on."""
    a, b, ia, ib = two_orgs
    with app.app_context():
        set_current_org(db.session, a)
        assert get_required(db.session, Invitation, ia.id).id == ia.id
        for missing in (ib.id, ib.id + 1000):
            with pytest.raises(RowNotFound) as info:
                get_required(db.session, Invitation, missing)
            assert (info.value.status, info.value.code) == (404, "not_found")
