"""The intake world: bbi with an open call, its form and rubric, a manager, three reviewers, founders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from incubator.core.db import utcnow
from incubator.core.permissions import Role
from incubator.intake.models import Application, Call, Criterion, FormVersion, Stage
from tests.factories import CohortFactory, OrgFactory, ProgrammeFactory, _Session, member

QUESTIONS = [
    {"key": "startup_name", "type": "short_text", "required": True, "label_en": "Startup name",
     "label_vi": "Tên startup", "help_en": "", "help_vi": ""},
    {"key": "pitch", "type": "long_text", "required": True, "label_en": "Pitch", "label_vi": "Giới thiệu",
     "help_en": "", "help_vi": "", "max_length": 200},
    {"key": "team_size", "type": "number", "required": False, "label_en": "Team size", "label_vi": "Số thành viên",
     "help_en": "", "help_vi": ""},
    {"key": "country", "type": "single_choice", "required": True, "label_en": "Country", "label_vi": "Quốc gia",
     "help_en": "", "help_vi": "", "options": [{"value": "vn", "label_en": "Vietnam", "label_vi": "Việt Nam"},
                                               {"value": "kr", "label_en": "South Korea", "label_vi": "Hàn Quốc"}]},
    {"key": "sectors", "type": "multiple_choice", "required": False, "label_en": "Sectors", "label_vi": "Lĩnh vực",
     "help_en": "", "help_vi": "", "options": [{"value": "agri", "label_en": "Agritech", "label_vi": "Nông nghiệp"},
                                               {"value": "iot", "label_en": "IoT", "label_vi": "IoT"}]},
    {"key": "founded_on", "type": "date", "required": False, "label_en": "Founded on", "label_vi": "Ngày thành lập",
     "help_en": "", "help_vi": ""},
    {"key": "website", "type": "url", "required": False, "label_en": "Website", "label_vi": "Trang web",
     "help_en": "", "help_vi": ""},
    {"key": "contact_email", "type": "email", "required": False, "label_en": "Contact email",
     "label_vi": "Email liên hệ", "help_en": "", "help_vi": ""},
    {"key": "deck", "type": "file", "required": False, "label_en": "Pitch deck", "label_vi": "Bản trình bày",
     "help_en": "", "help_vi": ""},
    {"key": "team", "type": "team_members", "required": False, "label_en": "Team", "label_vi": "Đội ngũ",
     "help_en": "", "help_vi": ""},
]

GOOD_ANSWERS = {"startup_name": "AgriSense", "pitch": "Sensors for rice farms", "country": "vn"}

def make_pdf() -> bytes:
    """A small valid PDF with one blank page."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PDF = make_pdf()


@dataclass
class IntakeWorld:
    org: object
    programme: object
    cohort: object
    call: Call
    manager: object
    reviewers: list
    founder: object
    other_founder: object


def make_call(org, programme, cohort=None, questions=None, **fields) -> Call:
    now = utcnow()
    values = {"title_en": "BBI Incubation 2027", "title_vi": "Ươm tạo BBI 2027", "opens_at": now - timedelta(days=5),
              "closes_at": now + timedelta(days=10), "reviewers_per_application": 2}
    values.update(fields)
    call = Call(org_id=org.id, programme_id=programme.id, cohort_id=cohort.id if cohort else None, **values)
    call.versions.append(FormVersion(org_id=org.id, number=1, questions=list(questions or QUESTIONS)))
    call.criteria = [
        Criterion(org_id=org.id, key="team", label_en="Team", label_vi="Đội ngũ", scale_min=0, scale_max=5, weight=2,
                  position=0),
        Criterion(org_id=org.id, key="market", label_en="Market", label_vi="Thị trường", scale_min=0, scale_max=10,
                  weight=1, position=1),
    ]
    _Session.current.add(call)
    _Session.current.flush()
    return call


def application(call, applicant, stage=Stage.SUBMITTED, answers=None) -> Application:
    record = Application(org_id=call.org_id, call=call, form_version=call.current_version, applicant=applicant,
                         stage=stage, answers=dict(GOOD_ANSWERS if answers is None else answers),
                         submitted_at=None if stage == Stage.DRAFT else utcnow())
    _Session.current.add(record)
    _Session.current.flush()
    return record


@pytest.fixture()
def intake(session) -> IntakeWorld:
    org = OrgFactory(slug="bbi")
    programme = ProgrammeFactory(org_id=org.id, name="BBI Incubation")
    cohort = CohortFactory(programme=programme, org_id=org.id, name="BBI Cohort 2027")
    call = make_call(org, programme, cohort)
    manager = member(org, Role.MANAGER)
    reviewers = [member(org, Role.REVIEWER, name=f"Reviewer {n}") for n in "ABC"]
    founder = member(org, Role.FOUNDER, name="Trần Khoa")
    other = member(org, Role.FOUNDER, name="Lê Hoa")
    return IntakeWorld(org, programme, cohort, call, manager, reviewers, founder, other)


@pytest.fixture()
def api_headers(session):
    """``api_headers(user)``: the Authorization header of a fresh API token of ``user``."""
    from incubator.accounts.services import create_api_token

    def _headers(user) -> dict[str, str]:
        value, _record = create_api_token(session, user, "test")
        session.flush()
        return {"Authorization": f"Bearer {value}"}

    return _headers
