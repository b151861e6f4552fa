"""Migration 0013c: the three old feed-token schemes move into ``feed_tokens``, so the addresses
already handed out keep working, and rebuilding ``resources`` on SQLite loses none of its rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from icalendar import Calendar

from incubator.cli import alembic_config
from incubator.core.db import make_engine
from incubator.core.tokens import hash_token

REVISION = "0013c"


def _dummy(column: dict) -> object:
    kind = column["type"]
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return 1
    if isinstance(kind, sa.DateTime):
        return datetime(2026, 11, 1, 3, 0)
    if isinstance(kind, sa.Date):
        return date(2026, 11, 1)
    if isinstance(kind, sa.Time):
        return time(8)
    if isinstance(kind, sa.JSON):
        return "[]"
    return "x"


def insert(conn: sa.Connection, table: str, **values: object) -> int:
    """A row as the schema stood then: the columns named, every other required one with a harmless value."""
    reflected = sa.Table(table, sa.MetaData(), autoload_with=conn)
    row = dict(values)
    for column in sa.inspect(conn).get_columns(table):
        if column["name"] not in row and not column["nullable"] and column["name"] != "id":
            row[column["name"]] = _dummy(column)
    return conn.execute(sa.insert(reflected).values(row).returning(reflected.c.id)).scalar_one()


def test_old_addresses_keep_working_after_the_migration(tmp_path: Path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'feeds.db'}"
    config = alembic_config(url)
    before = ScriptDirectory.from_config(config).get_revision(REVISION).down_revision
    command.upgrade(config, before)

    engine = make_engine(url)
    start = datetime(2030, 1, 7, 2, 0)  # a Monday, 09:00 in Saigon (UTC, as SQLite keeps it)
    with engine.begin() as conn:
        org = insert(conn, "organisations", slug="old", name="Old org", timezone="Asia/Ho_Chi_Minh",
                     currency="VND", default_locale="vi")
        user = insert(conn, "users", email="old@example.org", name="Old founder", active=True)
        mentor_user = insert(conn, "users", email="mentor@example.org", name="Old mentor", active=True)
        for person, role in ((user, "founder"), (mentor_user, "mentor")):
            insert(conn, "memberships", user_id=person, org_id=org, role=role)
        lab = insert(conn, "labs", org_id=org, name="Old lab")
        resource = insert(conn, "resources", org_id=org, lab_id=lab, name="Old laser", kind="machine",
                          slot_minutes=30, min_minutes=30, max_minutes=240, feed_token_hash=hash_token("resource-old"))
        insert(conn, "opening_hours", org_id=org, resource_id=resource, weekday=0, opens=time(8), closes=time(17))
        booking = insert(conn, "bookings", org_id=org, resource_id=resource, user_id=user, starts_at=start,
                         ends_at=start + timedelta(hours=1), blocked_until=start + timedelta(hours=1),
                         status="confirmed", partner_org_id=None, startup_id=None)
        insert(conn, "booking_feed_tokens", org_id=org, user_id=user, token_hash=hash_token("person-old"))
        insert(conn, "mentor_profiles", org_id=org, user_id=mentor_user, capacity=1, hours_per_month=4,
               timezone="Asia/Ho_Chi_Minh", feed_token_hash=hash_token("mentor-old"))
    engine.dispose()

    command.upgrade(config, "head")

    engine = make_engine(url)
    with engine.connect() as conn:
        moved = {row.kind: row for row in conn.execute(sa.text(
            "SELECT kind, owner_id, org_id, token_hash, revoked_at FROM feed_tokens")).all()}
        assert set(moved) == {"bookings", "resource", "mentor"}
        assert (moved["bookings"].owner_id, moved["bookings"].token_hash) == (user, hash_token("person-old"))
        assert (moved["resource"].owner_id, moved["resource"].token_hash) == (resource, hash_token("resource-old"))
        assert {row.org_id for row in moved.values()} == {org} and all(r.revoked_at is None for r in moved.values())
        # The rebuilt tables kept their rows and what hangs off them.
        assert conn.execute(sa.text("SELECT count(*) FROM opening_hours")).scalar_one() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM bookings")).scalar_one() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM mentor_profiles")).scalar_one() == 1
        assert "booking_feed_tokens" not in sa.inspect(conn).get_table_names()
        assert "feed_token_hash" not in {c["name"] for c in sa.inspect(conn).get_columns("resources")}
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()

    from incubator import create_app

    app = create_app({"DATABASE_URL": url})
    try:
        client = app.test_client()
        for path, uid in (("/feeds/bookings/person-old.ics", f"booking-{booking}@"),
                          ("/feeds/resources/resource-old.ics", f"booking-{booking}@")):
            response = client.get(path)
            assert response.status_code == 200, path
            [event] = Calendar.from_ical(response.get_data()).walk("VEVENT")
            assert str(event["uid"]).startswith(uid)
            assert event.decoded("dtstart") == start.replace(tzinfo=UTC)
        mentor_feed = client.get("/feeds/mentors/mentor-old.ics")
        assert mentor_feed.status_code == 200 and b"BEGIN:VCALENDAR" in mentor_feed.get_data()
        assert client.get("/feeds/mentors/resource-old.ics").status_code == 404
    finally:
        app.extensions["db_engine"].dispose()

    # And back: the live addresses return to the old columns.
    command.downgrade(config, before)
    engine = make_engine(url)
    with engine.connect() as conn:
        person = conn.execute(sa.text("SELECT token_hash FROM booking_feed_tokens")).scalar_one()
        machine = conn.execute(sa.text("SELECT feed_token_hash FROM resources")).scalar_one()
        assert (person, machine) == (hash_token("person-old"), hash_token("resource-old"))
        assert conn.execute(sa.text("SELECT count(*) FROM opening_hours")).scalar_one() == 1
    engine.dispose()
