"""Cancelling and moving a session (page and API, one rule), logging only once started, rating once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from incubator.accounts.services import create_api_token
from incubator.core import mail
from incubator.core.db import utcnow
from incubator.core.errors import DomainError
from incubator.mentoring import mentor_sessions
from incubator.mentoring.models import MentorSession, SessionStatus
from tests.conftest import csrf_token, login
from tests.mentoring.fixtures import next_weekday


def _bearer(session, user) -> dict[str, str]:
    value, _record = create_api_token(session, user, "test")
    session.flush()
    return {"Authorization": f"Bearer {value}"}


@pytest.fixture()
def coming(app, session, world, mentors, published):
    """A session of Hà and AgriSense next Tuesday at 10:00 (Hà is free on weekdays 9:00-17:00)."""
    with app.test_request_context():
        record = mentor_sessions.schedule_session(session, published[world.startup.id], starts_at=next_weekday(1, 10),
                                           duration_minutes=60)
    session.flush()
    mail.outbox.clear()
    return record


def _ics(message) -> str:
    return message.attachments[0].data.decode()


def test_a_founder_cancels_and_the_mentor_gets_a_cancellation(client, session, world, mentors, coming):
    login(client, world.founder.email)
    url = f"/o/bbi/mentor-sessions/{coming.id}"
    assert 'data-testid="cancel-form"' in client.get(url).get_data(as_text=True)
    done = client.post(f"{url}/cancel", data={"csrf_token": csrf_token(client, url)}, follow_redirects=True)
    assert "The session is cancelled" in done.get_data(as_text=True)
    session.refresh(coming)
    assert (coming.status, coming.sequence) == (SessionStatus.CANCELLED, 1)
    assert [m.to for m in mail.outbox] == [[mentors.mentor_user.email]]  # the other side, not the one who did it
    ics = _ics(mail.outbox[0])
    assert "METHOD:CANCEL" in ics and "STATUS:CANCELLED" in ics and "SEQUENCE:1" in ics
    assert f"UID:mentor-session-{coming.id}@" in ics
    again = client.post(f"{url}/cancel", data={"csrf_token": csrf_token(client, url)}, follow_redirects=True)
    assert "Only a scheduled session can be changed." in again.get_data(as_text=True)


def test_the_mentor_moves_a_session_and_the_founder_gets_the_new_time(client, session, world, mentors, coming):
    login(client, mentors.mentor_user.email)
    url = f"/o/bbi/mentor-sessions/{coming.id}"
    new = next_weekday(3, 14)
    done = client.post(f"{url}/reschedule", data={"starts_at": new.strftime("%Y-%m-%dT%H:%M"), "duration": "90",
                                                  "csrf_token": csrf_token(client, url)}, follow_redirects=True)
    assert "The session is moved" in done.get_data(as_text=True)
    session.refresh(coming)
    assert (coming.starts_at, coming.duration_minutes, coming.sequence) == (new, 90, 1)
    assert [m.to for m in mail.outbox] == [[world.founder.email]]
    ics = _ics(mail.outbox[0])
    assert "METHOD:REQUEST" in ics and "SEQUENCE:1" in ics and f"UID:mentor-session-{coming.id}@" in ics
    assert re.search(r"DTSTART;TZID=Asia/Ho_Chi_Minh:\d{8}T140000\r?\n", ics)  # 14:00 in Saigon, local time
    assert re.search(r"DTEND;TZID=Asia/Ho_Chi_Minh:\d{8}T153000\r?\n", ics)


@pytest.mark.parametrize(("when", "message"), [
    (lambda: next_weekday(5, 10), "This time is outside the mentor"),  # a Saturday
    (lambda: next_weekday(1, 10) - timedelta(days=14), "This time is in the past."),
])
def test_a_move_follows_the_rules_of_a_new_session(client, session, world, mentors, coming, when, message):
    login(client, world.founder.email)
    url = f"/o/bbi/mentor-sessions/{coming.id}"
    done = client.post(f"{url}/reschedule", data={"starts_at": when().strftime("%Y-%m-%dT%H:%M"), "duration": "60",
                                                  "csrf_token": csrf_token(client, url)}, follow_redirects=True)
    assert message in done.get_data(as_text=True)
    session.refresh(coming)
    assert (coming.starts_at, coming.sequence) == (next_weekday(1, 10), 0)
    assert mail.outbox == []


def test_a_session_running_to_midnight_is_outside_a_daytime_window(client, session, world, mentors, coming):
    """Hà is free 09:00-17:00: eight hours from 16:00 end at midnight, which the check before core.weekly
    let through (it compared the end's 00:00 with 17:00)."""
    login(client, world.founder.email)
    url = f"/o/bbi/mentor-sessions/{coming.id}"
    done = client.post(f"{url}/reschedule", data={"starts_at": next_weekday(1, 16).strftime("%Y-%m-%dT%H:%M"),
                                                  "duration": "480", "csrf_token": csrf_token(client, url)},
                       follow_redirects=True)
    assert "This time is outside the mentor" in done.get_data(as_text=True)
    session.refresh(coming)
    assert (coming.starts_at, coming.duration_minutes, coming.sequence) == (next_weekday(1, 10), 60, 0)


def test_only_the_pair_and_managers_change_a_session(client, app, session, world, mentors, coming):
    for outsider in (world.other_founder, mentors.park_user):
        login(client, outsider.email)
        assert client.post(f"/o/bbi/mentor-sessions/{coming.id}/cancel",
                           data={"csrf_token": csrf_token(client, "/o/bbi/mentoring")}).status_code == 404
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, world.manager.email)
    client.post(f"/o/bbi/mentor-sessions/{coming.id}/cancel",
                data={"csrf_token": csrf_token(client, "/o/bbi/mentoring")})
    session.refresh(coming)
    assert coming.status == SessionStatus.CANCELLED
    assert {m.to[0] for m in mail.outbox} == {mentors.mentor_user.email, world.founder.email}  # both sides


