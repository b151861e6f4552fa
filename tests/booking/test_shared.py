"""Shared labs: a partner organisation books the owner's resource at the partner rate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from incubator.accounts.services import create_api_token
from incubator.booking.models import Booking, ResourceShare
from incubator.cohorts.models import Startup, StartupFounder
from incubator.core.permissions import Role
from tests.booking.fixtures import SAIGON, next_weekday_at
from tests.conftest import csrf_token, login
from tests.factories import OrgFactory, member


@pytest.fixture()
def partner(world, fablab, session):
    """TDMU's founder (of a TDMU startup); bbi shares its meeting room with TDMU (not the laser cutter)."""
    tdmu = OrgFactory(slug="tdmu", name="TDMU")
    founder = member(tdmu, Role.FOUNDER)
    startup = Startup(org_id=tdmu.id, name="MouldTech")
    session.add_all([startup, StartupFounder(org_id=tdmu.id, startup=startup, user=founder)])
    fablab.room.price_partner = 150_000
    session.add(ResourceShare(org_id=world.org.id, resource_id=fablab.room.id, partner_org_id=tdmu.id))
    session.flush()
    token, _record = create_api_token(session, founder, "t")
    session.flush()
    return tdmu, founder, {"Authorization": f"Bearer {token}"}


def test_partners_see_and_book_shared_resources_at_their_rate(client, world, fablab, partner, session):
    tdmu, founder, headers = partner
    listed = client.get("/api/v1/orgs/tdmu/resources", headers=headers).get_json()
    assert [(r["id"], r["shared_by"], r["price_per_hour"]) for r in listed] == [(fablab.room.id, "bbi", 150_000)]
    start = next_weekday_at(1, 10)
    created = client.post("/api/v1/orgs/tdmu/bookings", headers=headers, json={
        "resource_id": fablab.room.id, "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat()})
    assert created.status_code == 201
    assert (created.get_json()["price"], created.get_json()["status"]) == (300_000, "awaiting_payment")
    booking = session.execute(select(Booking)).scalar_one()
    assert (booking.org_id, booking.partner_org_id) == (world.org.id, tdmu.id)  # in the owner's calendar
    # The owner's own members meet the same no-overlap rule.
    login(client, world.founder.email)
    url = f"/o/bbi/resources/{fablab.room.id}/book?start={start.astimezone(SAIGON).isoformat().replace('+', '%2B')}"
    refused = client.post(url, data={"minutes": "60", "csrf_token": csrf_token(client, url)})
    assert 'data-code="slot_taken"' in refused.get_data(as_text=True)
    mine = client.get("/api/v1/orgs/tdmu/bookings?mine=1", headers=headers).get_json()
    assert [b["id"] for b in mine] == [booking.id]
    assert client.post(f"/api/v1/orgs/tdmu/bookings/{booking.id}/cancel", headers=headers).status_code == 200


def test_what_is_not_shared_stays_invisible(client, world, fablab, partner):
    _tdmu, _founder, headers = partner
    start = next_weekday_at(1, 10)
    response = client.post("/api/v1/orgs/tdmu/bookings", headers=headers, json={
        "resource_id": fablab.laser.id, "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat()})
    assert response.status_code == 404
    query = {"from": start.isoformat(), "to": (start + timedelta(days=1)).isoformat()}
    assert client.get(f"/api/v1/orgs/tdmu/resources/{fablab.laser.id}/availability", query_string=query,
                      headers=headers).status_code == 404
    assert client.get(f"/api/v1/orgs/tdmu/resources/{fablab.room.id}/availability", query_string=query,
                      headers=headers).status_code == 200


def test_sharing_can_require_the_owners_approval(client, world, fablab, partner, session):
    _tdmu, founder, headers = partner
    share = session.execute(select(ResourceShare)).scalar_one()
    share.needs_approval = True
    session.flush()
    start = next_weekday_at(2, 10)
    created = client.post("/api/v1/orgs/tdmu/bookings", headers=headers, json={
        "resource_id": fablab.room.id, "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat()}).get_json()
    assert created["status"] == "pending_approval"
    login(client, world.manager.email)
    assert founder.name in client.get("/o/bbi/lab-bookings").get_data(as_text=True)


def test_owner_shares_from_the_settings_page_and_reads_the_monthly_statement(client, world, fablab, partner,
                                                                               session):
    tdmu, founder, headers = partner
    start = next_weekday_at(1, 10)
    client.post("/api/v1/orgs/tdmu/bookings", headers=headers, json={
        "resource_id": fablab.room.id, "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat()})
    booking = session.execute(select(Booking)).scalar_one()
    booking.status = "confirmed"  # paid
    session.flush()
    login(client, world.manager.email)
    url = f"/o/bbi/resources/{fablab.laser.id}/settings"
    client.post(f"/o/bbi/resources/{fablab.laser.id}/shares",
                data={"partner_org_id": tdmu.id, "needs_approval": "1", "csrf_token": csrf_token(client, url)})
    assert session.execute(select(ResourceShare).where(ResourceShare.resource_id == fablab.laser.id)
                           ).scalar_one().needs_approval
    month = start.astimezone().strftime("%Y-%m")
    statement = client.get(f"/o/bbi/partner-usage?month={month}").get_data(as_text=True)
    assert "TDMU" in statement and "2.0" in statement and "₫300,000" in statement


def test_the_partner_page_books_through_the_share(client, world, fablab, partner, session):
    tdmu, founder, _headers = partner
    login(client, founder.email)
    page = client.get("/o/tdmu/shared-resources").get_data(as_text=True)
    assert "Meeting room" in page and "Laser cutter" not in page
    url = f"/o/tdmu/shared-resources/{fablab.room.id}"
    start = next_weekday_at(3, 14).astimezone(SAIGON).strftime("%Y-%m-%dT%H:%M")  # the owner's time zone
    response = client.post(url, data={"start": start, "minutes": "60", "csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    assert session.execute(select(Booking.partner_org_id)).scalar_one() == tdmu.id
    assert client.get(f"/o/tdmu/shared-resources/{fablab.laser.id}").status_code == 404


@pytest.mark.parametrize("door", ["page", "api"])
def test_a_partner_cancelling_offers_the_freed_time_to_the_owners_waitlist(door, app, client, world, fablab,
                                                                           partner, session):
    """Both doors offer the freed slot alike, also when a partner's member cancels from their side."""
    from incubator.booking import waitlist

    _tdmu, founder, headers = partner
    start = next_weekday_at(2, 10)
    booked = client.post("/api/v1/orgs/tdmu/bookings", headers=headers, json={
        "resource_id": fablab.room.id, "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat()}).get_json()
    with app.test_request_context():
        waitlist.join_waitlist(session, world.org, fablab.room, world.other_founder, start,
                               start + timedelta(hours=1))
    if door == "api":
        assert client.post(f"/api/v1/orgs/tdmu/bookings/{booked['id']}/cancel", headers=headers).status_code == 200
    else:
        login(client, founder.email)
        assert client.post(f"/o/tdmu/bookings/{booked['id']}/cancel",
                           data={"csrf_token": csrf_token(client, "/o/tdmu/bookings")}).status_code == 302
    held = session.execute(select(Booking).where(Booking.user_id == world.other_founder.id)).scalar_one()
    assert (held.status, held.org_id) == ("held", world.org.id)
