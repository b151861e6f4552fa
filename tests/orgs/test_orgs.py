from __future__ import annotations

import pytest
from sqlalchemy import select

from incubator.core.permissions import Role
from incubator.orgs.models import Membership
from tests.conftest import csrf_token, login, statements
from tests.factories import OrgFactory, member


@pytest.fixture()
def org(session):
    return OrgFactory(slug="bbi", name="Becamex Business Incubator")


@pytest.mark.parametrize("role,panel", [
    (Role.OWNER, "members"), (Role.MANAGER, "cohorts"), (Role.STAFF, "booking"), (Role.FOUNDER, "applications"),
    (Role.MENTOR, "mentees"), (Role.REVIEWER, "reviews"), (Role.FUNDER, "funded"),
])
def test_each_role_lands_on_its_dashboard(client, org, role, panel):
    user = member(org, role)
    response = login(client, user.email)
    assert response.headers["Location"] == "/o/bbi/"
    html = client.get("/o/bbi/").get_data(as_text=True)
    assert f'data-role="{role.value}"' in html
    assert f'data-testid="panel-{panel}"' in html


def test_only_member_managers_see_the_members_link_and_page(client, org):
    founder = member(org, Role.FOUNDER)
    login(client, founder.email)
    assert "/o/bbi/members" not in client.get("/o/bbi/").get_data(as_text=True)
    assert client.get("/o/bbi/members").status_code == 403
    assert client.get("/o/bbi/settings").status_code == 403


def test_org_switcher_lists_every_membership(client, org):
    other = OrgFactory(slug="tdmu", name="Thu Dau Mot University Startup Support Center")
    user = member(org, Role.MENTOR)
    from tests.factories import MembershipFactory

    MembershipFactory(user=user, org=other, role=Role.REVIEWER)
    login(client, user.email)
    html = client.get("/o/tdmu/").get_data(as_text=True)
    assert 'href="/o/bbi/"' in html and 'href="/o/tdmu/"' in html
    assert 'data-role="reviewer"' in html
    # The last organisation visited is where the next sign-in lands.
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
    with client.session_transaction() as s:
        s["last_org"] = "tdmu"
    assert login(client, user.email).headers["Location"] == "/o/tdmu/"


def test_change_role_and_remove_member(client, session, org):
    owner = member(org, Role.OWNER)
    staff = member(org, Role.STAFF)
    login(client, owner.email)
    target = session.execute(select(Membership).where(Membership.user_id == staff.id)).scalar_one()
    token = csrf_token(client, "/o/bbi/members")
    client.post(f"/o/bbi/members/{target.id}/role", data={"role": "manager", "csrf_token": token})
    session.expire_all()
    assert target.role == Role.MANAGER
    client.post(f"/o/bbi/members/{target.id}/remove", data={"csrf_token": token})
    assert session.execute(select(Membership.id).where(Membership.id == target.id)).first() is None


def test_the_last_owner_cannot_be_demoted_or_removed(client, session, org):
    owner = member(org, Role.OWNER)
    login(client, owner.email)
    mine = session.execute(select(Membership).where(Membership.user_id == owner.id)).scalar_one()
    token = csrf_token(client, "/o/bbi/members")
    response = client.post(f"/o/bbi/members/{mine.id}/role", data={"role": "manager", "csrf_token": token},
                           follow_redirects=True)
    assert "at least one owner" in response.get_data(as_text=True)
    client.post(f"/o/bbi/members/{mine.id}/remove", data={"csrf_token": token})
    session.expire_all()
    assert session.get(Membership, mine.id).role == Role.OWNER


def test_a_manager_cannot_touch_owners(client, session, org):
    owner = member(org, Role.OWNER)
    manager = member(org, Role.MANAGER)
    staff = member(org, Role.STAFF)
    login(client, manager.email)
    token = csrf_token(client, "/o/bbi/members")
    owner_m = session.execute(select(Membership).where(Membership.user_id == owner.id)).scalar_one()
    staff_m = session.execute(select(Membership).where(Membership.user_id == staff.id)).scalar_one()
    client.post(f"/o/bbi/members/{owner_m.id}/role", data={"role": "staff", "csrf_token": token})
    client.post(f"/o/bbi/members/{owner_m.id}/remove", data={"csrf_token": token})
    client.post(f"/o/bbi/members/{staff_m.id}/role", data={"role": "owner", "csrf_token": token})
    session.expire_all()
    assert session.get(Membership, owner_m.id).role == Role.OWNER
    assert session.get(Membership, staff_m.id).role == Role.STAFF


