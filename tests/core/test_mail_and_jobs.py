from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from huey.storage import RedisStorage, SqliteStorage

from incubator.core import jobs, mail
from incubator.extensions import db


def test_mail_leaves_only_when_the_transaction_commits(app, connection):
    with app.test_request_context():
        mail.send_mail(db.session, "a@example.org", "kept", "body")
        db.session.commit()
        mail.send_mail(db.session, "b@example.org", "dropped", "body")
        db.session.rollback()
        db.session.commit()
    assert [m.subject for m in mail.outbox] == ["kept"]
    assert mail.outbox[0].to == ["a@example.org"]


def test_file_backend_writes_an_eml(app, connection, tmp_path: Path):
    app.config.update(MAIL_BACKEND="file", MAIL_FILE_DIR=str(tmp_path))
    try:
        with app.test_request_context():
            mail.send_mail(db.session, "a@example.org", "Xin chào", "Nội dung")
            db.session.commit()
    finally:
        app.config["MAIL_BACKEND"] = "memory"
    files = list(tmp_path.glob("*.eml"))
    assert len(files) == 1
    text = files[0].read_text()
    assert "To: a@example.org" in text and "Subject:" in text


def test_console_backend_prints(app, connection, capsys):
    app.config["MAIL_BACKEND"] = "console"
    try:
        with app.test_request_context():
            mail.send_mail(db.session, "a@example.org", "Hello", "line one")
            db.session.commit()
    finally:
        app.config["MAIL_BACKEND"] = "memory"
    assert "line one" in capsys.readouterr().out


def _configure(config: dict) -> object:
    probe = Flask("probe")
    probe.config.update(config)
    jobs.init_app(probe)
    return jobs.huey.storage


@pytest.fixture()
def restore_immediate():
    yield
    jobs.huey.immediate = False
    jobs.huey.immediate = True  # back to the tests' in-memory, immediate queue


def test_jobs_use_sqlite_by_default_and_redis_when_configured(tmp_path: Path, restore_immediate):
    storage = _configure({"HUEY_IMMEDIATE": False, "REDIS_URL": None, "HUEY_SQLITE_PATH": str(tmp_path / "q.db")})
    assert isinstance(storage, SqliteStorage)
    assert (tmp_path / "q.db").exists()
    storage = _configure({"HUEY_IMMEDIATE": False, "REDIS_URL": "redis://127.0.0.1:6379/15"})
    assert isinstance(storage, RedisStorage)


def _redis_up() -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", 6379)) == 0


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_a_queued_mail_waits_in_redis_for_the_worker(app, connection, restore_immediate):
    _configure({"HUEY_IMMEDIATE": False, "REDIS_URL": "redis://127.0.0.1:6379/15"})
    jobs.huey.flush()
    with app.test_request_context():
        mail.send_mail(db.session, "a@example.org", "queued", "body")
        db.session.commit()
    assert mail.outbox == []  # not delivered in the request
    assert jobs.huey.pending_count() == 1
    task = jobs.huey.dequeue()
    jobs.set_worker_app(app)
    try:
        jobs.huey.execute(task)  # what the worker does
    finally:
        jobs.set_worker_app(None)
    assert [m.subject for m in mail.outbox] == ["queued"]
    jobs.huey.flush()


# -- times and counts in mail: the recipient's time zone and language, by Babel ----------------------------

MOMENT = datetime(2026, 12, 7, 2, 30, 15, 123456, tzinfo=UTC)
RAW = ("2026-12-07T02:30", "02:30:15", ".123456", "+00:00", "(UTC)")


def _no_raw_time(body: str) -> None:
    assert not any(raw in body for raw in RAW), body


@pytest.mark.parametrize("locale,when,until", [
    ("en", "December 7, 2026, 9:30\u202fAM (Vietnam Time)", "December 7, 2026, 9:45\u202fAM (Vietnam Time)"),
    ("vi", "09:30 7 tháng 12, 2026 (Giờ Việt Nam)", "09:45 7 tháng 12, 2026 (Giờ Việt Nam)"),
])
def test_the_waitlist_offer_shows_local_times_in_the_readers_language(app, session, world, fablab, locale, when,
                                                                      until):
    from datetime import timedelta

    from incubator.booking.models import Booking
    from incubator.booking.waitlist import notify_offer
    from incubator.extensions import db

    world.other_founder.locale = locale
    booking = Booking(org_id=world.org.id, resource=fablab.room, user=world.other_founder, starts_at=MOMENT,
                      ends_at=MOMENT + timedelta(hours=1), blocked_until=MOMENT + timedelta(hours=1), status="held",
                      hold_expires_at=MOMENT + timedelta(minutes=15))
    session.add(booking)
    session.flush()
    with app.test_request_context("/"):
        notify_offer(booking, "http://localhost/o/bbi/bookings")
        (message,) = mail.pending(db.session)
    assert when in message.body and until in message.body
    _no_raw_time(message.body)


