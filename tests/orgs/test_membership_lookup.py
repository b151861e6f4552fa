"""A request reads the person's memberships once: the organisation guard (pages and API) finds the
current one among them, and the page's organisation menu lists the same rows."""

from __future__ import annotations

from incubator.accounts.services import create_api_token
from incubator.core.permissions import Role
from tests.conftest import login, statements
from tests.factories import MembershipFactory, OrgFactory


def _membership_reads(seen: list[str]) -> int:
    return sum(1 for statement in seen if "FROM memberships" in statement)


def test_a_page_reads_the_memberships_once(app, client, world, fablab):
    other = OrgFactory(slug="tdmu", name="Thu Dau Mot University Startup Support Center")
    MembershipFactory(user=world.founder, org=other, role=Role.REVIEWER)
    login(client, world.founder.email)
    for url in ("/o/bbi/", f"/o/bbi/resources/{fablab.laser.id}", "/o/bbi/bookings"):
        with statements(app) as seen:
            page = client.get(url)
        assert page.status_code == 200
        assert _membership_reads(seen) == 1, url
        html = page.get_data(as_text=True)
        assert 'href="/o/bbi/"' in html and 'href="/o/tdmu/"' in html  # the menu still lists both
    with statements(app) as seen:
        assert client.get("/o/tdmu/").status_code == 200
    assert _membership_reads(seen) == 1
    assert 'data-role="reviewer"' in client.get("/o/tdmu/").get_data(as_text=True)  # the right one of the two


def test_an_api_call_reads_the_membership_once(app, client, session, world, fablab):
    token, _record = create_api_token(session, world.founder, "t")
    session.flush()
    headers = {"Authorization": f"Bearer {token}"}
    for url in ("/api/v1/orgs/bbi/resources", "/api/v1/orgs/bbi/bookings", "/api/v1/orgs/bbi"):
        with statements(app) as seen:
            response = client.get(url, headers=headers)
        assert response.status_code == 200, url
        assert _membership_reads(seen) == 1, url
    assert client.get("/api/v1/orgs/bbi", headers=headers).get_json()["role"] == "founder"


def test_a_membership_added_or_removed_is_seen_by_the_next_request(app, client, session, world):
    """Nothing is kept from one request to the next, even when a test shares one application context."""
    other = OrgFactory(slug="tdmu", name="TDMU")
    login(client, world.founder.email)
    with app.app_context():
        assert client.get("/o/tdmu/").status_code == 404
        membership = MembershipFactory(user=world.founder, org=other, role=Role.MENTOR)
        assert client.get("/o/tdmu/").status_code == 200
        session.delete(membership)
        session.flush()
        assert client.get("/o/tdmu/").status_code == 404


def test_within_a_request_adding_or_removing_a_membership_is_seen_at_once(app, session, world):
    from flask_login import login_user

    from incubator.orgs import services

    other = OrgFactory(slug="tdmu", name="TDMU")
    with app.test_request_context():
        login_user(world.founder)  # as in a request of theirs: their own memberships are theirs to read (core.rls)
        assert services.find_membership(world.founder, other) is None
        added = services.add_member(session, other, world.founder, Role.MENTOR)
        assert services.find_membership(world.founder, other).id == added.id
        assert [m.org.slug for m in services.memberships_of(session, world.founder)] == ["bbi", "tdmu"]
        owner = services.add_member(session, other, world.manager, Role.OWNER)
        services.remove_member(session, owner, added)
        session.flush()
        assert services.find_membership(world.founder, other) is None


def _org_by_slug_reads(seen: list[str]) -> int:
    return sum(1 for statement in seen if "organisations.slug =" in statement)


def test_a_members_page_finds_its_organisation_among_the_memberships(app, client, session, world, fablab):
    """The organisation of the URL is the one the member's memberships already hold: no second read of it,
    on a page and through the API; a non-member's request still reads it (and answers 404)."""
    login(client, world.founder.email)
    for url in ("/o/bbi/", "/o/bbi/bookings"):
        with statements(app) as seen:
            page = client.get(url)
        assert page.status_code == 200
        assert _org_by_slug_reads(seen) == 0, url
        assert f"· {world.org.name}</title>" in page.get_data(as_text=True)  # the organisation is in context
    other = OrgFactory(slug="tdmu", name="TDMU")
    with statements(app) as seen:
        assert client.get("/o/tdmu/").status_code == 404
    assert _org_by_slug_reads(seen) == 1
    token, _record = create_api_token(session, world.founder, "t")
    session.flush()
    with statements(app) as seen:
        response = client.get("/api/v1/orgs/bbi", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.get_json()["slug"] == "bbi"
    assert _org_by_slug_reads(seen) == 0
    with statements(app) as seen:
        response = client.get(f"/api/v1/orgs/{other.slug}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404
    assert _org_by_slug_reads(seen) == 1
