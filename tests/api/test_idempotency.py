"""Idempotency-Key on API POSTs (#13): a repeat answers the stored answer without doing it again, a
reused key with another request is refused, and two requests with one key at once do it once, over
real HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from incubator.accounts.models import IdempotencyKey
from incubator.accounts.services import create_api_token
from incubator.booking.models import Booking
from incubator.core.db import utcnow
from incubator.ledger.models import Payment
from tests.booking.fixtures import next_weekday_at, race_lab


def _booking_body(world, hour: int = 10) -> dict[str, str | int]:
    start = next_weekday_at(1, hour)
    return {"resource_id": world.resources["bench"], "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat()}


def _post(client, token, url, body, key=None):
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(url, json=body, headers=headers)


def _bookings(session, world) -> int:
    return session.scalar(select(func.count()).select_from(Booking).where(Booking.org_id == world.org_id))


def test_a_repeat_with_the_same_key_answers_the_first_answer_and_books_once(client, session):
    world = race_lab(session, slug="idem-one")
    token, _record = create_api_token(session, world.founder, "t")
    url = f"/api/v1/orgs/{world.org_slug}/bookings"
    first = _post(client, token, url, _booking_body(world), key="booking-1")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = _post(client, token, url, _booking_body(world), key="booking-1")
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert again.headers["Content-Type"] == first.headers["Content-Type"]
    assert _bookings(session, world) == 1
    # another key is another booking request (here: the same slot, refused)
    other = _post(client, token, url, _booking_body(world), key="booking-2")
    assert other.status_code == 409 and other.get_json()["code"] == "slot_taken"


def test_the_same_key_with_another_request_is_422_idempotency_key_reused(client, session):
    world = race_lab(session, slug="idem-reuse")
    token, _record = create_api_token(session, world.founder, "t")
    url = f"/api/v1/orgs/{world.org_slug}/bookings"
    assert _post(client, token, url, _booking_body(world, 10), key="k").status_code == 201
    reused = _post(client, token, url, _booking_body(world, 12), key="k")
    assert reused.status_code == 422 and reused.get_json()["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in reused.get_json()["fields"]
    assert _bookings(session, world) == 1


def test_a_refusal_is_stored_and_answered_again(client, session):
    world = race_lab(session, slug="idem-4xx")
    token, _record = create_api_token(session, world.founder, "t")
    url = f"/api/v1/orgs/{world.org_slug}/bookings"
    body = {**_booking_body(world), "resource_id": 2**30}  # no such resource
    first = _post(client, token, url, body, key="missing")
    assert first.status_code == 404
    again = _post(client, token, url, body, key="missing")
    assert again.status_code == 404 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()


def test_a_server_error_is_not_stored_so_the_key_can_be_retried(client, session, monkeypatch):
    from incubator.booking import services

    world = race_lab(session, slug="idem-5xx")
    token, _record = create_api_token(session, world.founder, "t")
    url = f"/api/v1/orgs/{world.org_slug}/bookings"
    real = services.create_booking

    def broken(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(services, "create_booking", broken)
    assert _post(client, token, url, _booking_body(world), key="retry-me").status_code == 500
    assert session.scalar(select(func.count()).select_from(IdempotencyKey)
                          .where(IdempotencyKey.key == "retry-me")) == 0
    monkeypatch.setattr(services, "create_booking", real)
    retried = _post(client, token, url, _booking_body(world), key="retry-me")
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert _bookings(session, world) == 1


def test_a_stored_answer_lasts_24_hours(client, session):
    world = race_lab(session, slug="idem-expiry")
    token, _record = create_api_token(session, world.founder, "t")
    bookings = f"/api/v1/orgs/{world.org_slug}/bookings"
    first = _post(client, token, bookings, _booking_body(world), key="day")
    row = session.execute(select(IdempotencyKey).where(IdempotencyKey.key == "day")).scalar_one()
    assert timedelta(hours=23, minutes=59) < row.expires_at - row.created_at <= timedelta(hours=24)
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.flush()
    # after 24 hours the key is new again: the request runs (and meets its own first booking)
    late = _post(client, token, bookings, _booking_body(world), key="day")
    assert first.status_code == 201 and late.status_code == 409 and "Idempotent-Replayed" not in late.headers


def test_keys_belong_to_their_principal(client, session):
    world = race_lab(session, slug="idem-owner")
    from incubator.core.permissions import Role
    from tests.factories import member

    staff = member(_org(session, world), Role.STAFF)
    mine, _r1 = create_api_token(session, world.founder, "a")
    theirs, _r2 = create_api_token(session, staff, "b")
    url = f"/api/v1/orgs/{world.org_slug}/bookings"
    assert _post(client, mine, url, _booking_body(world, 10), key="same").status_code == 201
    other = _post(client, theirs, url, _booking_body(world, 12), key="same")
    assert other.status_code == 201 and "Idempotent-Replayed" not in other.headers
    assert _bookings(session, world) == 2


def _org(session, world):
    from incubator.orgs.models import Organisation

    return session.get(Organisation, world.org_id)


def test_a_bad_key_is_422_and_changes_nothing(client, session):
    world = race_lab(session, slug="idem-bad")
    token, _record = create_api_token(session, world.founder, "t")
    url = f"/api/v1/orgs/{world.org_slug}/bookings"
    for key in ("", "x" * 256, "tab\there"):
        answer = _post(client, token, url, _booking_body(world), key=key)
        assert answer.status_code == 422 and answer.get_json()["code"] == "invalid_idempotency_key", key
    assert _bookings(session, world) == 0
    assert _post(client, token, url, _booking_body(world), key="x" * 255).status_code == 201


def test_get_ignores_the_header(client, session):
    world = race_lab(session, slug="idem-get")
    token, _record = create_api_token(session, world.founder, "t")
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "g"}
    assert client.get(f"/api/v1/orgs/{world.org_slug}/bookings", headers=headers).status_code == 200
    assert session.scalar(select(func.count()).select_from(IdempotencyKey).where(IdempotencyKey.key == "g")) == 0


def test_openapi_documents_the_header_on_every_post(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["components"]["parameters"]["IdempotencyKey"]["in"] == "header"
    ref = {"$ref": "#/components/parameters/IdempotencyKey"}
    posts = [op for ops in spec["paths"].values() for method, op in ops.items() if method == "post"]
    assert posts and all(ref in op.get("parameters", []) for op in posts)
    gets = [op for ops in spec["paths"].values() for method, op in ops.items() if method == "get"]
    assert not any(ref in op.get("parameters", []) for op in gets)


# -- real races over HTTP (SQLite file, or PostgreSQL with TEST_DATABASE_URL) -------------------------

def test_two_concurrent_bookings_with_one_key_book_once(app, committed, live):
    with committed.data() as s:
        world = race_lab(s, slug="idem-race")
    tries = 6
    tokens = [committed.token(world.founder) for _ in range(tries)]  # one principal, one token per client
    body = _booking_body(world)

    def book(i: int):
        answer = live.api("POST", f"/api/v1/orgs/{world.org_slug}/bookings", tokens[i], json=body,
                          headers={"Idempotency-Key": "race-booking"})
        return answer.status_code, answer.json(), answer.headers.get("Idempotent-Replayed")

    outcomes = live.race(tries, book)
    done = [body for status, body, _replayed in outcomes if status == 201]
    running = [body for status, body, _replayed in outcomes if status == 409]
    assert len(done) + len(running) == tries, outcomes
    assert all(b["code"] == "idempotency_in_progress" for b in running), running
    assert done and len({b["id"] for b in done}) == 1, outcomes
    assert [replayed for status, _b, replayed in outcomes if status == 201].count(None) == 1, outcomes
    with committed.read() as s:
        assert s.scalar(select(func.count()).select_from(Booking).where(Booking.org_id == world.org_id)) == 1
    # once the first has finished, every repeat is its answer again
    again = live.api("POST", f"/api/v1/orgs/{world.org_slug}/bookings", tokens[0], json=body,
                     headers={"Idempotency-Key": "race-booking"})
    assert again.status_code == 201 and again.json()["id"] == done[0]["id"]
    assert again.headers["Idempotent-Replayed"] == "true"


def test_a_checkout_repeated_with_its_key_makes_one_payment(app, fake, committed, live):
    with committed.data() as s:
        world = race_lab(s, slug="idem-pay", room_price=100_000, account="acct_1IdemPay")
    start = next_weekday_at(1, 10)
    booked = live.api("POST", f"/api/v1/orgs/{world.org_slug}/bookings", committed.token(world.founder), json={
        "resource_id": world.resources["room"], "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat()}, headers={"Idempotency-Key": "room"})
    assert booked.status_code == 201 and booked.json()["status"] == "awaiting_payment", booked.text
    booking_id = booked.json()["id"]
    tries = 6
    tokens = [committed.token(world.founder) for _ in range(tries)]
    url = f"/api/v1/orgs/{world.org_slug}/bookings/{booking_id}/checkout"
    answers = live.race(tries, lambda i: live.api("POST", url, tokens[i], headers={"Idempotency-Key": "pay-room"}))
    paid = [a for a in answers if a.status_code == 200]
    assert all(a.status_code in (200, 409) for a in answers), [a.text for a in answers]
    assert all(a.json()["code"] == "idempotency_in_progress" for a in answers if a.status_code == 409)
    assert paid and len({a.json()["payment_id"] for a in paid}) == 1
    assert fake.calls.count("create_checkout") == 1
    # the customer pays; the same checkout request again answers the same session, no new payment
    fake.complete(paid[0].json()["session_id"])
    again = live.api("POST", url, tokens[0], headers={"Idempotency-Key": "pay-room"})
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == paid[0].json()
    with committed.read() as s:
        assert s.scalar(select(func.count()).select_from(Payment).where(Payment.booking_id == booking_id)) == 1
