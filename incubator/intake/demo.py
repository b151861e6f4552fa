"""Demo intake for bbi: the open call "BBI Incubation 2027" with a realistic form and rubric, about 30
applications over the stages with reviews from reviewers of differing leniency, and a closed contest
with its decisions. Idempotent: nothing happens when the call exists."""

from __future__ import annotations

import io
import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from incubator.accounts.models import User
from incubator.cohorts.models import Cohort, Programme, ProgrammeKind
from incubator.core.db import utcnow
from incubator.core.permissions import Role
from incubator.core.storage import storage
from incubator.intake import decisions
from incubator.intake.models import (
    Application,
    ApplicationFile,
    Call,
    Criterion,
    FormVersion,
    Review,
    ReviewStatus,
    Stage,
)
from incubator.intake.services import record_transition
from incubator.orgs.models import Membership, Organisation
from incubator.orgs.services import add_member

CALL_TITLE = "BBI Incubation 2027"


def _opt(value: str, en: str, vi: str) -> dict[str, str]:
    return {"value": value, "label_en": en, "label_vi": vi}


def _q(key: str, qtype: str, en: str, vi: str, required: bool = False, **extra: object) -> dict[str, object]:
    return {"key": key, "type": qtype, "required": required, "label_en": en, "label_vi": vi,
            "help_en": extra.pop("help_en", ""), "help_vi": extra.pop("help_vi", ""), **extra}


SECTORS = [_opt("agritech", "Agritech", "Nông nghiệp công nghệ cao"), _opt("manufacturing", "Smart manufacturing",
                                                                          "Sản xuất thông minh"),
           _opt("edtech", "Education", "Giáo dục"), _opt("health", "Health", "Y tế"),
           _opt("logistics", "Logistics", "Logistics")]
FORM = [
    _q("startup_name", "short_text", "Startup or project name", "Tên startup hoặc dự án", True),
    _q("sector", "single_choice", "Sector", "Lĩnh vực", True, options=SECTORS),
    _q("stage", "single_choice", "Stage", "Giai đoạn", True,
       options=[_opt("idea", "Idea", "Ý tưởng"), _opt("prototype", "Prototype", "Nguyên mẫu"),
                _opt("mvp", "MVP", "Sản phẩm khả dụng tối thiểu"), _opt("revenue", "Revenue", "Có doanh thu")]),
    _q("country", "single_choice", "Country of the team", "Quốc gia của đội", True,
       options=[_opt("vn", "Vietnam", "Việt Nam"), _opt("kr", "South Korea", "Hàn Quốc"),
                _opt("sg", "Singapore", "Singapore"), _opt("other", "Other", "Khác")]),
    _q("origin", "single_choice", "Where the team comes from", "Nguồn gốc của đội", False,
       options=[_opt("university_spinoff", "University spin-off", "Spin-off từ trường đại học"),
                _opt("enterprise", "Enterprise", "Doanh nghiệp"), _opt("independent", "Independent", "Độc lập")]),
    _q("problem", "long_text", "What problem do you solve, and for whom?", "Bạn giải quyết vấn đề gì, cho ai?", True,
       max_length=1500, help_en="Say who pays for it today.", help_vi="Cho biết hiện ai đang trả tiền cho việc này."),
    _q("team_size", "number", "People in the team", "Số người trong đội", True),
    _q("founded_on", "date", "Founded on", "Ngày thành lập"),
    _q("website", "url", "Website or demo", "Trang web hoặc bản demo"),
    _q("contact_email", "email", "Contact email", "Email liên hệ", True),
    _q("pitch_deck", "file", "Pitch deck (PDF)", "Bản thuyết trình (PDF)"),
    _q("team", "team_members", "Team members", "Thành viên"),
]
RUBRIC = [("team", "Team", "Đội ngũ", 0, 5, 3.0), ("market", "Market", "Thị trường", 0, 5, 2.0),
          ("product", "Product and technology", "Sản phẩm và công nghệ", 0, 10, 2.0),
          ("impact", "Impact on Binh Duong", "Tác động đến Bình Dương", 0, 5, 1.0)]

def _levels(*texts: tuple[int, str, str]) -> dict[str, dict[str, str]]:
    return {str(score): {"en": en, "vi": vi} for score, en, vi in texts}


