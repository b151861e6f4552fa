from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from incubator.core.permissions import Role
from incubator.mentoring import pairing
from incubator.mentoring.models import AvailabilityWindow, Match, MatchStatus, MentoringNeeds, MentorProfile
from tests.cohorts.fixtures import TODAY
from tests.factories import member


@dataclass
class MentorWorld:
    base: object
    ha: MentorProfile  # fundraising, vi
    park: MentorProfile  # fundraising + export, ko/en
    mentor_user: object
    park_user: object


@pytest.fixture()
def mentors(world, session) -> MentorWorld:
    """Two mentors for the cohort world: Hà (Vietnamese) and Park (Korean, English)."""
    ha_user, park_user = member(world.org, Role.MENTOR, name="Hà"), member(world.org, Role.MENTOR, name="Park")
    ha = MentorProfile(org_id=world.org.id, user=ha_user, expertise=["fundraising", "finance"],
                       industries=["agritech"], stages=[], languages=["vi"], capacity=1, timezone="Asia/Ho_Chi_Minh")
    ha.windows = [AvailabilityWindow(org_id=world.org.id, weekday=wd, starts=time(9), ends=time(17))
                  for wd in range(5)]
    park = MentorProfile(org_id=world.org.id, user=park_user, expertise=["fundraising", "export"],
                         industries=["manufacturing"], stages=["mvp"], languages=["ko", "en"], capacity=2,
                         timezone="Asia/Seoul")
    session.add_all([ha, park,
                     MentoringNeeds(org_id=world.org.id, startup_id=world.startup.id, needs=["fundraising"],
                                    industry="agritech", languages=["vi"]),
                     MentoringNeeds(org_id=world.org.id, startup_id=world.other.id, needs=["export"],
                                    industry="manufacturing", languages=["en", "vi"])])
    session.flush()
    return MentorWorld(world, ha, park, ha_user, park_user)


def next_weekday(weekday: int, hour: int) -> datetime:
    day = TODAY + timedelta(days=(weekday - TODAY.weekday()) % 7 or 7)
    return datetime.combine(day, time(hour), ZoneInfo("Asia/Ho_Chi_Minh"))


@pytest.fixture()
def published(app, session, world, mentors):
    """Hà with AgriSense and Park with FactoryEye, published and accepted by everyone."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        pairing.run_matching(session, world.org, world.cohort, world.manager, today=TODAY, per_startup=1)
    with app.test_request_context():
        pairing.publish(session, world.cohort)
    matches = {m.startup_id: m for m in session.execute(select(Match)).scalars()}
    for m in matches.values():
        m.mentor_accepted = m.founder_accepted = True
        m.status = MatchStatus.ACCEPTED
    session.flush()
    return matches
