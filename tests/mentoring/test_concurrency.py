"""The same conflict of interest recorded by several managers at once, over HTTP (tests/live.py): one
row, the others a clear 409, nobody a 5xx; on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from incubator.core.permissions import Role
from incubator.mentoring.models import MentorConflict, MentorProfile
from tests.factories import OrgFactory, StartupFactory, member

MANAGERS = 8


def test_the_same_conflict_recorded_at_once_is_stored_once(app, committed, live):
    with committed.data() as s:
        org = OrgFactory(slug="race-mentoring")
        managers = [member(org, Role.MANAGER) for _ in range(MANAGERS)]
        profile = MentorProfile(org_id=org.id, user=member(org, Role.MENTOR), languages=["vi"])
        startup = StartupFactory(org_id=org.id, name="Racing startup")
        s.add(profile)
        s.flush()
        ids = (org.id, profile.id, startup.id)
    tokens = [committed.token(m) for m in managers]

    def record(i: int):
        answer = live.api("POST", "/api/v1/orgs/race-mentoring/mentor-conflicts", tokens[i], json={
            "mentor_id": ids[1], "startup_id": ids[2], "kind": "equity", "reason": f"Shares ({i})"})
        return answer.status_code, answer.json().get("code")

    outcomes = live.race(MANAGERS, record)
    assert sorted(outcomes, key=str) == sorted([(201, None)] + [(409, "conflict_exists")] * (MANAGERS - 1),
                                               key=str), outcomes
    with committed.read() as s:
        assert len(s.execute(select(MentorConflict).where(MentorConflict.org_id == ids[0])).scalars().all()) == 1
