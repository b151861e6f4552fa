from __future__ import annotations

import pytest
from sqlalchemy import select, update
from werkzeug.exceptions import NotFound

from incubator.core.db import get_required
from incubator.core.errors import NotFound as RowNotFound
from incubator.core.tenancy import all_orgs, get_or_404, set_current_org
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


def test_no_org_in_context_sees_nothing(app, connection, two_orgs):
    with app.app_context():
        assert db.session.execute(select(Invitation)).scalars().all() == []


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
