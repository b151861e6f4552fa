from __future__ import annotations

from dataclasses import dataclass
from datetime import time

import pytest

from incubator.core.permissions import Role
from incubator.mentoring.models import AvailabilityWindow, MentoringNeeds, MentorProfile
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
