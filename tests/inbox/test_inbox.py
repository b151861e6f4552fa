"""The to-do inbox: each kind shows up for the person who has to do it (and for nobody else, nor in another
organisation), leaves once it is done through the page or the API, and the navigation's count is the list's
length. Everything is arranged with rows and then done as a user does it."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from incubator.booking.models import Booking, BookingStatus
from incubator.cohorts.checkins import add_months
from incubator.cohorts.models import CheckIn
from incubator.core.db import utcnow
from incubator.core.permissions import Role
from incubator.intake.models import Stage
from incubator.mentoring.models import MatchStatus, MentorSession, SessionStatus
from incubator.orgs.models import Membership
from tests.cohorts.fixtures import THIS_MONTH, kpis
from tests.conftest import csrf_token
from tests.factories import InvitationFactory, OrgFactory, member
from tests.intake.fixtures import application

API = "/api/v1/orgs/bbi"
BADGE_RE = re.compile(r'data-testid="todo-badge-count">(\d+)<')


def todo(client, headers, **params) -> list[dict]:
    answer = client.get("/api/v1/me/todo", headers=headers, query_string={"page_size": 100, **params})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


def of_kind(items: list[dict], kind: str) -> list[dict]:
    return [i for i in items if i["kind"] == kind]


def badge(client, slug: str = "bbi") -> int:
    """The navigation's count on the dashboard (no count shown: 0)."""
    page = client.get(f"/o/{slug}/").get_data(as_text=True)
    found = BADGE_RE.search(page)
    return int(found.group(1)) if found else 0


# -- cohorts ---------------------------------------------------------------------------------------------

def test_a_founder_sees_the_check_ins_their_startup_owes_until_they_submit_one(client, session, world, api_headers):
    founder, other = api_headers(world.founder), api_headers(world.other_founder)
    due = of_kind(todo(client, founder), "checkin_due")
    last = add_months(THIS_MONTH, -1).strftime("%Y-%m")
    assert any(last in i["title"] and "AgriSense" in i["title"] for i in due)
    assert all("AgriSense" in i["title"] and i["org"] == "bbi" and i["due_on"] for i in due)
    assert all("AgriSense" not in i["title"] for i in of_kind(todo(client, other), "checkin_due"))
    assert of_kind(todo(client, api_headers(world.manager)), "checkin_due") == []  # staff do not submit them
    # Each links to the form for its period.
    item = next(i for i in due if last in i["title"])
    assert item["url"].endswith(f"/o/bbi/startups/{world.startup.id}/checkins/new?period={last}")

    sent = client.post(f"{API}/startups/{world.startup.id}/checkins", json={"period": last, **kpis()},
                       headers=founder)
    assert sent.status_code == 201, sent.get_data(as_text=True)
    after = of_kind(todo(client, founder), "checkin_due")
    assert len(after) == len(due) - 1 and all(last not in i["title"] for i in after)


def test_staff_verify_the_check_ins_submitted_and_founders_do_not(client, session, world, api_headers):
    record = CheckIn(org_id=world.org.id, startup=world.startup, period=add_months(THIS_MONTH, -2), **kpis())
    session.add(record)
    session.flush()
    manager = api_headers(world.manager)
    items = of_kind(todo(client, manager), "checkin_verify")
    assert [i["url"].rsplit("/", 1)[1] for i in items] == [str(record.id)]
    assert of_kind(todo(client, api_headers(world.founder)), "checkin_verify") == []
    assert of_kind(todo(client, api_headers(world.funder)), "checkin_verify") == []
    assert client.post(f"{API}/checkins/{record.id}/verify", headers=manager).status_code == 200
    assert of_kind(todo(client, manager), "checkin_verify") == []


def test_another_organisations_staff_see_nothing_of_bbi(client, session, world, api_headers):
    session.add(CheckIn(org_id=world.org.id, startup=world.startup, period=add_months(THIS_MONTH, -2), **kpis()))
    elsewhere = OrgFactory(slug="tdmu")
    their_manager = member(elsewhere, Role.MANAGER)
    session.flush()
    assert todo(client, api_headers(their_manager)) == []
    # Asking for bbi by name is not theirs to ask.
    answer = client.get("/api/v1/me/todo?org=bbi", headers=api_headers(their_manager))
    assert answer.status_code == 422 and "org" in answer.get_json()["fields"]


