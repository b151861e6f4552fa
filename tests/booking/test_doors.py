"""Same door (#13): every booking API operation and its page answer each kind of caller alike.

For each operation of the booking domain (labs, resources, closures, shares, trainings and
certifications, bookings, the waitlist, calendar feeds, and the resources another organisation shares
with bbi) the page that does the same thing is called by the same person, and both answers must fall
in the same class (``tests.doors.answer_class``); the table also says which class each caller gets, so
a rule changed wrongly in both doors is caught too. An operation without a page twin says why.
"""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select

from incubator.booking import setup
from incubator.booking.models import Booking, BookingStatus, Lab, OpeningHours, Resource, ResourceShare
from incubator.booking.waitlist import join_waitlist
from incubator.cohorts.models import ResourceKind
from incubator.core.db import utcnow
from incubator.core.permissions import Role
from tests.booking.fixtures import SAIGON, next_weekday_at
from tests.doors import MANAGERS, ROLES, Door, documented, expect, person, walk
from tests.factories import OrgFactory, member

BOOKERS = (*MANAGERS, "founder")  # BOOK_RESOURCES, and the founder has a startup of bbi
RULES = {"name": "Meeting room", "kind": "room", "slot_minutes": "30", "min_minutes": "30", "max_minutes": "120",
         "buffer_minutes": "0", "min_notice_minutes": "60", "max_days_ahead": "30", "free_cancellation_hours": "24",
         "no_show_minutes": "15", "price_member": "100000", "price_partner": "0", "price_external": "0",
         "active": "1", "opens_0": "08:00", "closes_0": "17:00", "opens_2": "08:00", "closes_2": "20:00"}


def _local(moment: Any) -> str:
    return moment.astimezone(SAIGON).replace(tzinfo=None).isoformat(timespec="minutes")


def _booking(session: Any, org: Any, resource: Any, user: Any, start: Any, status: str) -> Booking:
    booking = Booking(org_id=org.id, resource_id=resource.id, user_id=user.id, starts_at=start,
                      ends_at=start + timedelta(hours=1), blocked_until=start + timedelta(hours=1), status=status,
                      hold_expires_at=utcnow() + timedelta(minutes=30) if status == BookingStatus.HELD else None)
    session.add(booking)
    return booking


@pytest.fixture()
def scene(app, session, world, fablab) -> dict[str, Any]:
    """bbi's Fablab with the founder's bookings (one to cancel, one to check in to, one held for them
    from the waitlist), another founder's booking waiting for approval, closures and shares to remove
    (one per door), the founder's places on the waitlist (one per door), and a partner's resource shared with
    bbi."""
    org, room = world.org, fablab.room
    start = next_weekday_at(3, 10)
    rows = {"cancel": _booking(session, org, room, world.founder, start, BookingStatus.CONFIRMED),
            "check_in": _booking(session, org, room, world.founder, start + timedelta(hours=2),
                                 BookingStatus.CONFIRMED),
            "held": _booking(session, org, room, world.founder, start + timedelta(hours=4), BookingStatus.HELD),
            "pending": _booking(session, org, room, world.other_founder, start + timedelta(days=7),
                                BookingStatus.PENDING_APPROVAL)}
    closures = [setup.close(session, org, room, start + timedelta(days=1, hours=n),
                            start + timedelta(days=1, hours=n + 1), "Maintenance", True) for n in (0, 2)]
    partners = [OrgFactory(slug=f"partner-{n}") for n in (1, 2)]
    for partner in partners:
        setup.set_share(session, room, partner, share=True, needs_approval=False)
    api_share = session.execute(select(ResourceShare).where(ResourceShare.partner_org_id == partners[1].id)
                                ).scalar_one()
    waiting = join_waitlist(session, org, room, world.founder, start + timedelta(hours=6),
                            start + timedelta(hours=7))
    page_waiting = join_waitlist(session, org, room, world.founder, start + timedelta(hours=8),
                                 start + timedelta(hours=9))
    # tdmu shares its CNC router with bbi.
    tdmu = OrgFactory(slug="tdmu")
    lab = Lab(org_id=tdmu.id, name="TDMU lab")
    cnc = Resource(org_id=tdmu.id, lab=lab, name="CNC router", kind=ResourceKind.MACHINE, open_24h=True,
                   slot_minutes=30, min_minutes=30, max_minutes=240, min_notice_minutes=60, max_days_ahead=30)
    cnc.hours = [OpeningHours(org_id=tdmu.id, weekday=d, opens=fablab.room.hours[0].opens,
                              closes=fablab.room.hours[0].closes) for d in range(5)]
    session.add_all([lab, cnc])
    session.flush()
    session.add(ResourceShare(org_id=tdmu.id, resource_id=cnc.id, partner_org_id=org.id))
    with app.app_context():  # the printer has a photo to look at
        from incubator.core.storage import storage

        fablab.printer.photo_key = storage().save(io.BytesIO(b"\xff\xd8\xff\xe0" + b"\x00" * 32), ".jpg")
    session.flush()
    return {**{f"{name}_id": b.id for name, b in rows.items()}, "page_closure": closures[0].id,
            "closure_id": closures[1].id, "page_partner": partners[0].id, "resource_share_id": api_share.id,
            "waitlist_entry_id": waiting.id, "page_waitlist_entry": page_waiting.id, "shared_id": cnc.id,
            "tdmu": tdmu.id, "start": start, "photo_resource": fablab.printer.id}


