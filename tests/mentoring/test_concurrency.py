"""The same conflict of interest recorded by several people at once: one row, the others a clear 409.

This test commits for real, outside the per-test transaction, and cleans up after itself.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete, select

from incubator.accounts.models import User
from incubator.cohorts.models import Startup
from incubator.core.errors import Conflict
from incubator.core.permissions import Role
from incubator.core.tenancy import all_orgs
from incubator.extensions import db
from incubator.mentoring import services
from incubator.mentoring.models import MentorConflict, MentorProfile
from incubator.orgs.models import Membership, Organisation

THREADS = 8


@pytest.fixture()
def committed_pair(app):
    with app.app_context():
        s = db.session
        org = Organisation(slug="race-mentoring", name="Race mentoring")
        s.add(org)
        s.flush()
        users = [User(email=f"conflict-racer{i}@example.org", name=f"Racer {i}", password_hash="x")
                 for i in range(THREADS)]
        s.add_all(users)
        s.flush()
        s.add_all([Membership(org=org, user=u, role=Role.MANAGER) for u in users])
        profile = MentorProfile(org_id=org.id, user=users[0], languages=["vi"])
        startup = Startup(org_id=org.id, name="Racing startup")
        s.add_all([profile, startup])
        s.commit()
        ids = (org.id, profile.id, startup.id, [u.id for u in users])
    yield ids
    with app.app_context():
        s = db.session
        org_id, profile_id, startup_id, user_ids = ids
        for model in (MentorConflict, MentorProfile, Startup):
            s.execute(delete(model).where(model.org_id == org_id).execution_options(all_orgs=True))
        s.execute(delete(Membership).where(Membership.org_id == org_id))
        s.execute(delete(User).where(User.id.in_(user_ids)))
        s.execute(delete(Organisation).where(Organisation.id == org_id))
        s.commit()


def test_the_same_conflict_recorded_at_once_is_stored_once(app, committed_pair):
    org_id, profile_id, startup_id, user_ids = committed_pair
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(index: int) -> None:
        with app.app_context(), app.test_request_context():
            session = db.session
            with all_orgs(session):
                profile = session.get(MentorProfile, profile_id)
                startup = session.get(Startup, startup_id)
                user = session.get(User, user_ids[index])
            session.info["org_id"] = org_id
            session.rollback()
            barrier.wait(timeout=30)
            try:
                with all_orgs(session):
                    services.record_conflict(session, profile, startup, "equity", f"Shares ({index})", user)
                session.commit()
                result = "recorded"
            except Conflict as error:
                session.rollback()
                result = error.code
            except Exception as error:  # noqa: BLE001 - the test reports what went wrong
                session.rollback()
                result = type(error).__name__
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["conflict_exists"] * (THREADS - 1) + ["recorded"]
    with app.app_context(), all_orgs(db.session):
        rows = db.session.execute(select(MentorConflict).where(MentorConflict.org_id == org_id)).scalars().all()
    assert len(rows) == 1
