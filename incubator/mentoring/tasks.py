"""Large matchings are run by a job; the page and the API poll the run's progress.

Whether a run goes to a job is decided by its size (startups x mentors against
``MATCHING_JOB_MIN_PAIRS``), the same way for the page and the API. The job is queued when the request
that created the run commits (so that the worker finds the row); it commits its progress as it goes,
and a failure leaves the run ``failed`` (the cohort's earlier proposals untouched), never stuck.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from flask import current_app
from huey import crontab
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from incubator.accounts.models import User
from incubator.cohorts.models import Cohort
from incubator.core.db import get_required, utcnow
from incubator.core.jobs import after_commit, job, periodic
from incubator.core.tenancy import all_orgs, set_current_org
from incubator.core.timezones import to_local
from incubator.mentoring import pairing
from incubator.mentoring.models import MatchRun, MatchRunStatus
from incubator.orgs.models import Organisation

log = logging.getLogger(__name__)

LOST_AFTER = timedelta(minutes=30)  # a run not finished by then is taken as lost: its worker stopped


def start_matching(session: Session, org: Organisation, cohort: Cohort, user: User | None, *,
                   weights: dict[str, Any] | None, per_startup: int, participation_first: bool,
                   today: date) -> MatchRun:
    """Run the matching now, or, for a large cohort, queue a job for it: the run says which (its status)."""
    checked = pairing.checked_settings(weights, per_startup)
    if pairing.matching_size(session, org, cohort) < current_app.config["MATCHING_JOB_MIN_PAIRS"]:
        return pairing.run_matching(session, org, cohort, user, weights=checked, per_startup=per_startup,
                                    participation_first=participation_first, today=today)
    run = pairing.new_run(session, org, cohort, user, weights=checked, per_startup=per_startup,
                          participation_first=participation_first, queued=True)
    after_commit(session, run_matching_job, run.id)
    return run


def run_queued(session: Session, run_id: int) -> None:
    with all_orgs(session):  # a job: the run names its organisation
        run = session.execute(select(MatchRun).where(MatchRun.id == run_id)).scalar_one_or_none()
        if run is None or run.status != MatchRunStatus.QUEUED:
            return
        org = get_required(session, Organisation, run.org_id)
    set_current_org(session, org)
    cohort = get_required(session, Cohort, run.cohort_id)

    def progress(percent: int) -> None:
        run.progress = percent
        session.commit()

    run.status = MatchRunStatus.RUNNING
    progress(5)
    try:
        pairing.fill_run(session, org, cohort, run, today=to_local(utcnow(), org.timezone).date(), progress=progress)
    except Exception as error:  # the run says it failed; the log says why
        log.exception("matching run %s failed", run_id)
        session.rollback()
        run.status, run.error, run.finished_at = MatchRunStatus.FAILED, type(error).__name__, utcnow()
    session.commit()


@job()
def run_matching_job(run_id: int) -> None:
    from incubator.extensions import db

    run_queued(db.session, run_id)


def fail_lost_runs(session: Session, now: Any = None) -> int:
    """Runs queued or running for longer than ``LOST_AFTER`` failed (``lost``): a worker that died
    mid-run would otherwise leave the page polling for ever and the run never finished."""
    cutoff = (now or utcnow()) - LOST_AFTER
    with all_orgs(session):  # a job over every organisation's runs
        result = session.execute(update(MatchRun).where(
            MatchRun.status.in_([MatchRunStatus.QUEUED, MatchRunStatus.RUNNING]), MatchRun.created_at < cutoff
        ).values(status=MatchRunStatus.FAILED, error="lost", finished_at=now or utcnow()))
    session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


@periodic(crontab(minute="*/10"))
def fail_lost_matching_runs() -> int:
    from incubator.extensions import db

    return fail_lost_runs(db.session)
