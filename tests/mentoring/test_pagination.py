"""Mentoring lists are paginated (API: ``X-Pagination``; pages: the pagination macro) and filtered."""

from __future__ import annotations

import json

import pytest

from incubator.accounts.services import create_api_token
from incubator.core.permissions import Role
from incubator.mentoring.models import ConflictKind, MentorConflict, MentorProfile
from tests.factories import StartupFactory, member

API = "/api/v1/orgs/bbi"


@pytest.fixture()
def many_mentors(session, world, mentors):
    """30 more mentors: every third speaks English, every fifth knows IP; one name has a literal %."""
    extra = []
    for n in range(30):
        user = member(world.org, Role.MENTOR, name=f"Mentor {n:02d}" if n != 7 else "Mentor 100% sure")
        extra.append(MentorProfile(org_id=world.org.id, user=user, languages=["vi", "en"] if n % 3 == 0 else ["vi"],
                                   expertise=["ip"] if n % 5 == 0 else ["product"]))
    session.add_all(extra)
    session.flush()
    return extra


def _headers(session, user) -> dict[str, str]:
    token, _record = create_api_token(session, user, "paging")
    session.flush()
    return {"Authorization": f"Bearer {token}"}


def _meta(response) -> dict:
    return json.loads(response.headers["X-Pagination"])


def test_the_mentor_list_is_paginated_and_filtered(client, session, world, mentors, many_mentors):
    manager = _headers(session, world.manager)
    first = client.get(f"{API}/mentors", headers=manager)
    assert first.status_code == 200 and len(first.get_json()) == 25
    assert (_meta(first)["total"], _meta(first)["total_pages"]) == (32, 2)
    second = client.get(f"{API}/mentors?page=2", headers=manager)
    assert len(second.get_json()) == 7
    assert not {m["id"] for m in first.get_json()} & {m["id"] for m in second.get_json()}
    assert client.get(f"{API}/mentors?page_size=101", headers=manager).status_code == 422  # at most 100
    assert len(client.get(f"{API}/mentors?page_size=100", headers=manager).get_json()) == 32

    def names(query: str) -> list[str]:
        return [m["name"] for m in client.get(f"{API}/mentors?page_size=100&{query}", headers=manager).get_json()]

    assert names("q=park") == ["Park"]
    assert names("q=100%25") == ["Mentor 100% sure"]  # a typed % is a percent sign, not "anything"
    assert names("q=%25") == ["Mentor 100% sure"]
    assert len(names("expertise=ip")) == 6 and "Hà" not in names("expertise=ip")
    assert names("expertise=fundraising") == ["Hà", "Park"]
    assert names("expertise=fund_raising") == []  # an underscore is not a wildcard
    english = names("language=en")
    assert "Park" in english and "Hà" not in english and len(english) == 1 + 10
    assert names("language=en&expertise=ip&q=Mentor") == ["Mentor 00", "Mentor 15"]


def test_the_mentors_page_has_page_links_that_keep_the_filters(client, session, sign_in, world, many_mentors):
    sign_in(world.manager)
    html = client.get("/o/bbi/mentors").get_data(as_text=True)
    assert html.count('data-testid="mentors"') == 1 and "32 in all" in html
    assert 'href="/o/bbi/mentors?page=2' in html
    assert "Mentor 29" not in html  # on page 2
    assert "Mentor 29" in client.get("/o/bbi/mentors?page=2").get_data(as_text=True)
    filtered = client.get("/o/bbi/mentors?language=vi&q=Mentor").get_data(as_text=True)
    assert "30 in all" in filtered and "language=vi" in filtered.split('aria-label="Pages"')[1]
    only_ip = client.get("/o/bbi/mentors?expertise=ip").get_data(as_text=True)
    assert "Mentor 05" in only_ip and "Mentor 01" not in only_ip


def test_a_mentor_lists_only_their_own_profile(client, session, sign_in, world, mentors, many_mentors):
    listed = client.get(f"{API}/mentors", headers=_headers(session, mentors.mentor_user))
    assert [m["name"] for m in listed.get_json()] == ["Hà"] and _meta(listed)["total"] == 1
    sign_in(mentors.mentor_user)
    html = client.get("/o/bbi/mentors").get_data(as_text=True)
    assert "Hà" in html and "Park" not in html and "Mentor 01" not in html


def test_the_conflict_lists_are_paginated(client, session, sign_in, world, mentors):
    startups = [StartupFactory(org_id=world.org.id, name=f"Startup {n:02d}") for n in range(27)]
    session.flush()
    session.add_all([MentorConflict(org_id=world.org.id, mentor_id=mentors.ha.id, startup_id=s.id,
                                    kind=ConflictKind.ADVISORY, reason="Advises") for s in startups])
    session.add(MentorConflict(org_id=world.org.id, mentor_id=mentors.park.id, startup_id=world.startup.id,
                               kind=ConflictKind.FAMILY, reason="Cousin"))
    session.flush()
    manager = _headers(session, world.manager)
    first = client.get(f"{API}/mentor-conflicts", headers=manager)
    assert len(first.get_json()) == 25 and _meta(first)["total"] == 28
    assert len(client.get(f"{API}/mentor-conflicts?page=2", headers=manager).get_json()) == 3
    park_only = client.get(f"{API}/mentor-conflicts?mentor_id={mentors.park.id}", headers=manager).get_json()
    assert [c["reason"] for c in park_only] == ["Cousin"]
    own = client.get(f"{API}/mentor-conflicts", headers=_headers(session, mentors.park_user))
    assert [c["reason"] for c in own.get_json()] == ["Cousin"]
    # A mentor without a profile yet has no conflicts (through both doors).
    newcomer = member(world.org, Role.MENTOR)
    session.flush()
    assert client.get(f"{API}/mentor-conflicts", headers=_headers(session, newcomer)).get_json() == []
    sign_in(world.manager)
    html = client.get("/o/bbi/mentor-conflicts").get_data(as_text=True)
    assert "28 in all" in html and 'href="/o/bbi/mentor-conflicts?page=2"' in html
    pages = [client.get(f"/o/bbi/mentor-conflicts?page={n}").get_data(as_text=True) for n in (1, 2)]
    assert sum(page.count("Startup ") for page in pages) == 27 and sum("Cousin" in page for page in pages) == 1


def test_other_mentoring_lists_answer_their_total(client, session, world, mentors, published):
    manager = _headers(session, world.manager)
    for path in ("/matches", "/sessions", "/action-items"):
        answer = client.get(f"{API}{path}?page_size=1", headers=manager)
        assert answer.status_code == 200 and "total" in _meta(answer), path
    matches = client.get(f"{API}/matches?page_size=1", headers=manager)
    assert len(matches.get_json()) == 1 and _meta(matches)["total"] == 2
    assert len(client.get(f"{API}/matches?page_size=1&page=2", headers=manager).get_json()) == 1


@pytest.mark.parametrize("query", ["/action-items?session_id=", "/action-items?match_id=", "/sessions?match_id=",
                                   "/matches?cohort_id=", "/mentor-conflicts?mentor_id="])
def test_an_id_beyond_any_column_is_refused_not_a_server_error(client, session, world, query):
    """Found by schemathesis on PostgreSQL: a huge id reached the database ("integer out of range")."""
    answer = client.get(f"{API}{query}{2**40}", headers=_headers(session, world.manager))
    assert answer.status_code == 422, answer.get_data(as_text=True)
    field = query[query.index("?") + 1:-1]
    assert answer.get_json()["code"] == "validation_error" and list(answer.get_json()["fields"]) == [field]
