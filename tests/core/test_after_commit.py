"""One after-commit queue (``core.jobs.after_commit``) for mail, jobs and report exports.

What a request queues happens once when it commits, and never when it rolls back, including what a
refused service queued inside a savepoint before refusing.
"""

from __future__ import annotations

import pytest

from incubator.core import jobs, mail
from incubator.extensions import db

runs: list[str] = []


@jobs.job()
def record_run(label: str) -> None:
    runs.append(label)


@pytest.fixture(autouse=True)
def _no_runs():
    runs.clear()
    yield
    runs.clear()


def test_a_rolled_back_request_sends_no_mail_and_queues_no_job(app, connection):
    with app.test_request_context():
        mail.send_mail(db.session, "a@example.org", "Booking confirmed", "body")
        jobs.after_commit(db.session, record_run, "export")
        db.session.rollback()
        db.session.commit()  # a later commit of the same session does not bring them back
    assert mail.outbox == []
    assert runs == []


def test_a_committed_request_sends_each_mail_and_runs_each_job_once(app, connection):
    with app.test_request_context():
        mail.send_mail(db.session, "a@example.org", "Booking confirmed", "body")
        jobs.after_commit(db.session, record_run, "export")
        db.session.commit()
        db.session.commit()  # nothing left to run the second time
    assert [m.subject for m in mail.outbox] == ["Booking confirmed"]
    assert runs == ["export"]


def test_what_a_rolled_back_savepoint_queued_is_dropped_and_the_rest_kept(app, connection):
    with app.test_request_context():
        mail.send_mail(db.session, "a@example.org", "Kept", "body")
        try:
            with db.session.begin_nested():  # a service refuses after queuing a mail and a job
                mail.send_mail(db.session, "b@example.org", "About what did not happen", "body")
                jobs.after_commit(db.session, record_run, "refused")
                raise ValueError("refused")
        except ValueError:
            pass
        with db.session.begin_nested():  # a savepoint that is kept keeps what it queued
            jobs.after_commit(db.session, record_run, "kept")
        db.session.commit()
    assert [m.subject for m in mail.outbox] == ["Kept"]
    assert runs == ["kept"]


def test_the_report_export_job_waits_for_the_commit(app, connection):
    from incubator.reporting import tasks

    with app.test_request_context():
        tasks.queue_after_commit(db.session, 10**6)
        assert jobs.pending(db.session, tasks.generate_export) == [(10**6,)]
        db.session.rollback()
        assert jobs.pending(db.session) == []


def test_one_failing_call_does_not_cost_the_others_their_turn(app, connection):
    def broken() -> None:
        raise RuntimeError("the queue is down")

    with app.test_request_context():
        jobs.after_commit(db.session, broken)
        mail.send_mail(db.session, "a@example.org", "Still sent", "body")
        with pytest.raises(RuntimeError):
            db.session.commit()
    assert [m.subject for m in mail.outbox] == ["Still sent"]