# What the scores of each criterion mean, as reviewers read them beside the score.
LEVELS = {
    "team": _levels((0, "One person, or a team without the skills the product needs.",
                     "Một người, hoặc đội thiếu các kỹ năng mà sản phẩm cần."),
                    (3, "The key skills are there; one gap (sales, or engineering) still to fill.",
                     "Có các kỹ năng chính; còn thiếu một mảng (bán hàng hoặc kỹ thuật)."),
                    (5, "A complete team that has built and sold together before.",
                     "Đội đầy đủ, đã từng cùng nhau xây dựng và bán sản phẩm.")),
    "market": _levels((0, "No clear customer, or no one pays for this today.",
                       "Chưa rõ khách hàng, hoặc hiện chưa ai trả tiền cho việc này."),
                      (3, "A named customer group that pays for the problem today, size guessed.",
                       "Có nhóm khách hàng cụ thể đang trả tiền cho vấn đề này, quy mô còn ước đoán."),
                      (5, "A large, growing market with paying customers or letters of intent.",
                       "Thị trường lớn, đang tăng trưởng, đã có khách hàng trả tiền hoặc thư ý định.")),
    "product": _levels((0, "An idea only.", "Mới chỉ là ý tưởng."),
                       (5, "A working prototype tested with a few users.",
                        "Có nguyên mẫu chạy được, đã thử với vài người dùng."),
                       (10, "A product in use, with technology that is hard to copy.",
                        "Sản phẩm đang được dùng, công nghệ khó sao chép.")),
    "impact": _levels((0, "Nothing in particular for the province.", "Không có tác động riêng cho tỉnh."),
                      (3, "Jobs or suppliers in Binh Duong.", "Tạo việc làm hoặc dùng nhà cung cấp tại Bình Dương."),
                      (5, "Solves a problem of Binh Duong's industry or farms at scale.",
                       "Giải quyết ở quy mô lớn một vấn đề của công nghiệp hoặc nông nghiệp Bình Dương.")),
}
NAMES = ["AgriSense", "FactoryEye", "RiceTrace", "MekongCold", "EduBot", "CleanCanal", "SmartShrimp", "LabLink",
         "GreenPack", "CarePulse", "TruckShare", "SolarFarm VN", "CoffeeChain", "Hanbit Robotics", "K-Agri Lab",
         "Seoul Sensors", "WaterWise", "BambooBuild", "MediTrack", "ShopLocal", "DroneSpray", "TextileAI",
         "FishFarm IoT", "CampusEats", "WasteLoop", "PowerGrid+", "SilkRoad Data", "UrbanHerb", "PetVet",
         "FixIt BD"]
# 30 applications of the open call, by stage.
STAGE_PLAN = ([Stage.DRAFT] * 4 + [Stage.SUBMITTED] * 6 + [Stage.SCREENING] * 4 + [Stage.IN_REVIEW] * 9
              + [Stage.INTERVIEW] * 3 + [Stage.WAITLISTED] * 2 + [Stage.REJECTED] + [Stage.WITHDRAWN])
PATHS = {
    Stage.SUBMITTED: [], Stage.SCREENING: [Stage.SCREENING], Stage.IN_REVIEW: [Stage.SCREENING, Stage.IN_REVIEW],
    Stage.INTERVIEW: [Stage.SCREENING, Stage.IN_REVIEW, Stage.INTERVIEW],
    Stage.WAITLISTED: [Stage.SCREENING, Stage.IN_REVIEW, Stage.WAITLISTED],
    Stage.REJECTED: [Stage.SCREENING, Stage.REJECTED], Stage.WITHDRAWN: [Stage.WITHDRAWN],
}
# Reviewers: email, name, leniency added to an honest score.
REVIEWERS = [("reviewer@bbi.example.com", None, 0.0), ("judge.lenient@bbi.example.com", "Hoàng Văn Phúc", 1.5),
             ("judge.harsh@bbi.example.com", "Kim Min-jun", -1.5)]


