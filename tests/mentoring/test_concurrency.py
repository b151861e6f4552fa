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


def test_two_edits_of_one_profile_version_at_once_one_wins(app, committed, live):
    """The mentor and a manager save the same version of a profile at the same moment: one edit is
    stored, the other answers 412 ``stale`` (never a 5xx, never both)."""
    with committed.data() as s:
        org = OrgFactory(slug="race-profile")
        manager = member(org, Role.MANAGER)
        mentor = member(org, Role.MENTOR)
        profile = MentorProfile(org_id=org.id, user=mentor, languages=["vi"], capacity=2, hours_per_month=4)
        s.add(profile)
        s.flush()
        profile_id = profile.id
    tokens = [committed.token(manager), committed.token(mentor)]
    url = f"/api/v1/orgs/race-profile/mentors/{profile_id}"
    etag = live.api("GET", url, tokens[0]).headers["ETag"]
    changes = [{"capacity": 5}, {"hours_per_month": 9}]

    def edit(i: int):
        answer = live.api("PATCH", url, tokens[i], json=changes[i], headers={"If-Match": etag})
        return answer.status_code, answer.json().get("code")

    outcomes = live.race(2, edit)
    assert sorted(status for status, _code in outcomes) == [200, 412], outcomes
    assert (412, "stale") in outcomes
    winner = [i for i, (status, _code) in enumerate(outcomes) if status == 200][0]
    with committed.read() as s:
        stored = s.get(MentorProfile, profile_id)
        assert (stored.capacity, stored.hours_per_month) == ((5, 4) if winner == 0 else (2, 9))
        assert stored.version == 2
