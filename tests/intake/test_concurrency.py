"""Decision letters sent from several places at once (two clicks on "send letters", two jobs): each
letter leaves once. Runs on SQLite and PostgreSQL; the data is committed for real and removed after."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from incubator.accounts.models import User
from incubator.cohorts.models import Programme
from incubator.core import mail
from incubator.core.db import utcnow
from incubator.core.permissions import Role
from incubator.core.tenancy import ALL_ORGS
from incubator.extensions import db
from incubator.intake import decisions, tasks
from incubator.intake.models import Application, Call, FormVersion, Stage
from incubator.orgs.models import Membership, Organisation

THREADS = 6


@pytest.fixture()
def decided_call(app):
    """A committed call whose two applications are decided and wait for their letters."""
    with app.app_context():
        s = db.session
        s.info[ALL_ORGS] = True  # arranging (and clearing) an organisation's rows outside its pages
        org = Organisation(slug="race-letters", name="Race letters", default_locale="en")
        users = [User(email=f"letter{n}@example.org", name=f"Applicant {n}", password_hash="x", locale="en")
                 for n in range(2)]
        s.add_all([org, *users])
        s.flush()
        programme = Programme(org_id=org.id, name="Contest")
        now = utcnow()
        call = Call(org_id=org.id, programme=programme, title_en="Race contest", title_vi="Cuộc thi",
                    opens_at=now - timedelta(days=30), closes_at=now - timedelta(days=1))
        call.versions.append(FormVersion(org_id=org.id, number=1, questions=[]))
        s.add_all([programme, call, *[Membership(org=org, user=u, role=Role.FOUNDER) for u in users]])
        s.flush()
        s.add_all([Application(org_id=org.id, call=call, form_version=call.versions[0], applicant=u, answers={},
                               stage=stage, submitted_at=now - timedelta(days=5))
                   for u, stage in zip(users, (Stage.REJECTED, Stage.WAITLISTED), strict=True)])
        s.commit()
        ids = {"org": org.id, "call": call.id, "users": [u.id for u in users], "programme": programme.id}
    yield ids
    with app.app_context():
        s = db.session
        s.info[ALL_ORGS] = True  # arranging (and clearing) an organisation's rows outside its pages
        everything = {"all_orgs": True}
        s.execute(delete(Application).where(Application.org_id == ids["org"]).execution_options(**everything))
        s.execute(delete(FormVersion).where(FormVersion.org_id == ids["org"]).execution_options(**everything))
        s.execute(delete(Call).where(Call.org_id == ids["org"]).execution_options(**everything))
        s.execute(delete(Programme).where(Programme.org_id == ids["org"]).execution_options(**everything))
        s.execute(delete(Membership).where(Membership.org_id == ids["org"]))
        s.execute(delete(User).where(User.id.in_(ids["users"])))
        s.execute(delete(Organisation).where(Organisation.id == ids["org"]))
        s.commit()


def test_letters_sent_from_several_jobs_at_once_leave_once_each(app, decided_call, monkeypatch):
    render = decisions.render_letter

    def slow_render(*args, **kwargs):  # holds each sender between reading what is due and committing
        time.sleep(0.3)
        return render(*args, **kwargs)

    monkeypatch.setattr(decisions, "render_letter", slow_render)
    mail.outbox.clear()
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def send() -> None:
        try:
            with app.app_context():
                barrier.wait()
                tasks.send_decision_letters(decided_call["org"], decided_call["call"])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    letters = sorted(m.to[0] for m in mail.outbox if "Race contest" in m.subject)
    assert letters == ["letter0@example.org", "letter1@example.org"]
    with app.app_context():
        sent = db.session.execute(select(Application.letter_sent_at).where(
            Application.call_id == decided_call["call"]).execution_options(all_orgs=True)).scalars().all()
        assert len(sent) == 2 and all(sent)