def test_settings_validate_and_save(client, session, org):
    owner = member(org, Role.OWNER)
    login(client, owner.email)
    token = csrf_token(client, "/o/bbi/settings")
    bad = client.post("/o/bbi/settings", data={"name": "BBI", "timezone": "Mars/Olympus", "currency": "VN",
                                                "default_locale": "vi", "csrf_token": token})
    assert bad.status_code == 200
    html = bad.get_data(as_text=True)
    assert 'data-field="timezone"' in html and 'data-field="currency"' in html
    session.expire_all()
    assert org.name == "Becamex Business Incubator"
    good = client.post("/o/bbi/settings", data={"name": "BBI", "timezone": "Asia/Seoul", "currency": "usd",
                                                 "default_locale": "en", "csrf_token": token})
    assert good.status_code == 302
    session.expire_all()
    assert (org.name, org.timezone, org.currency, org.default_locale) == ("BBI", "Asia/Seoul", "USD", "en")


def test_platform_admin_creates_an_organisation_and_invites_its_owner(client, session):
    from incubator.core import mail
    from incubator.orgs.models import Invitation, Organisation
    from tests.factories import UserFactory

    admin = UserFactory(is_admin=True)
    login(client, admin.email)
    token = csrf_token(client, "/admin/orgs/new")
    response = client.post("/admin/orgs/new", data={
        "slug": "eiu-fablab", "name": "EIU Fablab", "kind": "university_lab", "timezone": "Asia/Ho_Chi_Minh",
        "currency": "VND", "default_locale": "vi", "owner_email": "head@eiu.example.org", "csrf_token": token})
    assert response.status_code == 302
    org = session.execute(select(Organisation).where(Organisation.slug == "eiu-fablab")).scalar_one()
    invitation = session.execute(select(Invitation).where(Invitation.org_id == org.id)).scalar_one()
    assert (invitation.email, invitation.role) == ("head@eiu.example.org", Role.OWNER)
    assert mail.outbox[-1].to == ["head@eiu.example.org"]
    # A taken address is a field error and nothing is half-created.
    response = client.post("/admin/orgs/new", data={
        "slug": "eiu-fablab", "name": "Another", "kind": "incubator", "timezone": "Asia/Ho_Chi_Minh",
        "currency": "VND", "default_locale": "vi", "owner_email": "x@example.org", "csrf_token": token})
    assert 'data-field="slug"' in response.get_data(as_text=True)
    assert session.execute(select(Organisation).where(Organisation.name == "Another")).first() is None


def test_admin_pages_are_refused_to_everyone_else(client, org):
    assert "/auth/login" in client.get("/admin/").headers["Location"]  # a visitor signs in first
    login(client, member(org, Role.OWNER).email)
    assert client.get("/admin/").status_code == 403
    assert client.get("/admin/orgs/new").status_code == 403


def test_members_are_paginated_with_a_constant_number_of_queries(app, client, session, org):

    owner = member(org, Role.OWNER)
    for _ in range(55):
        member(org, Role.FOUNDER)
    login(client, owner.email)
    with statements(app) as seen:
        first = client.get("/o/bbi/members").get_data(as_text=True)
    assert first.count('name="role" id="role-') == 50
    assert "56 in all" in first
    second = client.get("/o/bbi/members?page=2").get_data(as_text=True)
    assert second.count('name="role" id="role-') == 6
    assert len(seen) <= 12, seen