@pytest.mark.parametrize("locale,when,text", [
    ("en", "December 7, 2026, 11:30\u202fAM (South Korea Time)", "(45 minutes)"),  # the mentor reads in their own zone
    ("vi", "11:30 7 tháng 12, 2026 (Giờ Hàn Quốc)", "(45 phút)"),
])
def test_the_session_invitation_shows_local_times_in_the_readers_language(app, session, world, mentors, locale,
                                                                          when, text):
    from flask import g

    from incubator.core.tenancy import set_current_org
    from incubator.extensions import db
    from incubator.mentoring.models import Match, MatchStatus, MentorSession
    from incubator.mentoring.views import invite

    park = mentors.park  # Asia/Seoul
    park.user.locale = locale
    match = Match(org_id=world.org.id, cohort_id=world.cohort.id, startup_id=world.startup.id, mentor=park,
                  status=MatchStatus.ACCEPTED)
    record = MentorSession(org_id=world.org.id, match=match, mentor_id=park.id, starts_at=MOMENT, duration_minutes=45)
    session.add_all([match, record])
    session.flush()
    with app.test_request_context("/o/bbi/", headers={"Accept-Language": "en" if locale == "vi" else "vi"}):
        g.org = world.org
        set_current_org(db.session, world.org)
        invite(record)
        sent = {tuple(m.to): m for m in mail.pending(db.session)}
    body = sent[(park.user.email,)].body
    assert when in body and text in body
    _no_raw_time(body)
    founder = sent[(world.founder.email,)].body  # a founder without a zone of their own: the org's
    assert ("Vietnam Time" in founder or "Giờ Việt Nam" in founder) and "9:30" in founder


@pytest.mark.parametrize("locale,day", [
    ("en", "on December 7, 2026, 9:30\u202fAM (Vietnam Time)"),
    ("vi", "vào 09:30 7 tháng 12, 2026 (Giờ Việt Nam)"),
])
def test_the_submission_receipt_shows_local_times_in_the_readers_language(app, session, intake, locale, day):
    from incubator.intake import services
    from incubator.intake.models import Stage
    from tests.intake.fixtures import application

    intake.founder.locale = locale
    record = application(intake.call, intake.founder, stage=Stage.SUBMITTED)
    record.submitted_at = MOMENT
    session.flush()
    with app.test_request_context("/"):
        services._receipt(session, record)
    (message,) = mail.pending(session)
    assert day in message.body
    _no_raw_time(message.body)


@pytest.mark.parametrize("count,locale,subject", [
    (1, "en", "1 application to review at"), (2, "en", "2 applications to review at"),
    (1, "vi", "1 hồ sơ cần đánh giá tại"),
])
def test_counts_in_mail_agree_with_their_number(app, session, intake, count, locale, subject):
    from incubator.intake.models import Stage
    from incubator.intake.review import _notify_assignment
    from tests.intake.fixtures import application

    reviewer = intake.reviewers[0]
    reviewer.locale = locale
    records = [application(intake.call, who, stage=Stage.SUBMITTED)
               for who in (intake.founder, intake.other_founder)[:count]]
    with app.test_request_context("/"):
        _notify_assignment(session, intake.org, reviewer, records)
    (message,) = mail.pending(session)
    assert message.subject.startswith(subject)


def test_an_invitation_valid_for_one_day_says_one_day(app, session):
    from flask import render_template
    from flask_babel import force_locale

    from incubator.core.permissions import Role
    from tests.factories import OrgFactory

    org = OrgFactory()
    with app.test_request_context("/"), force_locale("en"):
        body = render_template("orgs/email/invitation.txt", org=org, role=Role.FOUNDER, link="x", inviter=None,
                               days=1)
    assert "(valid for 1 day):" in body


# -- check-in reminders for a startup nobody can receive them for ----------------------------------------