# -- mentoring -------------------------------------------------------------------------------------------

def test_a_published_match_waits_for_both_answers(client, session, world, mentors, published, api_headers):
    match = published[world.startup.id]
    match.status, match.mentor_accepted, match.founder_accepted = MatchStatus.PUBLISHED, None, None
    session.flush()
    mentor, founder = api_headers(mentors.mentor_user), api_headers(world.founder)
    assert len(of_kind(todo(client, mentor), "match_answer")) == 1
    assert len(of_kind(todo(client, founder), "match_answer")) == 1
    assert of_kind(todo(client, api_headers(world.other_founder)), "match_answer") == []
    assert of_kind(todo(client, api_headers(mentors.park_user)), "match_answer") == []
    assert of_kind(todo(client, api_headers(world.manager)), "match_answer") == []

    assert client.post(f"{API}/matches/{match.id}/accept", headers=mentor).status_code == 200
    assert of_kind(todo(client, mentor), "match_answer") == []
    assert len(of_kind(todo(client, founder), "match_answer")) == 1  # the founder has still to answer


def test_the_mentor_logs_a_session_then_the_founder_rates_it(client, session, world, mentors, published, api_headers):
    match = published[world.startup.id]
    record = MentorSession(org_id=world.org.id, match=match, mentor_id=match.mentor_id,
                           starts_at=utcnow() - timedelta(hours=3), duration_minutes=60)
    upcoming = MentorSession(org_id=world.org.id, match=match, mentor_id=match.mentor_id,
                             starts_at=utcnow() + timedelta(days=3), duration_minutes=60)
    session.add_all([record, upcoming])
    session.flush()
    mentor, founder = api_headers(mentors.mentor_user), api_headers(world.founder)
    logs = of_kind(todo(client, mentor), "session_log")
    assert [i["url"].rsplit("/", 1)[1] for i in logs] == [str(record.id)]  # not the one still to come
    assert of_kind(todo(client, founder), "session_log") == []
    assert of_kind(todo(client, founder), "session_rate") == []  # not held yet

    logged = client.post(f"{API}/sessions/{record.id}/log", json={"notes": "Pitch deck", "duration_minutes": 60},
                         headers=mentor)
    assert logged.status_code == 200, logged.get_data(as_text=True)
    assert of_kind(todo(client, mentor), "session_log") == []
    assert len(of_kind(todo(client, founder), "session_rate")) == 1
    assert of_kind(todo(client, api_headers(world.other_founder)), "session_rate") == []
    assert of_kind(todo(client, mentor), "session_rate") == []  # the startup rates, not the mentor

    rated = client.post(f"{API}/sessions/{record.id}/rating", json={"rating": 5}, headers=founder)
    assert rated.status_code == 200, rated.get_data(as_text=True)
    assert of_kind(todo(client, founder), "session_rate") == []
    session.expire_all()
    assert (record.status, record.rating) == (SessionStatus.HELD, 5)


# -- intake ----------------------------------------------------------------------------------------------

def test_a_review_assigned_with_a_deadline_waits_for_its_reviewer(client, session, intake, api_headers):
    target = application(intake.call, intake.founder, Stage.IN_REVIEW)
    manager, reviewer = api_headers(intake.manager), api_headers(intake.reviewers[0])
    due = (utcnow() + timedelta(days=7)).date().isoformat()
    made = client.post(f"{API}/applications/{target.id}/assignments",
                       json={"reviewer_id": intake.reviewers[0].id, "due_on": due}, headers=manager)
    assert made.status_code == 201 and made.get_json()["due_on"] == due and made.get_json()["overdue"] is False
    items = of_kind(todo(client, reviewer), "review_assigned")
    assert [(i["due_on"], i["url"].rsplit("/", 1)[1]) for i in items] == [(due, str(target.id))]
    assert of_kind(todo(client, api_headers(intake.reviewers[1])), "review_assigned") == []
    assert of_kind(todo(client, manager), "review_assigned") == []

    scores = {c.key: c.scale_max for c in intake.call.criteria}
    sent = client.post(f"{API}/applications/{target.id}/reviews", json={"scores": scores, "recommendation": "yes"},
                       headers=reviewer)
    assert sent.status_code == 201, sent.get_data(as_text=True)
    assert of_kind(todo(client, reviewer), "review_assigned") == []