def test_the_invite_form_starts_at_the_least_privilege(client, org):
    import re

    login(client, member(org, Role.OWNER).email)
    html = client.get("/o/bbi/members").get_data(as_text=True)
    invite = html[html.index('name="email"'):]
    selected = re.search(r'<option selected value="(\w+)">|<option value="(\w+)" selected>', invite)
    assert selected and "founder" in selected.groups()
    assert not re.search(r'<option selected value="owner"|<option value="owner" selected', invite)


def test_the_new_organisation_help_text_shows_the_address_placeholder(client, session):
    from tests.factories import UserFactory

    login(client, UserFactory(is_admin=True).email)
    html = client.get("/admin/orgs/new").get_data(as_text=True)
    assert "used in /o/&lt;address&gt;/." in html
    assert "<address>" not in html


# -- the booking panels of the dashboard -------------------------------------------------------------------

def _bookings(session, world, fablab, user, count, start, status="confirmed", step_hours=2, resource=None):
    from datetime import timedelta

    from incubator.booking.models import Booking

    rows = []
    for i in range(count):
        begins = start + timedelta(hours=step_hours * i)
        rows.append(Booking(org_id=world.org.id, resource=resource or fablab.room, user=user, starts_at=begins,
                            ends_at=begins + timedelta(hours=1), blocked_until=begins + timedelta(hours=1),
                            status=status))
    session.add_all(rows)
    session.flush()
    return rows


def test_a_founder_sees_their_next_bookings_on_the_dashboard(app, client, session, world, fablab):
    from datetime import timedelta

    from tests.booking.fixtures import next_weekday_at
    from tests.conftest import page_queries

    start = next_weekday_at(1, 8)
    _bookings(session, world, fablab, world.founder, 1, start - timedelta(weeks=1) - timedelta(days=3))  # past
    _bookings(session, world, fablab, world.other_founder, 1, start, resource=fablab.printer)  # someone else's
    login(client, world.founder.email)
    assert "No upcoming bookings." in client.get("/o/bbi/").get_data(as_text=True)
    _bookings(session, world, fablab, world.founder, 3, start)
    html = client.get("/o/bbi/").get_data(as_text=True)
    panel = html[html.index('data-testid="panel-bookings"'):]
    assert panel.count("Meeting room") == 3 and "Nothing here yet" not in panel[:panel.index("</section>")]
    few = page_queries(app, client, "/o/bbi/")
    _bookings(session, world, fablab, world.founder, 16, start + timedelta(days=1))
    html = client.get("/o/bbi/").get_data(as_text=True)
    panel = html[html.index('data-testid="panel-bookings"'):html.index("</section>", html.index("panel-bookings"))]
    assert panel.count("Meeting room") == 5 and "and 14 more" in panel  # 19 upcoming, the next 5 shown
    assert page_queries(app, client, "/o/bbi/") == few  # bounded, whatever the number of bookings


def test_the_manager_sees_todays_bookings_and_pending_approvals(app, client, session, world, fablab):
    from datetime import UTC, datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from tests.conftest import page_queries

    zone = ZoneInfo(world.org.timezone)
    today = datetime.now(UTC).astimezone(zone).date()
    day_start = datetime.combine(today, time(0), zone)
    _bookings(session, world, fablab, world.founder, 2, day_start + timedelta(hours=1), step_hours=3)
    _bookings(session, world, fablab, world.other_founder, 1, day_start + timedelta(days=2, hours=10),
              status="pending_approval")
    _bookings(session, world, fablab, world.other_founder, 1, day_start + timedelta(days=3), status="cancelled")
    login(client, world.manager.email)
    html = client.get("/o/bbi/").get_data(as_text=True)
    panel = html[html.index('data-testid="panel-booking"'):html.index("</section>", html.index("panel-booking"))]
    assert "2 bookings today" in panel and "1 awaiting approval" in panel
    assert panel.count("Meeting room") == 2 and world.founder.name in panel
    assert "Nothing here yet" not in panel
    few = page_queries(app, client, "/o/bbi/")
    _bookings(session, world, fablab, world.other_founder, 10, day_start + timedelta(hours=1, minutes=30),
              step_hours=1, resource=fablab.printer)
    assert page_queries(app, client, "/o/bbi/") == few
