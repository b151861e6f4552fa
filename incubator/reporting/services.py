"""Report files: generated once, kept, and served again until the data behind them changes; targets.

The cache key is a hash of the viewer organisation, the cohorts, the period, the format, the
language and a fingerprint of the data (row counts and the latest change of every table the report
reads), so any new or edited check-in, session, booking, milestone or enrolment makes a new file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from incubator.booking.models import Booking
from incubator.cohorts.models import CheckIn, Cohort, Enrolment, Milestone, Startup
from incubator.core.db import utcnow
from incubator.core.errors import DomainError, NotFound
from incubator.core.storage import image_mimetype, image_suffix, storage
from incubator.core.tenancy import all_orgs
from incubator.intake.models import Application, Call
from incubator.ledger.models import LedgerEntry
from incubator.mentoring.models import Match, MentorSession
from incubator.orgs.models import Organisation
from incubator.reporting.figures import MONEY, TARGET_METRICS, Report
from incubator.reporting.models import ExportStatus, ReportBranding, ReportExport, ReportTarget
from incubator.reporting.queries import build_report
from incubator.reporting.scope import Period

FORMATS = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
LOCALES = ("vi", "en")
# Part of every cache key: raise it when a change to the code or the templates changes the files.
RENDER_VERSION = 3


@dataclass(frozen=True)
class Request:
    """What a download is made of (access already checked)."""

    viewer: Organisation
    cohorts: list[Cohort]
    period: Period
    fmt: str
    locale: str

    @property
    def params(self) -> dict[str, Any]:
        return {"cohort_ids": sorted(c.id for c in self.cohorts), **self.period.as_params()}


def fingerprint(session: Session, viewer: Organisation, cohorts: list[Cohort]) -> str:
    cohort_ids = [c.id for c in cohorts] or [-1]
    with all_orgs(session):  # the cohorts were access-checked by reporting.scope; a funder's spans organisations
        startup_ids = select(Enrolment.startup_id).where(Enrolment.cohort_id.in_(cohort_ids)).scalar_subquery()
        # Enrolments have no timestamp: their ids and statuses are the fingerprint.
        parts: list[Any] = [session.execute(
            select(Enrolment.id, Enrolment.status, Enrolment.enrolled_on).where(Enrolment.cohort_id.in_(cohort_ids))
            .order_by(Enrolment.id)).all()]
        for model, where in (
            (Cohort, Cohort.id.in_(cohort_ids)),
            (Startup, Startup.id.in_(startup_ids)),
            (CheckIn, CheckIn.startup_id.in_(startup_ids)),
            (Milestone, Milestone.startup_id.in_(startup_ids)),
            (Booking, Booking.startup_id.in_(startup_ids)),
            (MentorSession, MentorSession.match_id.in_(select(Match.id).where(Match.cohort_id.in_(cohort_ids)))),
            (Application, Application.call_id.in_(select(Call.id).where(Call.cohort_id.in_(cohort_ids)))),
            (ReportTarget, ReportTarget.org_id == viewer.id),
            (ReportBranding, ReportBranding.org_id == viewer.id),
        ):
            parts.append(session.execute(select(func.count(), func.max(model.updated_at)).where(where)).one())
        # The ledger's money for those bookings (rows are added, never edited): a payment or a refund changes it.
        parts.append(session.execute(select(func.count(), func.max(LedgerEntry.id), func.sum(LedgerEntry.amount))
                                     .where(LedgerEntry.booking_id.in_(select(Booking.id).where(
                                         Booking.startup_id.in_(startup_ids))))).one())
    return hashlib.sha256(json.dumps([list(p) for p in parts], default=str).encode()).hexdigest()


def cache_key(session: Session, request: Request) -> str:
    data = {"version": RENDER_VERSION, "viewer": request.viewer.id, "fmt": request.fmt, "locale": request.locale,
            **request.params, "data": fingerprint(session, request.viewer, request.cohorts)}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def stored_file(export: ReportExport) -> str:
    """The storage key of an export's file; an export that has none (not finished, or failed) is not found."""
    if export.file_key is None:
        raise NotFound(_("Not found"))
    return export.file_key


def find_ready(session: Session, org: Organisation, key: str) -> ReportExport | None:
    return session.execute(select(ReportExport).where(
        ReportExport.org_id == org.id, ReportExport.cache_key == key, ReportExport.status == ExportStatus.READY)
        .order_by(ReportExport.id.desc()).limit(1)).scalar_one_or_none()


STALE_AFTER = timedelta(minutes=30)  # a job not finished by then is taken as lost (a worker stopped)


def find_pending(session: Session, org: Organisation, key: str) -> ReportExport | None:
    return session.execute(select(ReportExport).where(
        ReportExport.org_id == org.id, ReportExport.cache_key == key,
        ReportExport.status.in_((ExportStatus.QUEUED, ExportStatus.RUNNING)),
        ReportExport.created_at > utcnow() - STALE_AFTER)
        .order_by(ReportExport.id.desc()).limit(1)).scalar_one_or_none()


