"""Large reports are written by a job; the page polls its progress.

The job is queued when the request that created the export commits (so that the worker finds the
row), and it commits its progress as it goes so that the page can show it.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from incubator.cohorts.models import Cohort
from incubator.core.db import get_required, utcnow
from incubator.core.jobs import after_commit, job
from incubator.core.tenancy import all_orgs, set_current_org
from incubator.core.timezones import to_local
from incubator.orgs.models import Organisation
from incubator.reporting.models import ExportStatus, ReportExport
from incubator.reporting.scope import parse_period

log = logging.getLogger(__name__)


def queue_after_commit(session: Session, export_id: int) -> None:
    """Queue the export's job for when the request that created its row commits (the worker must find it)."""
    after_commit(session, generate_export, export_id)


def run_export(session: Session, export_id: int) -> None:
    from incubator.reporting.services import Request, complete, render

    with all_orgs(session):  # a job: the export names its organisation
        export = session.execute(select(ReportExport).where(ReportExport.id == export_id)).scalar_one_or_none()
        if export is None or export.status != ExportStatus.QUEUED:
            return
        viewer = get_required(session, Organisation, export.org_id)
        cohorts = list(session.execute(select(Cohort).where(Cohort.id.in_(export.params["cohort_ids"]))
                                       .order_by(Cohort.starts_on.desc(), Cohort.id)).scalars())
    set_current_org(session, viewer)  # the export's own row is written as its organisation's (core.rls)
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