def doors(world: Any, fablab: Any, scene: dict[str, Any]) -> list[Door]:
    start = scene["start"] + timedelta(days=2)
    window = {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat()}
    later = scene["start"] + timedelta(days=3)
    span = f"?from={quote(start.isoformat())}&to={quote((start + timedelta(days=1)).isoformat())}"
    slot = {"start": _local(start), "minutes": "60"}
    manage = expect(MANAGERS)
    return [
        Door("list labs", ("GET", "/labs", None), ("GET", "/labs", None), expect("all")),
        Door("get lab", ("GET", "/labs/{lab_id}", None), ("GET", "/labs/{lab_id}", None), expect("all")),
        Door("create lab", ("POST", "/labs", {"name": "Lab 2"}), ("POST", "/labs/new", {"name": "Lab 3"}), manage),
        Door("rename lab", ("PATCH", "/labs/{lab_id}", {"name": "Renamed"}), None, manage,
             no_page="no page renames a lab: the labs page only creates them"),
        Door("list resources", ("GET", "/resources", None), ("GET", "/labs", None), expect("all")),
        Door("get resource", ("GET", "/resources/{resource_id}", None), ("GET", "/resources/{resource_id}", None),
             expect("all")),
        Door("create resource", ("POST", "/labs/{lab_id}/resources", {"name": "Bench", "kind": "bench"}),
             ("POST", "/labs/{lab_id}/resources", {"name": "Bench 2", "kind": "bench"}), manage),
        Door("change rules", ("PATCH", "/resources/{resource_id}", {"max_minutes": 120}),
             ("POST", "/resources/{resource_id}/settings", RULES), manage),
        # The API sends no file here: a refusal on its merits (422), as the rules page without one saves the rest.
        Door("upload photo", ("PUT", "/resources/{resource_id}/photo", None),
             ("POST", "/resources/{resource_id}/settings", RULES), manage),
        Door("get photo", ("GET", "/resources/{photo_resource}/photo", None),
             ("GET", "/resources/{photo_resource}/photo", None), expect("all")),
        Door("remove photo", ("DELETE", "/resources/{resource_id}/photo", None),
             ("POST", "/resources/{resource_id}/photo/remove", {}), manage),
        Door("availability", ("GET", "/resources/{resource_id}/availability" + span, None),
             ("GET", "/resources/{resource_id}", None), expect("all")),
        Door("list closures", ("GET", "/resources/{resource_id}/closures", None),
             ("GET", "/resources/{resource_id}/settings", None), manage),
        Door("add closure", ("POST", "/resources/{resource_id}/closures",
                             {"starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=1)).isoformat()}),
             ("POST", "/resources/{resource_id}/closures",
              {"starts": _local(later), "ends": _local(later + timedelta(hours=1))}), manage),
        Door("remove closure", ("DELETE", "/resources/{resource_id}/closures/{closure_id}", None),
             ("POST", "/resources/{resource_id}/closures", {"remove": "{page_closure}"}), manage),
        Door("list shares", ("GET", "/resources/{resource_id}/shares", None),
             ("GET", "/resources/{resource_id}/settings", None), manage),
        Door("share", ("POST", "/resources/{resource_id}/shares", {"partner_org": "tdmu"}),
             ("POST", "/resources/{resource_id}/shares", {"partner_org_id": "{tdmu}"}), manage),
        Door("stop sharing", ("DELETE", "/resources/{resource_id}/shares/{resource_share_id}", None),
             ("POST", "/resources/{resource_id}/shares", {"partner_org_id": "{page_partner}", "action": "stop"}),
             manage),
        Door("list trainings", ("GET", "/trainings", None), ("GET", "/certifications", None), manage),
        Door("create training", ("POST", "/trainings", {"name": "CNC", "validity_months": 6}),
             ("POST", "/trainings", {"name": "CNC 2", "validity_months": "6"}), manage),
        Door("list certifications", ("GET", "/certifications", None), ("GET", "/certifications", None), manage),
        Door("certify", ("POST", "/certifications", {"training_id": "{training_id}", "user_id": "{other_founder}"}),
             ("POST", "/certifications", {"training_id": "{training_id}", "user_id": "{other_founder}"}), manage),
        Door("partner usage", ("GET", "/partner-usage", None), ("GET", "/partner-usage", None), manage),
        Door("utilisation", ("GET", "/utilisation", None), ("GET", "/utilisation", None), manage),
        Door("list bookings", ("GET", "/bookings", None), ("GET", "/bookings", None), expect("all")),
        Door("book", ("POST", "/bookings", {"resource_id": "{resource_id}", **window}),
             ("POST", "/resources/{resource_id}/book?start=" + quote(_local(start)), {"minutes": "60"}),
             expect(BOOKERS)),
        Door("quote", ("POST", "/bookings/quote", {"resource_id": "{resource_id}", **window}),
             ("POST", "/resources/{resource_id}/book?start=" + quote(_local(start)), {"minutes": "60", "preview": "1"}),
             expect(BOOKERS)),
        Door("book weekly", ("POST", "/bookings/weekly", {"resource_id": "{resource_id}", **window, "weeks": 2}),
             ("POST", "/resources/{resource_id}/book?start=" + quote(_local(start)), {"minutes": "60", "weeks": "2"}),
             expect(BOOKERS)),
        Door("get booking", ("GET", "/bookings/{cancel_id}", None), None, expect(BOOKERS, hidden=("reviewer", "mentor",
                                                                                                  "funder")),
             no_page="no page shows one booking: the bookings page lists the caller's own (the 'list bookings' row)"),
        Door("cancel", ("POST", "/bookings/{cancel_id}/cancel", None), ("POST", "/bookings/{cancel_id}/cancel", None),
             expect(BOOKERS, hidden=("reviewer", "mentor", "funder"))),
        Door("approval", ("POST", "/bookings/{pending_id}/approval", {"decision": "decline"}),
             ("POST", "/bookings/{pending_id}/approval", {"decision": "approve"}), manage),
        Door("check in", ("POST", "/bookings/{check_in_id}/check-in", None), None,
             expect(BOOKERS, hidden=("reviewer", "mentor", "funder")),
             no_page="the check-in page (the QR code's address) names a resource, not a booking, and checks in the "
                     "caller's own booking on it that is on now (to anyone else it says they have none): it cannot "
                     "name another's booking, so its answer is not this operation's"),
        Door("take a held slot", ("POST", "/bookings/{held_id}/take", None), ("POST", "/bookings/{held_id}/take", None),
             expect(("founder",), hidden=MANAGERS)),
        Door("list waitlist", ("GET", "/waitlist", None), ("GET", "/bookings", None), expect("all")),
        Door("join waitlist", ("POST", "/resources/{resource_id}/waitlist", window),
             ("POST", "/resources/{resource_id}/waitlist", slot), expect(BOOKERS)),
        Door("leave waitlist", ("DELETE", "/waitlist/{waitlist_entry_id}", None),
             ("POST", "/waitlist/{page_waitlist_entry}/leave", None),
             expect(("founder",), hidden=(*MANAGERS, "reviewer", "mentor", "funder"))),
        Door("new bookings feed", ("POST", "/bookings/feed", None), ("POST", "/bookings/feed", None), expect("all")),
        Door("new resource feed", ("POST", "/resources/{resource_id}/feed", None),
             ("POST", "/resources/{resource_id}/feed", None), manage),
        # tdmu's CNC router, shared with bbi: seen and booked from bbi by those who book.
        Door("get shared resource", ("GET", "/resources/{shared_id}", None), ("GET", "/shared-resources/{shared_id}",
                                                                              None), expect(BOOKERS)),
        Door("book shared resource", ("POST", "/bookings", {"resource_id": "{shared_id}", **window}),
             ("POST", "/shared-resources/{shared_id}?start=" + quote(_local(start)), {"minutes": "60"}),
             expect(BOOKERS)),
    ]


def _ids(world: Any, fablab: Any, scene: dict[str, Any]) -> dict[str, Any]:
    return {**scene, "lab_id": fablab.lab.id, "resource_id": fablab.room.id, "training_id": fablab.training.id,
            "other_founder": world.other_founder.id}


@pytest.mark.parametrize("role", ROLES)
def test_every_booking_operation_answers_alike_through_the_page_and_the_api(app, session, world, fablab, scene,
                                                                            role):
    wrong = walk(app, session, role, person(world, role), doors(world, fablab, scene), _ids(world, fablab, scene))
    assert not wrong, f"{role}: {wrong}"


def test_the_table_walks_every_booking_operation_of_the_document(app, world, fablab, scene):
    """A booking operation added to the API without a row here fails this test; a row without a page
    twin says why."""
    table = doors(world, fablab, scene)
    walked = {door.operation for door in table}
    assert walked == documented(app, {"api_booking"}), sorted(documented(app, {"api_booking"}) ^ walked)
    assert all(door.no_page for door in table if door.page is None)


def test_a_founder_without_a_startup_gets_no_shared_resource_through_either_door(app, session, world, fablab,
                                                                                  scene):
    """The shared-resource pages refuse a founder membership with no startup (``booking_refusal``: 403
    ``no_startup``); the API's resource, availability and booking of a shared resource answer the same."""
    shared = [door for door in doors(world, fablab, scene) if "shared" in door.name]
    start = scene["start"] + timedelta(days=2)
    span = f"?from={quote(start.isoformat())}&to={quote((start + timedelta(days=1)).isoformat())}"
    shared.append(Door("shared availability", ("GET", "/resources/{shared_id}/availability" + span, None),
                       ("GET", "/shared-resources/{shared_id}", None), {}))
    refused = {"founder": "forbidden"}
    table = [Door(door.name, door.api, door.page, refused) for door in shared]
    assert len(table) == 3
    lone = member(world.org, Role.FOUNDER)  # a founder of no startup (e.g. one who applied to a call)
    assert walk(app, session, "founder", lone, table, _ids(world, fablab, scene)) == []
