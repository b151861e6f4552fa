"""Large reports are written by a job; the page polls its progress.

The job is queued when the request that created the export commits (so that the worker finds the
row), and it commits its progress as it goes so that the page can show it.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from incubator.cohorts.models import Cohort
from incubator.core.db import utcnow
from incubator.core.jobs import job
from incubator.core.tenancy import all_orgs
from incubator.core.timezones import to_local
from incubator.orgs.models import Organisation
from incubator.reporting.models import ExportStatus, ReportExport
from incubator.reporting.scope import parse_period

log = logging.getLogger(__name__)
PENDING_KEY = "reporting_pending_exports"


def queue_after_commit(session: Session, export_id: int) -> None:
    session.info.setdefault(PENDING_KEY, []).append(export_id)


@event.listens_for(Session, "after_commit")
def _queue(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: not committed yet
        return
    for export_id in session.info.pop(PENDING_KEY, []):
        generate_export(export_id)


@event.listens_for(Session, "after_soft_rollback")
def _drop(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop(PENDING_KEY, None)


def run_export(session: Session, export_id: int) -> None:
    from incubator.reporting.services import Request, complete, render

    with all_orgs(session):
        export = session.execute(select(ReportExport).where(ReportExport.id == export_id)).scalar_one_or_none()
        if export is None or export.status != ExportStatus.QUEUED:
            return
        viewer = session.get(Organisation, export.org_id)
        cohorts = list(session.execute(select(Cohort).where(Cohort.id.in_(export.params["cohort_ids"]))
                                       .order_by(Cohort.starts_on.desc(), Cohort.id)).scalars())
    today = to_local(utcnow(), viewer.timezone).date()
    request = Request(viewer=viewer, cohorts=cohorts, period=parse_period(export.params, today), fmt=export.format,
                      locale=export.locale)

    def progress(percent: int) -> None:
        export.progress = percent
        session.commit()

    export.status = ExportStatus.RUNNING
    progress(5)
    try:
        path = render(session, request, today, progress)
        complete(export, path)
    except Exception as error:  # the page says it failed; the log says why
        log.exception("report export %s failed", export_id)
        session.rollback()
        export.status, export.error, export.finished_at = ExportStatus.FAILED, type(error).__name__, utcnow()
    session.commit()


@job()
def generate_export(export_id: int) -> None:
    from incubator.extensions import db

    run_export(db.session, export_id)