def new_export(session: Session, request: Request, key: str, user_id: int | None) -> ReportExport:
    export = ReportExport(org_id=request.viewer.id, requested_by_id=user_id, cache_key=key, format=request.fmt,
                          locale=request.locale, params=request.params, status=ExportStatus.QUEUED,
                          filename=filename(request))
    session.add(export)
    session.flush()
    return export


def filename(request: Request) -> str:
    period = request.period.label.replace(" ", "-").replace("–", "to").replace("--", "-")
    return f"report-{request.viewer.slug}-{period}.{request.fmt}".replace("-to-", "_to_")


def render(session: Session, request: Request, today: date, progress: Any = None) -> str:
    """Write the file to a temporary path and answer it (the caller stores and removes it)."""
    from incubator.reporting import exports

    step = progress or (lambda _p: None)
    with force_locale(request.locale):
        report = build_report(session, request.viewer, request.cohorts, request.period, today)
        step(30)
        handle, path = tempfile.mkstemp(suffix="." + request.fmt)
        os.close(handle)
        if request.fmt == "csv":
            Path(path).write_bytes(exports.csv_bytes(report))
        elif request.fmt == "xlsx":
            exports.write_xlsx(session, report, path, step)
        else:
            from incubator.reporting import pdf  # matplotlib and WeasyPrint: loaded only for PDFs

            Path(path).write_bytes(pdf.render_pdf(report, logo_data_uri(session, request.viewer), progress))
    return path


def complete(export: ReportExport, path: str) -> None:
    try:
        with Path(path).open("rb") as stream:
            export.file_key = storage().save(stream, suffix="." + export.format)
    finally:
        Path(path).unlink()
    export.status, export.progress, export.finished_at = ExportStatus.READY, 100, utcnow()


def generate_now(session: Session, request: Request, key: str, user_id: int | None, today: date) -> ReportExport:
    export = new_export(session, request, key, user_id)
    complete(export, render(session, request, today))
    session.flush()
    return export


def report_for(session: Session, request: Request, today: date, *, by_month: bool = True) -> Report:
    return build_report(session, request.viewer, request.cohorts, request.period, today, by_month=by_month)


# -- targets ----------------------------------------------------------------------------------------



def targets_for(session: Session, org: Organisation, year: int) -> dict[str, int]:
    return {t.metric: t.value for t in session.execute(select(ReportTarget).where(
        ReportTarget.org_id == org.id, ReportTarget.year == year)).scalars()}


def save_targets(session: Session, org: Organisation, year: int, values: dict[str, int | None]) -> None:
    """Set the organisation's targets for a year; an empty value removes that target."""
    fields = {name: _("Must not be negative.") for name, value in values.items()
              if value is not None and value < 0}
    fields.update({name: _("Not a valid choice.") for name in values if name not in TARGET_METRICS})
    if not 2000 <= year <= 2100:
        fields["year"] = _("Not a valid year.")
    if fields:
        raise DomainError(_("Please correct the highlighted fields."), fields=fields)
    existing = {t.metric: t for t in session.execute(select(ReportTarget).where(
        ReportTarget.org_id == org.id, ReportTarget.year == year)).scalars()}
    for name, value in values.items():
        found = existing.get(name)
        if value is None:
            if found is not None:
                session.delete(found)
        elif found is None:
            session.add(ReportTarget(org_id=org.id, year=year, metric=name, value=value))
        else:
            found.value = value
    session.flush()


def is_money(metric: str) -> bool:
    return metric in MONEY


# -- branding ---------------------------------------------------------------------------------------

MAX_LOGO_BYTES = 1 << 20


def branding(session: Session, org: Organisation) -> ReportBranding | None:
    with all_orgs(session):  # a funder's report may be printed for another organisation's viewer
        return session.execute(select(ReportBranding).where(ReportBranding.org_id == org.id)).scalar_one_or_none()


def save_logo(session: Session, org: Organisation, upload: Any) -> ReportBranding:
    """The logo printed on the organisation's reports: a PNG or JPEG of at most 1 MB, checked by content."""
    head = upload.stream.read(8) if upload is not None else b""
    suffix = image_suffix(head)
    if suffix is None:
        raise DomainError(_("Upload a PNG or JPEG image."), fields={"logo": _("Upload a PNG or JPEG image.")})
    upload.stream.seek(0, os.SEEK_END)
    if upload.stream.tell() > MAX_LOGO_BYTES:
        raise DomainError(_("At most 1 MB."), fields={"logo": _("At most 1 MB.")})
    upload.stream.seek(0)
    record = branding(session, org) or ReportBranding(org_id=org.id)
    old_key = record.logo_key
    record.logo_key = storage().save(upload.stream, suffix)
    session.add(record)
    session.flush()
    if old_key:
        storage().delete(old_key)
    return record


def logo_data_uri(session: Session, org: Organisation) -> str | None:
    import base64

    record = branding(session, org)
    if record is None or not record.logo_key:
        return None
    try:
        with storage().open(record.logo_key) as stream:
            data = stream.read()
    except (FileNotFoundError, ValueError):
        return None
    return f"data:{image_mimetype(record.logo_key)};base64,{base64.b64encode(data).decode('ascii')}"
