"""The booking API beside the pages: each operation's happy path, the role that may not, another
organisation's row, bad input; the same answer class through both doors for every role; pagination and
filters; ETag / If-Match on a resource's rules; cancelling offers freed time the same way from both doors."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import select

from incubator.accounts.services import create_api_token
from incubator.booking import waitlist
from incubator.booking.models import Booking, BookingStatus, Closure, Lab, ResourceShare, Training, WaitlistEntry
from incubator.core.permissions import Role
from tests.booking.fixtures import SAIGON, next_weekday_at
from tests.conftest import csrf_token, login
from tests.doors import assert_same_door
from tests.factories import OrgFactory, member

RULES = {"name": "Meeting room", "kind": "room", "slot_minutes": "30", "min_minutes": "30", "max_minutes": "120",
         "buffer_minutes": "0", "min_notice_minutes": "60", "max_days_ahead": "30", "free_cancellation_hours": "24",
         "no_show_minutes": "15", "price_member": "100000", "price_partner": "0", "price_external": "0",
         "active": "1", "opens_0": "08:00", "closes_0": "17:00", "opens_2": "08:00", "closes_2": "20:00"}


@pytest.fixture()
def api(client, session):
    tokens: dict[int, dict[str, str]] = {}

    def _call(user, method, url, org="bbi", **kwargs):
        if user.id not in tokens:
            token, _record = create_api_token(session, user, "t")
            session.flush()
            tokens[user.id] = {"Authorization": f"Bearer {token}"}
        return client.open(f"/api/v1/orgs/{org}{url}", method=method, headers={**tokens[user.id],
                                                                                **kwargs.pop("headers", {})},
                           **kwargs)

    return _call


def _book(api, user, resource, start, minutes=60):
    return api(user, "POST", "/bookings", json={"resource_id": resource.id, "starts_at": start.isoformat(),
                                                "ends_at": (start + timedelta(minutes=minutes)).isoformat()})


def _pagination(response) -> dict:
    return json.loads(response.headers["X-Pagination"])


# -- new operations ---------------------------------------------------------------------------------

def test_a_single_booking_is_seen_by_its_booker_and_the_labs_staff_only(api, world, fablab):
    created = _book(api, world.founder, fablab.room, next_weekday_at(1, 10))
    assert created.status_code == 201
    body = created.get_json()
    assert created.headers["Location"].endswith(f"/api/v1/orgs/bbi/bookings/{body['id']}")
    assert api(world.founder, "GET", f"/bookings/{body['id']}").get_json()["status"] == "awaiting_payment"
    assert api(world.manager, "GET", f"/bookings/{body['id']}").status_code == 200
    assert api(world.other_founder, "GET", f"/bookings/{body['id']}").status_code == 404
    outsider = member(OrgFactory(slug="elsewhere"), Role.OWNER)
    assert api(outsider, "GET", f"/bookings/{body['id']}", org="elsewhere").status_code == 404
    assert api(world.founder, "GET", "/bookings/99999999999").status_code == 404


def test_weekly_bookings_all_or_nothing_or_skipping(api, world, fablab, session):
    start = next_weekday_at(2, 10)
    taken = _book(api, world.other_founder, fablab.room, start + timedelta(weeks=1)).get_json()
    payload = {"resource_id": fablab.room.id, "starts_at": start.isoformat(),
               "ends_at": (start + timedelta(hours=1)).isoformat(), "weeks": 3}
    refused = api(world.founder, "POST", "/bookings/weekly", json=payload)
    assert refused.status_code == 409 and refused.get_json()["code"] == "slot_taken"
    assert session.execute(select(Booking).where(Booking.user_id == world.founder.id)).first() is None
    made = api(world.founder, "POST", "/bookings/weekly", json={**payload, "skip_conflicts": True})
    assert made.status_code == 201
    body = made.get_json()
    assert len(body["bookings"]) == 2 and [s["code"] for s in body["skipped"]] == ["slot_taken"]
    assert taken["id"] not in [b["id"] for b in body["bookings"]]
    bad = api(world.founder, "POST", "/bookings/weekly", json={**payload, "weeks": 27})
    assert bad.status_code == 422 and "weeks" in bad.get_json()["fields"]
    assert api(world.funder, "POST", "/bookings/weekly", json=payload).status_code == 403


def test_approval_check_in_and_their_refusals(api, world, fablab, session):
    fablab.room.needs_approval = True
    session.flush()
    start = next_weekday_at(1, 10)
    booking = _book(api, world.founder, fablab.room, start).get_json()
    assert booking["status"] == "pending_approval"
    assert api(world.founder, "POST", f"/bookings/{booking['id']}/approval",
               json={"decision": "approve"}).status_code == 403
    bad = api(world.manager, "POST", f"/bookings/{booking['id']}/approval", json={"decision": "maybe"})
    assert bad.status_code == 422 and "decision" in bad.get_json()["fields"]
    approved = api(world.manager, "POST", f"/bookings/{booking['id']}/approval", json={"decision": "approve"})
    assert approved.status_code == 200 and approved.get_json()["status"] == "awaiting_payment"
    again = api(world.manager, "POST", f"/bookings/{booking['id']}/approval", json={"decision": "decline"})
    assert again.status_code == 422 and again.get_json()["code"] == "not_pending"
    # Check-in: only a confirmed booking, only around its time, only the booker's (or the staff's).
    refused = api(world.founder, "POST", f"/bookings/{booking['id']}/check-in")
    assert refused.status_code == 422 and refused.get_json()["code"] == "not_confirmed"
    row = session.get(Booking, booking["id"])
    row.status = BookingStatus.CONFIRMED
    session.flush()
    early = api(world.founder, "POST", f"/bookings/{booking['id']}/check-in")
    assert early.status_code == 422 and early.get_json()["code"] == "not_now"
    assert api(world.other_founder, "POST", f"/bookings/{booking['id']}/check-in").status_code == 404


def test_the_waitlist_join_take_and_leave(api, world, fablab, session):
    start = next_weekday_at(2, 10)
    first = _book(api, world.founder, fablab.room, start).get_json()
    window = {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat()}
    joined = api(world.other_founder, "POST", f"/resources/{fablab.room.id}/waitlist", json=window)
    assert joined.status_code == 201 and joined.get_json()["status"] == "waiting"
    past = api(world.other_founder, "POST", f"/resources/{fablab.room.id}/waitlist", json={
        "starts_at": (start - timedelta(days=30)).isoformat(), "ends_at": (start - timedelta(days=29)).isoformat()})
    assert past.status_code == 422 and past.get_json()["code"] == "invalid_range"
    assert api(world.funder, "POST", f"/resources/{fablab.room.id}/waitlist", json=window).status_code == 403
    assert api(world.founder, "POST", "/resources/99999/waitlist", json=window).status_code == 404
    assert api(world.founder, "POST", f"/bookings/{first['id']}/cancel").status_code == 200
    mine = api(world.other_founder, "GET", "/waitlist").get_json()
    assert [(e["status"], e["booking_id"] is not None) for e in mine] == [("offered", True)]
    # Someone else cannot take what is held for the other founder, nor leave their place for them.
    assert api(world.founder, "POST", f"/bookings/{mine[0]['booking_id']}/take").status_code == 404
    assert api(world.founder, "DELETE", f"/waitlist/{mine[0]['id']}").status_code == 404
    taken = api(world.other_founder, "POST", f"/bookings/{mine[0]['booking_id']}/take")
    assert taken.status_code == 200 and taken.get_json()["status"] == "awaiting_payment"
    twice = api(world.other_founder, "POST", f"/bookings/{mine[0]['booking_id']}/take")
    assert twice.status_code == 422 and twice.get_json()["code"] == "not_held"
    assert api(world.other_founder, "DELETE", f"/waitlist/{mine[0]['id']}").status_code == 409
    tomorrow = start + timedelta(days=1)
    later = api(world.other_founder, "POST", f"/resources/{fablab.room.id}/waitlist", json={
        "starts_at": tomorrow.isoformat(), "ends_at": (tomorrow + timedelta(hours=1)).isoformat()})
    assert api(world.other_founder, "DELETE", f"/waitlist/{later.get_json()['id']}").status_code == 204
    assert session.get(WaitlistEntry, later.get_json()["id"]) is None


def test_labs_and_resources_are_set_up_over_the_api(api, world, fablab, session):
    created = api(world.manager, "POST", "/labs", json={"name": "TDM Techlab", "site": "Thủ Dầu Một"})
    assert created.status_code == 201
    lab_id = created.get_json()["id"]
    assert created.headers["Location"].endswith(f"/labs/{lab_id}")
    assert api(world.founder, "POST", "/labs", json={"name": "Mine"}).status_code == 403
    assert api(world.manager, "POST", "/labs", json={"name": ""}).get_json()["fields"].keys() == {"name"}
    patched = api(world.manager, "PATCH", f"/labs/{lab_id}", json={"description": "Moulds and presses"})
    assert patched.get_json() == {"id": lab_id, "name": "TDM Techlab", "site": "Thủ Dầu Một",
                                  "description": "Moulds and presses"}
    resource = api(world.manager, "POST", f"/labs/{lab_id}/resources", json={"name": "Press", "kind": "machine"})
    assert resource.status_code == 201 and resource.get_json()["active"] is False
    assert len(resource.get_json()["hours"]) == 5 and resource.headers["ETag"]
    bad_kind = api(world.manager, "POST", f"/labs/{lab_id}/resources", json={"name": "Press", "kind": "rocket"})
    assert bad_kind.status_code == 422 and "kind" in bad_kind.get_json()["fields"]
    other = OrgFactory(slug="tdmu")
    foreign = Lab(org_id=other.id, name="Not yours")
    session.add(foreign)
    session.flush()
    assert api(world.manager, "PATCH", f"/labs/{foreign.id}", json={"name": "Mine"}).status_code == 404
    assert api(world.manager, "POST", f"/labs/{foreign.id}/resources",
               json={"name": "X", "kind": "bench"}).status_code == 404


def test_rules_are_patched_partially_and_checked_as_a_whole(api, world, fablab, session):
    url = f"/resources/{fablab.room.id}"
    shown = api(world.manager, "GET", url)
    assert shown.status_code == 200 and shown.get_json()["max_minutes"] == 240
    changed = api(world.manager, "PATCH", url, json={"max_minutes": 180, "hours": [
        {"weekday": 5, "opens": "09:00", "closes": "12:00"}], "max_hours_per_week": 6})
    assert changed.status_code == 200, changed.get_json()
    session.refresh(fablab.room)
    assert (fablab.room.max_minutes, fablab.room.min_minutes, fablab.room.max_hours_per_week) == (180, 30, 6)
    assert [(h.weekday, h.opens.hour, h.closes.hour) for h in fablab.room.hours] == [(5, 9, 12)]
    for body, field in (({"max_minutes": 15}, "max_minutes"), ({"slot_minutes": "ten"}, "slot_minutes"),
                        ({"training_id": 999999}, "training_id"), ({"colour": "red"}, "colour"),
                        ({"hours": [{"weekday": 1, "opens": "18:00", "closes": "09:00"}]}, "hours_1"),
                        ({"hours": [{"weekday": 9, "opens": "08:00", "closes": "09:00"}]}, "hours"),
                        ({"price_member": -1}, "price_member"), ({"name": ""}, "name")):
        refused = api(world.manager, "PATCH", url, json=body)
        assert refused.status_code == 422 and field in refused.get_json()["fields"], (body, refused.get_json())
    session.refresh(fablab.room)
    assert fablab.room.max_minutes == 180
    assert api(world.founder, "PATCH", url, json={"max_minutes": 60}).status_code == 403
    assert api(world.manager, "PATCH", "/resources/99999", json={"max_minutes": 60}).status_code == 404


def test_two_managers_editing_rules_the_second_gets_412_and_the_first_is_kept(api, world, fablab, session):
    other_manager = member(world.org, Role.MANAGER)
    url = f"/resources/{fablab.room.id}"
    etag = api(world.manager, "GET", url).headers["ETag"]
    first = api(world.manager, "PATCH", url, json={"max_minutes": 180}, headers={"If-Match": etag})
    assert first.status_code == 200 and first.headers["ETag"] != etag
    second = api(other_manager, "PATCH", url, json={"max_minutes": 90}, headers={"If-Match": etag})
    assert second.status_code == 412 and second.get_json()["code"] == "stale"
    session.refresh(fablab.room)
    assert fablab.room.max_minutes == 180
    assert api(other_manager, "PATCH", url, json={"max_minutes": 90},
               headers={"If-Match": first.headers["ETag"]}).status_code == 200


def test_two_managers_editing_the_rules_page_the_second_gets_a_form_error(client, world, fablab, session):
    url = f"/o/bbi/resources/{fablab.room.id}/settings"
    login(client, world.manager.email)
    page = client.get(url).get_data(as_text=True)
    version = f'name="version" value="{fablab.room.version}"'
    assert version in page
    token = csrf_token(client, url)
    first = client.post(url, data={**RULES, "max_minutes": "90", "version": str(fablab.room.version),
                                   "csrf_token": token})
    assert first.status_code == 302
    stale = client.post(url, data={**RULES, "max_minutes": "60", "version": version.split('"')[3],
                                   "csrf_token": token})
    assert stale.status_code == 422 and 'data-field="version"' in stale.get_data(as_text=True)
    session.refresh(fablab.room)
    assert fablab.room.max_minutes == 90


def test_closures_over_the_api(api, world, fablab, session):
    day = next_weekday_at(2, 8)
    url = f"/resources/{fablab.room.id}/closures"
    made = api(world.manager, "POST", url, json={"starts_at": day.isoformat(),
                                                 "ends_at": (day + timedelta(hours=4)).isoformat(),
                                                 "reason": "Electrical works", "maintenance": True})
    assert made.status_code == 201 and made.get_json()["reason"] == "Electrical works"
    refused = _book(api, world.founder, fablab.room, day + timedelta(hours=1))
    assert refused.status_code == 422 and refused.get_json()["code"] == "closed"
    backwards = api(world.manager, "POST", url, json={"starts_at": day.isoformat(),
                                                      "ends_at": (day - timedelta(hours=1)).isoformat()})
    assert backwards.status_code == 422 and "ends_at" in backwards.get_json()["fields"]
    listed = api(world.manager, "GET", url)
    assert [c["id"] for c in listed.get_json()] == [made.get_json()["id"]] and _pagination(listed)["total"] == 1
    assert api(world.founder, "GET", url).status_code == 403
    assert api(world.manager, "DELETE", f"/resources/{fablab.laser.id}/closures/{made.get_json()['id']}"
               ).status_code == 404  # another resource's closure
    assert api(world.manager, "DELETE", f"{url}/{made.get_json()['id']}").status_code == 204
    assert session.execute(select(Closure)).first() is None


def test_shares_over_the_api(api, world, fablab, session):
    tdmu = OrgFactory(slug="tdmu")
    url = f"/resources/{fablab.laser.id}/shares"
    made = api(world.manager, "POST", url, json={"partner_org": "tdmu", "needs_approval": True})
    assert made.status_code == 201 and made.get_json()["partner_org"] == "tdmu"
    assert [s["needs_approval"] for s in api(world.manager, "GET", url).get_json()] == [True]
    for partner in ("no-such-org", "bbi"):
        refused = api(world.manager, "POST", url, json={"partner_org": partner})
        assert refused.status_code == 422 and "partner_org" in refused.get_json()["fields"]
    assert api(world.founder, "POST", url, json={"partner_org": "tdmu"}).status_code == 403
    assert api(world.manager, "DELETE", f"{url}/{made.get_json()['id']}").status_code == 204
    assert session.execute(select(ResourceShare).where(ResourceShare.partner_org_id == tdmu.id)).first() is None


def test_trainings_and_certifications_over_the_api(api, world, fablab, session):
    made = api(world.manager, "POST", "/trainings", json={"name": "CNC router safety", "validity_months": 6})
    assert made.status_code == 201 and made.get_json()["validity_months"] == 6
    assert api(world.manager, "POST", "/trainings", json={"name": "CNC", "validity_months": 121}
               ).get_json()["fields"].keys() == {"validity_months"}
    assert [t["name"] for t in api(world.manager, "GET", "/trainings?q=cnc").get_json()] == ["CNC router safety"]
    granted = api(world.manager, "POST", "/certifications", json={"training_id": made.get_json()["id"],
                                                                  "user_id": world.other_founder.id})
    assert granted.status_code == 201 and granted.get_json()["user_id"] == world.other_founder.id
    outsider = member(OrgFactory(), Role.FOUNDER)
    refused = api(world.manager, "POST", "/certifications", json={"training_id": made.get_json()["id"],
                                                                  "user_id": outsider.id})
    assert refused.status_code == 422 and "user_id" in refused.get_json()["fields"]
    listed = api(world.manager, "GET", f"/certifications?user_id={world.other_founder.id}").get_json()
    assert [c["training_id"] for c in listed] == [made.get_json()["id"]]
    assert api(world.founder, "POST", "/trainings", json={"name": "Mine"}).status_code == 403
    assert api(world.founder, "GET", "/certifications").status_code == 403
    assert session.execute(select(Training).where(Training.name == "Mine")).first() is None


def test_partner_usage_and_utilisation_read_outs(api, world, fablab, session):
    start = next_weekday_at(1, 10)
    session.add(Booking(org_id=world.org.id, resource_id=fablab.room.id, user_id=world.founder.id,
                        startup_id=world.startup.id, starts_at=start, ends_at=start + timedelta(hours=2),
                        blocked_until=start + timedelta(hours=2), status=BookingStatus.CONFIRMED))
    session.flush()
    month = start.astimezone(SAIGON).strftime("%Y-%m")
    lines = api(world.manager, "GET", f"/utilisation?month={month}").get_json()
    assert [(line["resource_id"], line["booked_minutes"]) for line in lines] == [(fablab.room.id, 120)]
    assert api(world.manager, "GET", f"/partner-usage?month={month}").get_json() == []
    assert api(world.manager, "GET", "/utilisation?month=2026-13").status_code == 422
    assert api(world.manager, "GET", "/utilisation?month=9999-01").status_code == 422
    assert api(world.founder, "GET", "/utilisation").status_code == 403


# -- pagination and filters -------------------------------------------------------------------------

def test_lists_are_paginated_with_their_total(api, world, session):
    session.add_all([Lab(org_id=world.org.id, name=f"Lab {n:02d}") for n in range(30)])
    session.flush()
    first = api(world.founder, "GET", "/labs")
    assert len(first.get_json()) == 25 and _pagination(first)["total"] == 30
    second = api(world.founder, "GET", "/labs?page=2")
    assert [lab["name"] for lab in second.get_json()] == [f"Lab {n:02d}" for n in range(25, 30)]
    assert api(world.founder, "GET", "/labs?page_size=101").status_code == 422
    assert len(api(world.founder, "GET", "/labs?page_size=100").get_json()) == 30
    assert [lab["name"] for lab in api(world.founder, "GET", "/labs?q=b 0").get_json()] == [
        f"Lab 0{n}" for n in range(10)]
    assert api(world.founder, "GET", "/labs?q=%25").get_json() == []  # "%" is no wildcard
    assert api(world.founder, "GET", "/labs?page=99999999999").get_json() == []


def test_bookings_are_filtered_by_mine_status_resource_and_dates(api, world, fablab, session):
    start = next_weekday_at(1, 10)
    room = _book(api, world.founder, fablab.room, start).get_json()
    printer = _book(api, world.founder, fablab.printer, start + timedelta(days=1)).get_json()
    other = _book(api, world.other_founder, fablab.room, start + timedelta(days=2)).get_json()
    everything = api(world.manager, "GET", "/bookings")
    assert _pagination(everything)["total"] == 3
    assert api(world.manager, "GET", "/bookings?mine=1").get_json() == []
    assert {b["id"] for b in api(world.founder, "GET", "/bookings").get_json()} == {room["id"], printer["id"]}
    by_resource = api(world.manager, "GET", f"/bookings?resource_id={fablab.room.id}").get_json()
    assert {b["id"] for b in by_resource} == {room["id"], other["id"]}
    by_status = api(world.manager, "GET", f"/bookings?status={printer['status']}").get_json()
    assert printer["id"] in {b["id"] for b in by_status}
    assert all(b["status"] == printer["status"] for b in by_status)
    noon = start + timedelta(hours=12)
    window = {"from": noon.isoformat(), "to": (noon + timedelta(days=1)).isoformat()}
    assert [b["id"] for b in api(world.manager, "GET", "/bookings", query_string=window).get_json()] == [printer["id"]]
    assert api(world.manager, "GET", "/bookings?status=nonsense").status_code == 422
    assert api(world.manager, "GET", "/bookings", query_string={"from": "2026-01-01T00:00"}).status_code == 422


# -- one door, two doors ----------------------------------------------------------------------------

@pytest.mark.parametrize("door", ["page", "api"])
def test_cancelling_offers_the_freed_slot_the_same_way_from_both_doors(door, client, api, app, world, fablab,
                                                                       session):
    from incubator.core import mail

    start = next_weekday_at(2, 10)
    first = _book(api, world.founder, fablab.room, start).get_json()
    with app.test_request_context():
        waitlist.join_waitlist(session, world.org, fablab.room, world.other_founder, start,
                               start + timedelta(hours=1))
    if door == "api":
        assert api(world.founder, "POST", f"/bookings/{first['id']}/cancel").status_code == 200
    else:
        login(client, world.founder.email)
        response = client.post(f"/o/bbi/bookings/{first['id']}/cancel",
                               data={"csrf_token": csrf_token(client, "/o/bbi/bookings")})
        assert response.status_code == 302
    held = session.execute(select(Booking).where(Booking.user_id == world.other_founder.id)).scalar_one()
    assert held.status == "held" and held.hold_expires_at is not None
    assert mail.outbox[-1].to == [world.other_founder.email]
    assert "/o/bbi/bookings" in mail.outbox[-1].body


def _roles(world):
    outsider = member(OrgFactory(slug="outside"), Role.OWNER)
    return {"owner": member(world.org, Role.OWNER), "manager": world.manager, "staff": member(world.org, Role.STAFF),
            "reviewer": member(world.org, Role.REVIEWER), "mentor": member(world.org, Role.MENTOR),
            "founder": world.founder, "funder": world.funder, "non-member": outsider}


def test_every_operation_answers_alike_through_the_page_and_the_api(client, api, world, fablab, session):
    """For each role, each API operation and its page twin: allowed, forbidden or hidden alike."""
    start = next_weekday_at(3, 10)
    local = start.astimezone(SAIGON).replace(tzinfo=None).isoformat(timespec="minutes")
    pending = Booking(org_id=world.org.id, resource_id=fablab.room.id, user_id=world.other_founder.id,
                      starts_at=start + timedelta(days=7), ends_at=start + timedelta(days=7, hours=1),
                      blocked_until=start + timedelta(days=7, hours=1), status=BookingStatus.PENDING_APPROVAL)
    session.add(pending)
    tdmu = OrgFactory(slug="tdmu")
    session.flush()
    room, lab = fablab.room.id, fablab.lab.id
    later = start + timedelta(days=2)
    span = f"?from={quote(start.isoformat())}&to={quote((start + timedelta(days=1)).isoformat())}"
    local_end = (start + timedelta(hours=1)).astimezone(SAIGON).replace(tzinfo=None).isoformat()
    other = str(world.other_founder.id)
    window = {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat()}
    # (label, page method, page url, page form, API method, API url, API json)
    pairs = [
        ("labs", "GET", "/labs", None, "GET", "/labs", None),
        ("lab day", "GET", f"/labs/{lab}", None, "GET", f"/labs/{lab}", None),
        ("new lab", "POST", "/labs/new", {"name": "Lab 2"}, "POST", "/labs", {"name": "Lab 3"}),
        ("resource", "GET", f"/resources/{room}", None, "GET", f"/resources/{room}", None),
        ("availability", "GET", f"/resources/{room}", None, "GET", f"/resources/{room}/availability{span}", None),
        ("new resource", "POST", f"/labs/{lab}/resources", {"name": "Bench", "kind": "bench"},
         "POST", f"/labs/{lab}/resources", {"name": "Bench 2", "kind": "bench"}),
        ("rules", "POST", f"/resources/{room}/settings", RULES, "PATCH", f"/resources/{room}", {"max_minutes": 120}),
        ("closures", "POST", f"/resources/{room}/closures",
         {"starts": local, "ends": local_end}, "POST", f"/resources/{room}/closures",
         {"starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=1)).isoformat()}),
        ("list closures", "GET", f"/resources/{room}/settings", None, "GET", f"/resources/{room}/closures", None),
        ("shares", "POST", f"/resources/{room}/shares", {"partner_org_id": str(tdmu.id)},
         "POST", f"/resources/{room}/shares", {"partner_org": "tdmu"}),
        ("list shares", "GET", f"/resources/{room}/settings", None, "GET", f"/resources/{room}/shares", None),
        ("trainings", "GET", "/certifications", None, "GET", "/trainings", None),
        ("new training", "POST", "/trainings", {"name": "CNC", "validity_months": "6"},
         "POST", "/trainings", {"name": "CNC 2", "validity_months": 6}),
        ("certify", "POST", "/certifications", {"training_id": str(fablab.training.id), "user_id": other},
         "POST", "/certifications", {"training_id": fablab.training.id, "user_id": world.other_founder.id}),
        ("partner usage", "GET", "/partner-usage", None, "GET", "/partner-usage", None),
        ("utilisation", "GET", "/utilisation", None, "GET", "/utilisation", None),
        ("my bookings", "GET", "/bookings", None, "GET", "/bookings", None),
        ("book", "POST", f"/resources/{room}/book?start={local}", {"minutes": "60"},
         "POST", "/bookings", {"resource_id": room, **window}),
        ("weekly", "POST", f"/resources/{room}/book?start={local}", {"minutes": "60", "weeks": "2"},
         "POST", "/bookings/weekly", {"resource_id": room, **window, "weeks": 2}),
        ("approval", "POST", f"/bookings/{pending.id}/approval", {"decision": "approve"},
         "POST", f"/bookings/{pending.id}/approval", {"decision": "decline"}),
        ("waitlist", "POST", f"/resources/{room}/waitlist", {"start": local, "minutes": "60"},
         "POST", f"/resources/{room}/waitlist", window),
    ]
    expected = {  # what the rule says, so that two doors wrong alike are caught too
        "labs": {"non-member": "hidden"}, "new lab": "managers", "rules": "managers", "closures": "managers",
        "book": "bookers", "waitlist": "bookers", "approval": "managers",
    }
    managers = {"owner", "manager", "staff"}
    bookers = managers | {"founder"}
    signed_in = None
    for role, user in _roles(world).items():
        if signed_in is not None:
            client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
        login(client, user.email)
        signed_in = user
        token = csrf_token(client, "/account")
        for label, page_method, page_url, form, api_method, api_url, body in pairs:
            page = client.open(f"/o/bbi{page_url}", method=page_method,
                               data={**(form or {}), "csrf_token": token} if page_method == "POST" else None)
            answer = api(user, api_method, api_url, json=body)
            found = assert_same_door(page, answer, f"{role} {label}")
            rule = expected.get(label)
            if role == "non-member":
                assert found == "hidden", (role, label)
            elif rule == "managers":
                assert found == ("allowed" if role in managers else "forbidden"), (role, label)
            elif rule == "bookers":
                assert found == ("allowed" if role in bookers else "forbidden"), (role, label)


def _bookings(session, world, fablab, count, start, status=BookingStatus.CONFIRMED, user=None):
    for n in range(count):
        begin = start + timedelta(minutes=30 * n)
        session.add(Booking(org_id=world.org.id, resource_id=fablab.printer.id, user_id=(user or world.founder).id,
                            starts_at=begin, ends_at=begin + timedelta(minutes=30),
                            blocked_until=begin + timedelta(minutes=30), status=status))
    session.flush()


def test_my_bookings_page_is_paginated(client, world, fablab, session):
    _bookings(session, world, fablab, 55, next_weekday_at(1, 0))
    login(client, world.founder.email)
    first = client.get("/o/bbi/bookings").get_data(as_text=True)
    assert first.count('data-status="confirmed"') == 50 and "55 in all" in first
    assert 'href="/o/bbi/bookings?page=2"' in first
    assert client.get("/o/bbi/bookings?page=2").get_data(as_text=True).count('data-status="confirmed"') == 5


def _rows(response) -> int:
    return response.get_data(as_text=True).split('data-testid="day-bookings"')[1].split("</table>")[0].count("<tr><td>")


def test_the_managers_day_is_filtered_and_paginated_keeping_the_filters(client, world, fablab, session):
    start = next_weekday_at(1, 0)
    _bookings(session, world, fablab, 48, start)  # the printer's whole day, half an hour each
    for hour, status in ((9, BookingStatus.CANCELLED), (11, BookingStatus.CANCELLED), (13, BookingStatus.CONFIRMED)):
        session.add(Booking(org_id=world.org.id, resource_id=fablab.room.id, user_id=world.founder.id,
                            starts_at=start + timedelta(hours=hour), ends_at=start + timedelta(hours=hour + 1),
                            blocked_until=start + timedelta(hours=hour + 1), status=status))
    session.flush()
    day = start.astimezone(SAIGON).date().isoformat()
    login(client, world.manager.email)
    page = client.get(f"/o/bbi/lab-bookings?day={day}").get_data(as_text=True)
    assert "51 in all" in page and f"day={day}" in page and "page=2" in page
    rows = page.split('data-testid="day-bookings"')[1].split("</table>")[0]
    assert rows.count("<tr><td>") == 50
    second = client.get(f"/o/bbi/lab-bookings?day={day}&page=2").get_data(as_text=True)
    assert second.split('data-testid="day-bookings"')[1].split("</table>")[0].count("<tr><td>") == 1
    only_room = client.get(f"/o/bbi/lab-bookings?day={day}&resource_id={fablab.room.id}").get_data(as_text=True)
    table = only_room.split('data-testid="day-bookings"')[1].split("</table>")[0]
    assert table.count("<tr><td>") == 3 and "3D printer" not in table
    both = client.get(f"/o/bbi/lab-bookings?day={day}&resource_id={fablab.room.id}&status=cancelled")
    assert _rows(both) == 2
    printer = client.get(f"/o/bbi/lab-bookings?day={day}&resource_id={fablab.printer.id}&status=confirmed")
    html = printer.get_data(as_text=True)
    assert _rows(printer) == 48 and 'value="confirmed" selected' in html
    assert f'value="{fablab.printer.id}" selected' in html
    assert client.get(f"/o/bbi/lab-bookings?day={day}&status=nonsense&resource_id=abc").status_code == 200