def test_applications_in_review_await_the_managers_decision(client, session, intake, api_headers):
    target = application(intake.call, intake.founder, Stage.IN_REVIEW)
    application(intake.call, intake.other_founder, Stage.SUBMITTED)  # not up for a decision yet
    manager = api_headers(intake.manager)
    items = of_kind(todo(client, manager), "application_decision")
    assert [i["url"].rsplit("/", 1)[1] for i in items] == [str(target.id)]
    for someone in (intake.reviewers[0], intake.founder):
        assert of_kind(todo(client, api_headers(someone)), "application_decision") == []
    decided = client.post(f"{API}/applications/{target.id}/decision", json={"decision": "rejected"}, headers=manager)
    assert decided.status_code == 200, decided.get_data(as_text=True)
    assert of_kind(todo(client, manager), "application_decision") == []


# -- booking ---------------------------------------------------------------------------------------------

def _booking(world, resource, user, status, *, hours=48, hold=True):
    starts = utcnow() + timedelta(hours=hours)
    return Booking(org_id=world.org.id, resource=resource, user_id=user.id, startup_id=world.startup.id,
                   starts_at=starts, ends_at=starts + timedelta(hours=1), blocked_until=starts + timedelta(hours=1),
                   status=status, price=100_000 if status == BookingStatus.AWAITING_PAYMENT else 0,
                   hold_expires_at=utcnow() + timedelta(minutes=30) if hold else None)


def test_bookings_to_pay_held_time_and_approvals(client, session, world, fablab, api_headers):
    pay = _booking(world, fablab.room, world.founder, BookingStatus.AWAITING_PAYMENT)
    held = _booking(world, fablab.printer, world.founder, BookingStatus.HELD, hours=72)
    lapsed = _booking(world, fablab.printer, world.founder, BookingStatus.HELD, hours=96)
    waiting = _booking(world, fablab.laser, world.other_founder, BookingStatus.PENDING_APPROVAL, hold=False)
    session.add_all([pay, held, lapsed, waiting])
    session.flush()
    lapsed.hold_expires_at = utcnow() - timedelta(minutes=1)  # a hold that ran out is nothing to do
    session.flush()
    founder, manager = api_headers(world.founder), api_headers(world.manager)
    mine = todo(client, founder)
    assert [i["due_at"] is not None for i in of_kind(mine, "booking_pay")] == [True]
    assert len(of_kind(mine, "waitlist_held")) == 1
    assert of_kind(mine, "booking_approval") == []
    other = todo(client, api_headers(world.other_founder))
    assert of_kind(other, "booking_pay") == [] and of_kind(other, "waitlist_held") == []
    assert len(of_kind(todo(client, manager), "booking_approval")) == 1

    assert client.post(f"{API}/bookings/{pay.id}/cancel", headers=founder).status_code == 200
    taken = client.post(f"{API}/bookings/{held.id}/take", headers=founder)
    assert taken.status_code == 200, taken.get_data(as_text=True)
    approved = client.post(f"{API}/bookings/{waiting.id}/approval", json={"decision": "approve"}, headers=manager)
    assert approved.status_code == 200, approved.get_data(as_text=True)
    mine = todo(client, founder)
    assert of_kind(mine, "booking_pay") == [] and of_kind(mine, "waitlist_held") == []
    assert of_kind(todo(client, manager), "booking_approval") == []


# -- invitations -----------------------------------------------------------------------------------------