def seed(session: Session, org: Organisation, users: dict[str, User], password_hash: str, today: date) -> None:
    existing = session.execute(select(Call).where(Call.org_id == org.id, Call.title_en == CALL_TITLE)).scalar()
    if existing is not None:
        _describe_levels(existing)  # a demo loaded before criteria had descriptions gets them once
        return
    rng = random.Random(2027)
    manager = users["manager@bbi.example.com"]
    membership = session.execute(select(Membership).where(Membership.org_id == org.id,
                                                          Membership.user_id == manager.id)).scalar_one()
    reviewers = []
    for email, name, leniency in REVIEWERS:
        user = users.get(email) or _user(session, email, name or email, password_hash, "en")
        add_member(session, org, user, Role.REVIEWER)
        reviewers.append((user, leniency))
    programme = session.execute(select(Programme).where(Programme.org_id == org.id,
                                                        Programme.kind == ProgrammeKind.INCUBATION).limit(1)
                                ).scalar_one()  # the cohorts' demo made it
    cohort = Cohort(org_id=org.id, programme=programme, name="BBI Cohort 2027", starts_on=date(today.year + 1, 1, 1),
                    ends_on=date(today.year + 1, 12, 31), capacity=12, mentoring_hours_per_startup=24)
    session.add(cohort)
    now = utcnow()
    call = _call(session, org, programme, cohort, CALL_TITLE, "Ươm tạo BBI 2027", _local(org, today, -12, 8),
                 _local(org, today, 18, 17),
                 "Twelve months of incubation at Eastern International University for tech startups of Binh Duong "
                 "and beyond: mentors, lab credit at the EIU Fablab, and a demo day with investors.",
                 "Mười hai tháng ươm tạo tại Đại học Quốc tế Miền Đông cho các startup công nghệ: cố vấn, giờ sử "
                 "dụng Fablab EIU và ngày demo với nhà đầu tư.", fee_minor=200000)
    applicants = [_user(session, f"applicant{n:02d}@example.org", f"Applicant {n:02d}", password_hash,
                        "en" if n % 4 == 0 else None) for n in range(1, 31)]
    # Applicants are not members of the organisation (until an accepted application makes them founders).
    for n, (stage, applicant) in enumerate(zip(STAGE_PLAN, applicants, strict=True)):
        application = _application(session, call, applicant, NAMES[n], rng, now - timedelta(days=10 - n % 9))
        _walk(session, application, stage, manager, applicant)
        if stage != Stage.DRAFT and n % 2 == 0:
            _deck(session, application)
        if stage in (Stage.IN_REVIEW, Stage.INTERVIEW, Stage.WAITLISTED, Stage.REJECTED):
            _reviews(session, call, application, reviewers, rng, quality=rng.uniform(1.0, 4.5))
        elif stage == Stage.SCREENING:  # assigned with a deadline: one of them is already overdue
            for user, _leniency in reviewers[:2]:
                session.add(Review(org_id=org.id, application=application, reviewer=user,
                                   due_on=today + timedelta(days=-1 if n % 4 == 1 else 5)))
    # One declared conflict of interest, on record.
    conflicted = session.execute(select(Application).where(Application.call_id == call.id,
                                                           Application.stage == Stage.SUBMITTED)).scalars().first()
    session.add(Review(org_id=org.id, application=conflicted, reviewer=reviewers[1][0],
                       status=ReviewStatus.CONFLICT, conflict_reason="I mentored this team last year.",
                       conflict_declared_at=now))
    session.flush()
    _contest(session, org, manager, membership, reviewers, applicants, password_hash, rng, today)


def _local(org: Organisation, today: date, days: int, hour: int) -> datetime:
    """``hour`` o'clock in the organisation's time zone, ``days`` from today, in UTC."""
    day = today + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(org.timezone)).astimezone(UTC)


def _user(session: Session, email: str, name: str, password_hash: str, locale: str | None) -> User:
    user = session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    if user is None:
        user = User(email=email, name=name, password_hash=password_hash, locale=locale)
        session.add(user)
        session.flush()
    user.mark_verified()  # a demo account is ready to use
    return user


def _describe_levels(call: Call) -> None:
    for criterion in call.criteria:
        if not criterion.levels and criterion.key in LEVELS:
            criterion.levels = LEVELS[criterion.key]


def _call(session: Session, org: Organisation, programme: Programme, cohort: Cohort | None, title_en: str,
          title_vi: str, opens_at: object, closes_at: object, description_en: str, description_vi: str,
          **extra: object) -> Call:
    call = Call(org_id=org.id, programme=programme, cohort=cohort, title_en=title_en, title_vi=title_vi,
                description_en=description_en, description_vi=description_vi, opens_at=opens_at, closes_at=closes_at,
                reviewers_per_application=2, **extra)
    call.versions.append(FormVersion(org_id=org.id, number=1, questions=FORM))
    call.criteria = [Criterion(org_id=org.id, key=k, label_en=en, label_vi=vi, scale_min=lo, scale_max=hi, weight=w,
                               position=i, levels=LEVELS.get(k, {}))
                     for i, (k, en, vi, lo, hi, w) in enumerate(RUBRIC)]
    session.add(call)
    session.flush()
    return call


