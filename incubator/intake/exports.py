"""Export of a call's applications with their answers and scores, as CSV and XLSX."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from incubator.core import csvutil
from incubator.intake import formspec, ranking
from incubator.intake.models import Call, Stage


def _cell(question: dict[str, Any], value: Any, files: dict[int, str], locale: str) -> Any:
    if value is None:
        return ""
    qtype = question["type"]
    if qtype == "single_choice":
        return formspec.option_label(question, value, locale)
    if qtype == "multiple_choice":
        return "; ".join(formspec.option_label(question, v, locale) for v in value)
    if qtype == "team_members":
        return "; ".join(f"{m['name']} <{m['email']}> {m.get('role', '')}".strip() for m in value)
    if qtype == "file":
        return files.get(value, "")
    return value


def _utc(value: datetime) -> datetime:
    return (value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)).replace(second=0,
                                                                                               microsecond=0)


def rows(session: Session, call: Call, locale: str) -> list[list[Any]]:
    """A header and one row per submitted application: identity, stage, scores, then every answer.

    Questions are the union over the form's versions, in the order they first appeared.
    """
    keys: dict[str, dict[str, Any]] = {}
    for version in call.versions:
        for question in version.questions:
            keys.setdefault(question["key"], question)
    criteria = list(call.criteria)
    mean = _("mean")
    header = [_("Id"), _("Applicant"), _("Email"), _("Stage"), _("Submitted at (UTC)"), _("Reviews"),
              _("Weighted total"), _("Normalised score"), *[f"{c.label(locale)} ({mean})" for c in criteria],
              *[formspec.label(q, locale) for q in keys.values()]]
    out: list[list[Any]] = [header]
    for row in ranking.rank(session, call, sort="total"):
        application = row.application
        files = {f.id: f.filename for f in application.files}
        own = {q["key"]: q for q in application.form_version.questions}  # its version's options and labels
        means = []
        for criterion in criteria:
            scores = [float(r.scores[criterion.key]) for r in row.reviews if criterion.key in r.scores]
            means.append(round(sum(scores) / len(scores), 2) if scores else "")
        out.append([application.id, application.applicant.name, application.applicant.email,
                    Stage(application.stage).label,
                    _utc(application.submitted_at) if application.submitted_at else "",
                    row.review_count, "" if row.total is None else row.total,
                    "" if row.normalised is None else row.normalised, *means,
                    *[_cell(own.get(k, q), application.answers.get(k), files, locale) for k, q in keys.items()]])
    return out


def to_csv(session: Session, call: Call, locale: str) -> str:
    """Guarded against formulas (``core.csvutil``); the view adds the BOM when it encodes (utf-8-sig).
    For machines: moments in ISO 8601 (UTC), numbers plain, as the payments' CSV."""
    return csvutil.to_text([[v.isoformat(timespec="minutes") if isinstance(v, datetime) else v for v in line]
                            for line in rows(session, call, locale)], bom=False)


def to_xlsx(session: Session, call: Call, locale: str) -> bytes:
    """XlsxWriter, as the reports: text is written as text (never a formula or a link), headers frozen."""
    import xlsxwriter

    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False})
    sheet = workbook.add_worksheet(_("Applications")[:31])
    bold = workbook.add_format({"bold": True})
    moment = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for r, line in enumerate(rows(session, call, locale)):
        for c, value in enumerate(line):
            if isinstance(value, datetime):  # a date cell (UTC, as its header says), not a string
                sheet.write_datetime(r, c, value.replace(tzinfo=None), moment)
            elif isinstance(value, str):
                sheet.write_string(r, c, value, bold if r == 0 else None)
            else:
                sheet.write(r, c, value)
    sheet.freeze_panes(1, 0)
    workbook.close()
    return out.getvalue()