def test_reminders_without_a_founder_are_not_logged_and_the_managers_are_told_once(app, session, world):
    from datetime import date, timedelta

    from sqlalchemy import select

    from incubator.cohorts.checkins import GRACE_DAYS
    from incubator.cohorts.models import ReminderLog
    from incubator.cohorts.tasks import send_checkin_reminders
    from incubator.core.permissions import Role
    from tests.cohorts.fixtures import kpis
    from tests.factories import checkin, enrolled, member

    world.cohort.starts_on = date(2026, 1, 1)
    owner = member(world.org, Role.OWNER, locale="vi")
    orphans = [enrolled(world.cohort, name=name) for name in ("Zeta Farms", "Alpha Robotics")]
    for startup in [world.startup, world.other, *orphans]:
        startup.enrolments[0].enrolled_on = date(2026, 1, 1)
        for month in range(1, 9):
            checkin(startup, date(2026, month, 1), **kpis())
    session.flush()
    september_due = date(2026, 9, 30) + timedelta(days=GRACE_DAYS)

    def run(day: date) -> int:
        with app.app_context():
            from incubator.extensions import db

            sent = send_checkin_reminders(db.session, datetime(day.year, day.month, day.day, 3, tzinfo=UTC))
            db.session.commit()
            return sent

    assert run(september_due - timedelta(days=5)) == 2  # the two startups with a founder, not the orphans
    founders = {world.founder.email, world.other_founder.email}
    assert {m.to[0] for m in mail.outbox if m.to[0] in founders} == founders
    logged = session.execute(select(ReminderLog.startup_id, ReminderLog.kind)).all()
    assert {(sid, kind) for sid, kind in logged if kind != "checkin_no_founder"} == {
        (world.startup.id, "checkin_due"), (world.other.id, "checkin_due")}
    told = [m for m in mail.outbox if m.to[0] not in founders]
    assert sorted(m.to[0] for m in told) == sorted([world.manager.email, owner.email])  # one mail each
    to_manager = next(m for m in told if m.to == [world.manager.email])
    assert to_manager.subject == "2 startups could not be reminded of their KPI check-ins"
    body = to_manager.body
    assert body.index("Alpha Robotics") < body.index("Zeta Farms") and "September 2026" in body  # the period, named
    assert world.startup.name not in body
    to_owner = next(m for m in told if m.to == [owner.email])
    assert to_owner.subject == "Không thể nhắc 2 startup nộp báo cáo KPI"  # in the owner's language
    assert "Alpha Robotics" in to_owner.body
    mail.outbox.clear()
    assert run(september_due - timedelta(days=4)) == 0
    assert mail.outbox == []  # not told again for the same period
    assert run(september_due + timedelta(days=1)) == 2  # overdue for the founders' startups
    assert {m.to[0] for m in mail.outbox} == founders  # still nothing new to tell the managers


def test_a_founder_who_joins_later_still_gets_the_reminder(app, session, world):
    from datetime import date, timedelta

    from incubator.cohorts.checkins import GRACE_DAYS
    from incubator.cohorts.models import StartupFounder
    from incubator.cohorts.tasks import send_checkin_reminders
    from incubator.core.permissions import Role
    from tests.cohorts.fixtures import kpis
    from tests.factories import checkin, enrolled, member

    world.cohort.starts_on = date(2026, 1, 1)
    orphan = enrolled(world.cohort, name="Late Founder Co")
    for startup in [world.startup, world.other, orphan]:
        startup.enrolments[0].enrolled_on = date(2026, 1, 1)
        for month in range(1, 10):
            if startup is orphan and month == 9:
                continue
            checkin(startup, date(2026, month, 1), **kpis())
    session.flush()
    due = date(2026, 9, 30) + timedelta(days=GRACE_DAYS)
    when = datetime(due.year, due.month, due.day, 3, tzinfo=UTC) - timedelta(days=5)
    with app.app_context():
        from incubator.extensions import db

        assert send_checkin_reminders(db.session, when) == 0
        db.session.commit()
    founder = member(world.org, Role.FOUNDER)
    session.add(StartupFounder(org_id=world.org.id, startup=orphan, user=founder))
    session.flush()
    mail.outbox.clear()
    with app.app_context():
        from incubator.extensions import db

        assert send_checkin_reminders(db.session, when + timedelta(days=1)) == 1
        db.session.commit()
    assert [m.to for m in mail.outbox] == [[founder.email]]