def test_an_invitation_is_accepted_from_the_inbox_without_the_mailed_link(client, session, world, api_headers,
                                                                          sign_in):
    tdmu = OrgFactory(slug="tdmu", name="TDMU")
    invitation = InvitationFactory(org_id=tdmu.id, email=world.founder.email.lower(), role=Role.MENTOR)
    someone_elses = InvitationFactory(org_id=tdmu.id, email="someone@example.org")
    founder = api_headers(world.founder)
    items = of_kind(todo(client, founder), "invitation")
    assert [(i["org"], i["url"]) for i in items] == [("tdmu", f"/auth/invitations/mine/{invitation.id}")]
    assert of_kind(todo(client, api_headers(world.other_founder)), "invitation") == []
    sign_in(world.founder)
    assert "TDMU" in client.get("/o/bbi/").get_data(as_text=True)  # on the dashboard too
    assert client.get(f"/auth/invitations/mine/{someone_elses.id}").status_code == 404
    token = csrf_token(client, f"/auth/invitations/mine/{invitation.id}")
    accepted = client.post(f"/auth/invitations/mine/{invitation.id}", data={"csrf_token": token})
    assert accepted.status_code == 302 and accepted.headers["Location"].endswith("/o/tdmu/")
    assert session.execute(select(Membership).where(Membership.org_id == tdmu.id,
                                                    Membership.user_id == world.founder.id)).scalar_one().role \
        == Role.MENTOR
    assert of_kind(todo(client, founder), "invitation") == []


def test_someone_who_belongs_nowhere_reads_their_invitations(client, session, api_headers):
    from tests.factories import UserFactory

    person = UserFactory()
    InvitationFactory(org_id=OrgFactory(slug="bbi").id, email=person.email.lower())
    session.flush()
    assert [i["kind"] for i in todo(client, api_headers(person))] == ["invitation"]


# -- the list, the count, the doors ----------------------------------------------------------------------

def test_the_navigation_count_is_the_length_of_the_list(client, session, world, fablab, mentors, published,
                                                        api_headers, sign_in):
    for months in (-3, -2):
        session.add(CheckIn(org_id=world.org.id, startup=world.other, period=add_months(THIS_MONTH, months),
                            **kpis()))
    session.add(_booking(world, fablab.laser, world.other_founder, BookingStatus.PENDING_APPROVAL, hold=False))
    session.flush()
    for user in (world.manager, world.founder, mentors.mentor_user, world.funder):
        items = todo(client, api_headers(user), org="bbi")
        sign_in(user)
        assert badge(client) == len(items), user.email
        page = client.get("/o/bbi/").get_data(as_text=True)
        for item in items[:5]:  # the dashboard's first items of each kind link where they are done
            assert item["url"].replace("&", "&amp;") in page
        # Another page shows the same count in its navigation.
        other = client.get("/o/bbi/mentoring").get_data(as_text=True)
        found = BADGE_RE.search(other)
        assert (int(found.group(1)) if found else 0) == len(items)
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/o/bbi/")})


def test_the_list_is_paginated_with_its_total(client, session, world, api_headers):
    manager = api_headers(world.manager)
    for months in range(-6, 0):
        session.add(CheckIn(org_id=world.org.id, startup=world.startup, period=add_months(THIS_MONTH, months),
                            **kpis()))
    session.flush()
    whole = todo(client, manager)
    first = client.get("/api/v1/me/todo?page_size=4", headers=manager)
    second = client.get("/api/v1/me/todo?page_size=4&page=2", headers=manager)
    assert '"total": 6' in first.headers["X-Pagination"]
    assert first.get_json() + second.get_json() == whole
    assert client.get("/api/v1/me/todo?kind=nonsense", headers=manager).status_code == 422


def test_the_inbox_needs_a_personal_token(client, session, world):
    from incubator.orgs.services import create_service_token

    assert client.get("/api/v1/me/todo").status_code == 401
    actor = session.execute(select(Membership).where(Membership.user_id == world.manager.id)).scalar_one()
    token, _record = create_service_token(session, world.org, actor, name="sync", role=Role.STAFF, scopes="read",
                                          expires_at=None)
    session.flush()
    assert client.get("/api/v1/me/todo", headers={"Authorization": f"Bearer {token}"}).status_code == 404


def test_the_documented_kinds_are_the_inbox_kinds(app):
    from incubator.api.schemas import TodoItemOut
    from incubator.inbox.services import KIND_KEYS

    assert TodoItemOut().fields["kind"].metadata["enum"] == list(KIND_KEYS)
