"""Demo mentoring: about 25 mentors of the Triple Helix, a published matching for BBI Cohort 2026,
and a history of sessions with notes, action items and ratings. Loaded once."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from incubator.accounts import services as accounts
from incubator.accounts.models import User
from incubator.cohorts.models import Cohort, Startup
from incubator.core.permissions import Role
from incubator.mentoring import pairing
from incubator.mentoring.models import (
    ActionItem,
    ConflictKind,
    Match,
    MatchStatus,
    MentorConflict,
    MentoringNeeds,
    MentorProfile,
    MentorSession,
    SessionStatus,
)
from incubator.orgs.models import Organisation
from incubator.orgs.services import add_member

# name, headline, affiliation, expertise, industries, languages, capacity
MENTORS = [
    ("Lê Văn Hùng", "Head of innovation, Becamex IDC", "business", ["go_to_market", "operations", "export"],
     ["logistics", "manufacturing"], ["vi", "en"], 3),
    ("Nguyễn Minh Tâm", "Deputy director, Binh Duong DOST", "state", ["fundraising", "reporting", "ip"],
     ["agritech", "cleantech"], ["vi"], 3),
    ("Trần Thị Thu", "Lecturer in marketing, EIU", "university", ["marketing", "go_to_market"], ["retail", "edtech"],
     ["vi", "en"], 2),
    ("Park Ji-hoon", "Partner, Korean venture fund", "business", ["fundraising", "finance", "export"],
     ["fintech", "healthtech", "manufacturing"], ["ko", "en"], 2),
    ("Phạm Quốc Việt", "CTO, VSIP smart city lab", "business", ["technology", "product"],
     ["logistics", "cleantech", "manufacturing"], ["vi", "en"], 3),
    ("Đỗ Thị Lan Anh", "Patent attorney", "business", ["ip", "legal"], ["healthtech", "agritech"], ["vi", "en"], 2),
    ("Hoàng Gia Bảo", "Dean of engineering, TDMU", "university", ["technology", "manufacturing"],
     ["manufacturing", "agritech"], ["vi"], 2),
    ("Sarah Mitchell", "Growth lead, regional e-commerce platform", "business", ["marketing", "go_to_market", "hiring"],
     ["retail", "edtech"], ["en"], 2),
    ("Vũ Đức Thắng", "Chief accountant, Binh Duong tax advisory", "business", ["finance", "reporting"],
     ["retail", "other"], ["vi"], 4),
    ("Ngô Thanh Hà", "Department of Industry and Trade", "state", ["export", "legal"],
     ["manufacturing", "retail"], ["vi", "en"], 2),
    ("Bùi Thị Mai", "Agronomy researcher, Southern Fruit Institute", "university", ["product", "execution"],
     ["agritech"], ["vi"], 2),
    ("Kim Min-seo", "Hardware product manager", "business", ["product", "manufacturing", "technology"],
     ["manufacturing", "healthtech"], ["ko", "en", "vi"], 2),
    ("Đặng Văn Long", "Serial founder (logistics)", "business", ["execution", "hiring", "fundraising"],
     ["logistics"], ["vi"], 2),
    ("Lý Hoàng Nam", "Bank SME credit head", "business", ["finance", "fundraising"], ["fintech", "cleantech"],
     ["vi"], 3),
    ("Trương Ngọc Hân", "UX lead, software outsourcing firm", "business", ["product", "marketing"],
     ["edtech", "healthtech"], ["vi", "en"], 2),
    ("Phan Thành Công", "Energy engineer, EVN Binh Duong", "state", ["technology", "operations"], ["cleantech"],
     ["vi"], 1),
    ("Mai Thị Hồng", "Head of the EIU Fablab", "university", ["product", "manufacturing"], ["manufacturing"],
     ["vi", "en"], 3),
    ("Tạ Quang Huy", "Sales director, FMCG distributor", "business", ["go_to_market", "operations"], ["retail"],
     ["vi"], 2),
    ("Châu Bảo Ngọc", "Health policy researcher", "university", ["reporting", "legal"], ["healthtech"],
     ["vi", "en"], 2),
    ("Đinh Công Sơn", "Customs and export consultant", "business", ["export", "legal", "operations"],
     ["agritech", "manufacturing"], ["vi"], 2),
    ("Yuki Tanaka", "Japanese manufacturing partner", "business", ["manufacturing", "export"], ["manufacturing"],
     ["ja", "en"], 1),
    ("Lâm Thị Kiều", "HR director, industrial park", "business", ["hiring", "operations"], ["logistics", "other"],
     ["vi"], 2),
    ("Hồ Minh Trí", "Angel investor", "business", ["fundraising", "execution"], ["edtech", "fintech", "agritech"],
     ["vi", "en"], 3),
    ("Quách Thanh Tùng", "Software architect", "business", ["technology"], ["edtech", "fintech"], ["vi", "en"], 2),
    ("Nguyễn Hải Yến", "Provincial startup support officer", "state", ["reporting", "execution"], ["other"],
     ["vi"], 3),
]
NEEDS = {  # startup -> (needs, industry, languages)
    "AgriSense BD": (["export", "fundraising"], "agritech", ["vi", "en"]),
    "SmartLog Industrial": (["fundraising", "hiring"], "logistics", ["vi"]),
    "EduViet AI": (["go_to_market", "product"], "edtech", ["vi"]),
    "MedLink Clinic": (["marketing", "legal"], "healthtech", ["vi"]),
    "CeramiX 3D": (["manufacturing", "product"], "manufacturing", ["vi", "ko"]),
    "FactoryEye": (["go_to_market", "technology"], "manufacturing", ["vi", "en"]),
    "WaterWise": (["technology", "fundraising"], "cleantech", ["vi"]),
    "LacquerCraft Online": (["export", "marketing"], "retail", ["vi", "en"]),
    "SolarRoof BD": (["finance", "fundraising"], "cleantech", ["vi"]),
}
TOPICS = ["Pricing for the first industrial customers", "Preparing the investor deck", "Export paperwork to Korea",
          "Hiring a first sales person", "Unit economics review", "Patent search before filing",
          "Pilot plan with a Becamex tenant"]
ACTIONS = ["Send the revised deck", "Call two pilot customers", "Draft the export checklist",
           "Compare three distributors", "Write the job description"]


def seed(session: Session, org: Organisation, cohort: Cohort, mentor_user: User, password: str, today: date) -> None:
    if session.execute(select(MentorProfile.id).where(MentorProfile.org_id == org.id)).first():
        return
    rng = random.Random(25)
    profiles = []
    for index, (name, headline, affiliation, expertise, industries, languages, capacity) in enumerate(MENTORS):
        if index == 0:
            user = mentor_user
        else:
            email = f"mentor{index:02d}@mentors.example.com"
            user = accounts.get_user_by_email(session, email) or accounts.register_user(
                session, email, name, password, verified=True)
            add_member(session, org, user, Role.MENTOR)
        profile = MentorProfile(org_id=org.id, user=user, headline=headline, affiliation=affiliation,
                                expertise=expertise, industries=industries, stages=[], languages=languages,
                                capacity=capacity, hours_per_month=4 + capacity * 2)
        from incubator.mentoring.models import AvailabilityWindow

        profile.windows = [AvailabilityWindow(org_id=org.id, weekday=(index + k) % 5, starts=time(17, 0),
                                              ends=time(20, 0)) for k in range(2)]
        session.add(profile)
        profiles.append(profile)
    session.flush()
    startups = {s.name: s for s in session.execute(select(Startup).where(Startup.org_id == org.id)).scalars()}
    for name, (needs, industry, languages) in NEEDS.items():
        if name in startups:
            session.add(MentoringNeeds(org_id=org.id, startup_id=startups[name].id, needs=needs, industry=industry,
                                       languages=languages))
    # The Becamex mentor advises SmartLog (a Becamex spin-off): never matched with it.
    if "SmartLog Industrial" in startups:
        session.add(MentorConflict(org_id=org.id, mentor_id=profiles[0].id, startup=startups["SmartLog Industrial"],
                                   kind=ConflictKind.ADVISORY, reason="Sits on SmartLog's advisory board"))
    # The manager's own choice, kept by the matching: mentor@bbi with AgriSense (founder@bbi's startup),
    # left unanswered after publishing so that the demo shows the mentor's and the founder's answer.
    waiting = None
    if "AgriSense BD" in startups:
        waiting = Match(org_id=org.id, cohort_id=cohort.id, startup=startups["AgriSense BD"], mentor=profiles[0],
                        status=MatchStatus.LOCKED, reasons=[{"criterion": "manual", "points": 0.0}])
        session.add(waiting)
    session.flush()
    pairing.run_matching(session, org, cohort, None, participation_first=True, today=today)
    pairing.publish(session, cohort)
    matches = session.execute(select(Match).where(Match.cohort_id == cohort.id).order_by(Match.id)).scalars().all()
    for number, match in enumerate(matches):
        if match is waiting:
            continue
        match.mentor_accepted = match.founder_accepted = True
        match.status = MatchStatus.ACCEPTED
        _history(session, match, rng, today, stale=number == 1)
    session.flush()


def _history(session: Session, match: Match, rng: random.Random, today: date, stale: bool) -> None:
    """Monthly sessions for the last months; the first match has gone quiet (a 21-day flag)."""
    months = rng.randint(2, 4)
    for back in range(months - 1, -1, -1):  # the latest about a week ago
        day = today - timedelta(days=30 * back + 7 + (40 if stale else 0) - rng.randint(0, 5))
        starts = datetime.combine(day, time(11, 0), UTC)
        record = MentorSession(org_id=match.org_id, match=match, mentor_id=match.mentor_id, starts_at=starts,
                               duration_minutes=rng.choice([45, 60, 90]), topics=rng.choice(TOPICS),
                               notes="Reviewed progress since last time and agreed next steps.",
                               status=SessionStatus.HELD, rating=rng.choice([4, 4, 5, 5, 3]),
                               rating_comment=rng.choice(["Very practical", "Good contacts", "", "Clear next steps"]))
        session.add(record)
        items: list[Any] = [ActionItem(org_id=match.org_id, match=match, title=rng.choice(ACTIONS),
                                       owner=rng.choice(["startup", "mentor"]), due_on=day + timedelta(days=14),
                                       done_at=None if back == 0 else starts + timedelta(days=10))]
        record.action_items = items