def _application(session: Session, call: Call, applicant: User, name: str, rng: random.Random,
                 submitted_at: datetime | None) -> Application:
    korean = name in ("Hanbit Robotics", "K-Agri Lab", "Seoul Sensors")
    answers = {
        "startup_name": name, "sector": rng.choice(SECTORS)["value"],
        "stage": rng.choice(["idea", "prototype", "mvp", "revenue"]), "country": "kr" if korean else "vn",
        "origin": rng.choice(["university_spinoff", "enterprise", "independent"]),
        "problem": f"{name} helps small businesses in Binh Duong do more with less: a tested prototype, "
                   "first pilot customers and a plan for the next twelve months.",
        "team_size": rng.randint(2, 8), "contact_email": applicant.email,
        "website": f"https://{name.lower().replace(' ', '').replace('+', 'plus')}.example.org",
        "founded_on": (date(2024, 1, 1) + timedelta(days=rng.randint(0, 600))).isoformat(),
    }
    application = Application(org_id=call.org_id, call=call, form_version=call.current_version, applicant=applicant,
                              stage=Stage.DRAFT, answers=answers)
    session.add(application)
    application.submitted_at = submitted_at
    session.flush()
    return application


def _deck(session: Session, application: Application) -> None:
    """A one-page PDF standing in for the team's pitch deck, stored like an upload."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=842, height=595)
    writer.add_metadata({"/Title": f"{application.answers['startup_name']} pitch deck"})
    buffer = io.BytesIO()
    writer.write(buffer)
    size = buffer.tell()
    buffer.seek(0)
    record = ApplicationFile(org_id=application.org_id, question_key="pitch_deck", size=size,
                             storage_key=storage().save(buffer, ".pdf"),
                             filename=f"{application.answers['startup_name']} - pitch deck.pdf")
    application.files.append(record)
    session.flush()
    application.answers = {**application.answers, "pitch_deck": record.id}


def _walk(session: Session, application: Application, stage: Stage, manager: User, applicant: User) -> None:
    if stage == Stage.DRAFT:
        application.submitted_at = None
        application.answers = {k: application.answers[k] for k in ("startup_name", "sector", "country")}
        return
    record_transition(session, application, applicant, Stage.SUBMITTED, "")
    for step in PATHS[stage]:
        record_transition(session, application, applicant if step == Stage.WITHDRAWN else manager, step, "")


def _reviews(session: Session, call: Call, application: Application, reviewers: list[tuple[User, float]],
             rng: random.Random, quality: float) -> None:
    for user, leniency in reviewers:
        scores = {}
        for criterion in call.criteria:
            span = criterion.scale_max - criterion.scale_min
            honest = quality / 5 * span + rng.uniform(-0.5, 0.5) + leniency * span / 5
            scores[criterion.key] = int(min(criterion.scale_max, max(criterion.scale_min, round(honest))))
        mean = sum(scores.values()) / len(scores)
        session.add(Review(org_id=call.org_id, application=application, reviewer=user,
                           status=ReviewStatus.SUBMITTED, scores=scores, submitted_at=utcnow(),
                           recommendation="yes" if mean >= 4 else "maybe" if mean >= 2.5 else "no",
                           comment="Strong team, needs a sharper market." if mean >= 3 else "Too early for us."))


def _contest(session: Session, org: Organisation, manager: User, membership: Membership,
             reviewers: list[tuple[User, float]], applicants: list[User], password_hash: str, rng: random.Random,
             today: date) -> None:
    programme = Programme(org_id=org.id, name="Binh Duong Innovation Contest", kind=ProgrammeKind.CONTEST,
                          description="A yearly contest for startup teams from Vietnam and abroad.")
    session.add(programme)
    cohort = Cohort(org_id=org.id, programme=programme, name="Contest winners 2026", starts_on=today - timedelta(
        days=20), ends_on=today + timedelta(days=160), capacity=5)
    session.add(cohort)
    now = utcnow()
    call = _call(session, org, programme, cohort, "Binh Duong Innovation Contest 2026",
                 "Cuộc thi Đổi mới sáng tạo Bình Dương 2026", now - timedelta(days=75), now - timedelta(days=30),
                 "Teams from Vietnam and abroad pitch solutions for the smart city.",
                 "Các đội trong và ngoài nước trình bày giải pháp cho thành phố thông minh.", blind_review=True)
    outcomes = ["accepted"] * 3 + ["waitlisted"] * 3 + ["rejected"] * 6
    contestants = applicants[10:22]
    for n, (outcome, applicant) in enumerate(zip(outcomes, contestants, strict=True)):
        application = _application(session, call, applicant, f"{NAMES[(n + 11) % len(NAMES)]} Contest Team",
                                   rng, now - timedelta(days=40 + n))
        if n % 3 == 0:
            application.answers = {**application.answers, "country": "kr"}
        _walk(session, application, Stage.IN_REVIEW, manager, applicant)
        _reviews(session, call, application, reviewers, rng, quality=4.6 - n * 0.3)
        session.flush()
        decisions.decide(session, application, manager, membership, outcome, cohort if outcome == "accepted"
                         else None, "Jury decision")
        application.letter_sent_at = now - timedelta(days=20)
    session.flush()