def test_a_session_that_has_started_can_no_longer_be_cancelled_or_moved(app, session, world, mentors, coming):
    with app.test_request_context():
        with pytest.raises(DomainError) as error:
            mentor_sessions.cancel_session(session, coming, world.founder, manager=False,
                                    now=coming.starts_at + timedelta(minutes=1))
        assert error.value.code == "session_in_past"
        with pytest.raises(DomainError) as error:
            mentor_sessions.reschedule_session(session, coming, world.founder, manager=False,
                                        starts_at=next_weekday(3, 10) + timedelta(days=7),
                                        now=coming.starts_at + timedelta(minutes=1))
        assert error.value.code == "session_in_past"


def test_a_session_is_logged_only_once_it_has_started(client, session, world, mentors, coming):
    login(client, mentors.mentor_user.email)
    url = f"/o/bbi/mentor-sessions/{coming.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'data-testid="log-form"' not in page and "once it has started" in page
    done = client.post(url, data={"notes": "Too early", "duration": "60", "csrf_token": csrf_token(client, url)},
                       follow_redirects=True)
    assert "A session is logged once it has started." in done.get_data(as_text=True)
    session.refresh(coming)
    assert (coming.status, coming.notes) == (SessionStatus.SCHEDULED, "")
    api = client.post(f"/api/v1/orgs/bbi/sessions/{coming.id}/log", json={"notes": "Too early"},
                      headers=_bearer(session, mentors.mentor_user))
    assert api.status_code == 422 and api.get_json()["code"] == "session_in_future"


def test_a_session_is_rated_once(client, app, session, world, mentors, published):
    with app.test_request_context():
        record = mentor_sessions.schedule_session(session, published[world.startup.id],
                                           starts_at=next_weekday(1, 10) - timedelta(days=14), duration_minutes=60)
    session.flush()
    mentor, founder = _bearer(session, mentors.mentor_user), _bearer(session, world.founder)
    base = f"/api/v1/orgs/bbi/sessions/{record.id}"
    assert client.post(f"{base}/rating", json={"rating": 5}, headers=founder).get_json()["code"] == "not_held"
    logged = client.post(f"{base}/log", json={"notes": "Pricing", "action_items": [{"title": "Send the deck"}]},
                         headers=mentor)
    assert logged.status_code == 200 and logged.get_json()["status"] == "held"
    assert client.post(f"{base}/log", json={"notes": "x"}, headers=founder).status_code == 403
    first = client.post(f"{base}/rating", json={"rating": 4, "comment": "Useful"}, headers=founder)
    assert first.status_code == 200 and first.get_json()["rating"] == 4
    second = client.post(f"{base}/rating", json={"rating": 1}, headers=founder)
    assert second.status_code == 409 and second.get_json()["code"] == "already_rated"
    session.refresh(record)
    assert (record.rating, record.rating_comment) == (4, "Useful")
    # The page shows the rating and no longer offers the form.
    login(client, world.founder.email)
    page = client.get(f"/o/bbi/mentor-sessions/{record.id}").get_data(as_text=True)
    assert 'data-testid="rate-form"' not in page and "★ 4/5 Useful" in page
    again = client.post(f"/o/bbi/mentor-sessions/{record.id}/rate",
                        data={"rating": "1", "csrf_token": csrf_token(client, "/o/bbi/mentoring")},
                        follow_redirects=True)
    assert "This session is already rated." in again.get_data(as_text=True)


def test_cancel_and_move_over_the_api(client, session, world, mentors, coming):
    founder, mentor, stranger = (_bearer(session, u) for u in (world.founder, mentors.mentor_user,
                                                               world.other_founder))
    base = f"/api/v1/orgs/bbi/sessions/{coming.id}"
    assert client.patch(base, json={"starts_at": next_weekday(3, 10).isoformat()}, headers=stranger).status_code == 404
    moved = client.patch(base, json={"starts_at": next_weekday(3, 10).isoformat()}, headers=mentor)
    assert moved.status_code == 200 and moved.get_json()["duration_minutes"] == 60
    assert [m.to for m in mail.outbox] == [[world.founder.email]]
    past = client.patch(base, json={"starts_at": (utcnow() - timedelta(days=1)).isoformat()}, headers=founder)
    assert past.status_code == 422 and past.get_json()["code"] == "session_in_past"
    saturday = client.patch(base, json={"starts_at": next_weekday(5, 10).isoformat()}, headers=founder)
    assert saturday.status_code == 422 and saturday.get_json()["code"] == "outside_availability"
    cancelled = client.post(f"{base}/cancel", headers=founder)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert client.post(f"{base}/cancel", headers=founder).get_json()["code"] == "not_scheduled"
    assert client.get(base, headers=mentor).get_json()["status"] == "cancelled"
    session.expire_all()
    record = session.execute(select(MentorSession)).scalar_one()
    assert (record.status, record.sequence) == (SessionStatus.CANCELLED, 2)
