"""The page and the API answer every mentoring action alike, for every role (issue #13).

For each role (owner/manager, staff, reviewer, mentor, founder, funder, a member of another
organisation) each API operation of the mentoring domain is called next to its page twin, and both
must land in the same class (``tests/doors.py``): allowed, forbidden (403), hidden (404). The table
also says which class each role must get, so a rule that changed in both doors is caught too.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from incubator.accounts.services import create_api_token
from incubator.core.db import utcnow
from incubator.core.permissions import Role
from incubator.mentoring.models import (
    ActionItem,
    ConflictKind,
    Match,
    MatchRun,
    MatchStatus,
    MentorConflict,
    MentorSession,
    SessionStatus,
)
from tests.conftest import csrf_token
from tests.doors import assert_same_door
from tests.factories import OrgFactory, StartupFactory, member
from tests.mentoring.fixtures import next_weekday

A, F, H = "allowed", "forbidden", "hidden"
ROLES = ("manager", "staff", "reviewer", "mentor", "founder", "funder", "stranger")


def row(*classes: str) -> dict[str, str]:
    return dict(zip(ROLES, classes, strict=True))


MENTORING_ROLE = row(A, A, F, A, F, F, H)  # profiles and conflicts: managers and the mentor
MANAGERS = row(A, A, F, F, F, F, H)  # the matching
EVERY_MEMBER = row(A, A, A, A, A, A, H)  # lists filtered to what the caller sees
MATCH_SEEN = row(A, A, H, A, A, H, H)  # a published match: managers, its mentor and founders
NEEDS = row(A, A, H, H, A, H, H)  # a startup's needs: managers and its founders

EXPECTED = {
    "list mentors": MENTORING_ROLE, "get mentor": MENTORING_ROLE, "patch mentor": MENTORING_ROLE,
    "upsert mentor": MENTORING_ROLE, "list conflicts": MENTORING_ROLE, "record conflict": MENTORING_ROLE,
    "delete conflict": MENTORING_ROLE, "get needs": NEEDS, "put needs": NEEDS,
    "lock": MANAGERS, "unlock": MANAGERS, "replace mentor": MANAGERS, "get matching": MANAGERS,
    "run matching": MANAGERS, "get run": MANAGERS, "publish": MANAGERS,
    "list matches": EVERY_MEMBER, "get match": MATCH_SEEN, "accept": row(F, F, H, A, A, H, H),
    "list sessions": EVERY_MEMBER, "get session": MATCH_SEEN, "create session": MATCH_SEEN,
    "reschedule": MATCH_SEEN, "cancel": MATCH_SEEN, "log": row(F, F, H, A, F, H, H), "rate": row(F, F, H, F, A, H, H),
    "list action items": EVERY_MEMBER, "action item done": MATCH_SEEN,
    "new feed": row(F, F, F, A, F, F, H),  # only mentors, of their own profile
}


@pytest.fixture()
def scene(session, world, mentors, published):
    """Published matches, a proposal, sessions to come, started and held, action items, conflicts."""
    ha_match = published[world.startup.id]
    proposal = Match(org_id=world.org.id, cohort_id=world.cohort.id, startup_id=world.startup.id,
                     mentor_id=mentors.park.id, status=MatchStatus.PROPOSED, reasons=[])
    now = utcnow()
    upcoming = MentorSession(org_id=world.org.id, match=ha_match, mentor_id=mentors.ha.id,
                             starts_at=next_weekday(1, 10), duration_minutes=60)
    started = MentorSession(org_id=world.org.id, match=ha_match, mentor_id=mentors.ha.id,
                            starts_at=now - timedelta(days=2), duration_minutes=60)
    held = MentorSession(org_id=world.org.id, match=ha_match, mentor_id=mentors.ha.id,
                         starts_at=now - timedelta(days=9), duration_minutes=60, status=SessionStatus.HELD)
    run = MatchRun(org_id=world.org.id, cohort_id=world.cohort.id, weights={}, per_startup=2)
    session.add_all([proposal, upcoming, started, held, run])
    session.flush()
    item = ActionItem(org_id=world.org.id, session_id=held.id, match_id=ha_match.id, title="Pitch deck")
    spare = [StartupFactory(org_id=world.org.id, name=f"Spare {n}") for n in (1, 2)]
    session.flush()
    conflicts = [MentorConflict(org_id=world.org.id, mentor_id=mentors.ha.id, startup_id=s.id,
                                kind=ConflictKind.ADVISORY, reason="Advises") for s in spare]
    session.add_all([item, *conflicts])
    session.flush()
    return {"match": ha_match, "proposal": proposal, "upcoming": upcoming, "started": started, "held": held,
            "item": item, "conflicts": conflicts, "run": run}


def _people(world, mentors) -> dict[str, object]:
    stranger = member(OrgFactory(slug="elsewhere"), Role.MANAGER)
    return {"manager": world.manager, "staff": member(world.org, Role.STAFF),
            "reviewer": member(world.org, Role.REVIEWER), "mentor": mentors.mentor_user, "founder": world.founder,
            "funder": world.funder, "stranger": stranger}


def _operations(world, mentors, scene, email: str):
    """(name, page call, API call): each call takes (client, csrf, api-headers) and answers a response."""
    o, api = "/o/bbi", "/api/v1/orgs/bbi"
    ha, cohort, startup = mentors.ha.id, world.cohort.id, world.startup.id
    match, proposal = scene["match"].id, scene["proposal"].id
    upcoming, started, held = scene["upcoming"].id, scene["started"].id, scene["held"].id
    c1, c2 = (c.id for c in scene["conflicts"])
    item = scene["item"].id
    profile_form = {"capacity": "2", "hours_per_month": "4", "timezone": "Asia/Ho_Chi_Minh", "languages": ["vi"],
                    "affiliation": "business", "windows": "Mon 09:00-17:00\nTue 09:00-17:00\nWed 09:00-17:00\n"
                                                          "Thu 09:00-17:00\nFri 09:00-17:00"}
    needs = {"needs": ["fundraising"], "industry": "agritech", "languages": ["vi"]}

    def get(path):
        return lambda c, t, h: c.get(path)

    def post(path, **data):
        return lambda c, t, h: c.post(path, data={**data, "csrf_token": t})

    def call(method, path, **kwargs):
        return lambda c, t, h: c.open(path, method=method, headers=h, **kwargs)

    return [
        ("list mentors", get(f"{o}/mentors"), call("GET", f"{api}/mentors")),
        ("get mentor", get(f"{o}/mentors/{ha}/edit"), call("GET", f"{api}/mentors/{ha}")),
        ("patch mentor", post(f"{o}/mentors/{ha}/edit", **profile_form),
         call("PATCH", f"{api}/mentors/{ha}", json={"capacity": 2})),
        ("upsert mentor", post(f"{o}/mentors/{ha}/edit", **profile_form),
         call("POST", f"{api}/mentors", json={"email": email, "capacity": 2})),
        ("list conflicts", get(f"{o}/mentor-conflicts"), call("GET", f"{api}/mentor-conflicts")),
        ("record conflict", post(f"{o}/mentors/{ha}/conflicts", startup_id=str(world.other.id), kind="equity",
                                 reason="Shares"),
         call("POST", f"{api}/mentor-conflicts", json={"mentor_id": ha, "startup_id": world.other.id,
                                                       "kind": "equity", "reason": "Shares"})),
        ("delete conflict", post(f"{o}/mentor-conflicts/{c1}/delete"), call("DELETE", f"{api}/mentor-conflicts/{c2}")),
        ("get needs", post(f"{o}/startups/{startup}/needs", **needs), call("GET", f"{api}/startups/{startup}/needs")),
        ("put needs", post(f"{o}/startups/{startup}/needs", **needs),
         call("PUT", f"{api}/startups/{startup}/needs", json=needs)),
        ("lock", post(f"{o}/matches/{proposal}/lock"), call("POST", f"{api}/matches/{proposal}/lock")),
        ("unlock", post(f"{o}/matches/{proposal}/lock"), call("POST", f"{api}/matches/{proposal}/unlock")),
        ("replace mentor", post(f"{o}/matches/{proposal}/replace", mentor_id=str(mentors.park.id)),
         call("PUT", f"{api}/matches/{proposal}/mentor", json={"mentor_id": mentors.park.id})),
        ("get matching", get(f"{o}/cohorts/{cohort}/matching"), call("GET", f"{api}/cohorts/{cohort}/matching")),
        ("run matching", post(f"{o}/cohorts/{cohort}/matching", per_startup="1"),
         call("POST", f"{api}/cohorts/{cohort}/matching", json={"per_startup": 1})),
        ("get run", get(f"{o}/cohorts/{cohort}/matching/runs/{scene['run'].id}/status"),
         call("GET", f"{api}/cohorts/{cohort}/matching/runs/{scene['run'].id}")),
        ("publish", post(f"{o}/cohorts/{cohort}/matching/publish"),
         call("POST", f"{api}/cohorts/{cohort}/matching/publish")),
        ("list matches", get(f"{o}/mentoring"), call("GET", f"{api}/matches")),
        ("get match", post(f"{o}/matches/{match}/sessions", starts_at="not a time"),
         call("GET", f"{api}/matches/{match}")),
        ("accept", post(f"{o}/matches/{match}/answer", answer="accept"), call("POST", f"{api}/matches/{match}/accept")),
        ("list sessions", get(f"{o}/mentoring"), call("GET", f"{api}/sessions")),
        ("get session", get(f"{o}/mentor-sessions/{upcoming}"), call("GET", f"{api}/sessions/{upcoming}")),
        ("create session", post(f"{o}/matches/{match}/sessions", starts_at=next_weekday(0, 14).strftime(
            "%Y-%m-%dT%H:%M"), duration="60", format="online"),
         call("POST", f"{api}/sessions", json={"match_id": match, "starts_at": next_weekday(0, 16).isoformat()})),
        ("reschedule", post(f"{o}/mentor-sessions/{upcoming}/reschedule",
                            starts_at=next_weekday(2, 10).strftime("%Y-%m-%dT%H:%M")),
         call("PATCH", f"{api}/sessions/{upcoming}", json={"starts_at": next_weekday(3, 10).isoformat()})),
        ("cancel", post(f"{o}/mentor-sessions/{upcoming}/cancel"), call("POST", f"{api}/sessions/{upcoming}/cancel")),
        ("log", post(f"{o}/mentor-sessions/{started}", notes="Went well", topics="Deck", duration="60"),
         call("POST", f"{api}/sessions/{started}/log", json={"notes": "Went well"})),
        ("rate", post(f"{o}/mentor-sessions/{held}/rate", rating="5"),
         call("POST", f"{api}/sessions/{held}/rating", json={"rating": 5})),
        ("list action items", get(f"{o}/mentoring"), call("GET", f"{api}/action-items")),
        ("action item done", post(f"{o}/action-items/{item}/done"),
         call("PATCH", f"{api}/action-items/{item}", json={"done": True})),
        ("new feed", post(f"{o}/mentor-profile/feed"), call("POST", f"{api}/mentor-profile/feed")),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_mentoring_operation_answers_alike_through_the_page_and_the_api(
        role, app, client, session, sign_in, world, mentors, scene):
    person = _people(world, mentors)[role]
    token, _record = create_api_token(session, person, "doors")
    session.flush()
    headers = {"Authorization": f"Bearer {token}"}
    sign_in(person)
    csrf = csrf_token(client, "/account")
    operations = _operations(world, mentors, scene, person.email)
    assert {name for name, _page, _api in operations} == set(EXPECTED)  # every operation is in the table
    for name, page_call, api_call in operations:
        page = page_call(client, csrf, headers)
        answer = api_call(client, csrf, headers)
        got = assert_same_door(page, answer, f"{role}: {name}")
        assert got == EXPECTED[name][role], f"{role}: {name}: {got}, expected {EXPECTED[name][role]}"


def test_the_table_covers_every_mentoring_api_operation(app):
    """A new mentoring operation must be added to the door table above."""
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    mentoring_tags = {"api_mentoring", "api_mentoring_matching", "api_mentoring_sessions"}
    operations = [(method, path) for path, item in spec["paths"].items() for method, op in item.items()
                  if method in ("get", "post", "put", "patch", "delete") and set(op.get("tags", [])) & mentoring_tags]
    # Accept and decline are one operation documented twice; lock and unlock are both in the table.
    assert len(operations) == len(EXPECTED) + 1, sorted(operations)
