"""The XLSX's list of lab bookings, cell by cell: written as plain numbers and pre-translated words for speed,
it must still read back as dates, the resource kind in the report's language, minutes, hours and money."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from openpyxl import load_workbook

from incubator.booking.models import BookingStatus
from incubator.cohorts.models import LABELS
from tests.reporting.fixtures import YEAR

REPORTED = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED)


def _bookings_sheet(client, rw, lang: str) -> list[tuple]:
    response = client.get(f"/o/inc-a/reports/download.xlsx?period=year&year={YEAR}&cohort={rw.a1.id}&lang={lang}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).worksheets[4]  # Lab use
    rows = list(sheet.iter_rows(values_only=True))
    header = next(i for i, row in enumerate(rows) if i >= 17 and row[0] is not None)
    return [row[:9] for row in rows[header + 1:] if row[0] is not None]


def test_each_booking_reads_back_as_dates_words_and_numbers(app, client, rw, sign_in):
    sign_in(rw.manager_a)
    zone = ZoneInfo(rw.a.timezone)
    in_a1 = {key for key, (cohort, _status) in rw.enrolments.items() if cohort == "A1"}
    expected = []
    for index, booking in enumerate(rw.bookings):
        if booking["status"] not in REPORTED or booking["startup"] not in in_a1:
            continue
        starts = datetime(YEAR, 4, 10 + index, 2, tzinfo=ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)
        paid = sum(row["amount"] for row in rw.ledger if row["booking"] == index)
        expected.append((starts, rw.startups[booking["startup"]].name, booking["kind"], booking["minutes"],
                         round(booking["credit"] / 60, 2), booking["price"], paid))
    for lang, kind_words in (("en", {"machine": "Machines", "room": "Rooms"}), ("vi", None)):
        with app.test_request_context(), force_locale(lang):
            words = kind_words or {kind: str(LABELS[kind]) for kind in ("machine", "room")}
        rows = _bookings_sheet(client, rw, lang)
        got = [(row[0], row[2], row[4], row[5], row[6], row[7], row[8]) for row in rows]
        assert got == [(starts, name, words[kind], minutes, credit, price, paid)
                       for starts, name, kind, minutes, credit, price, paid in expected]
        assert {row[1] for row in rows} == {rw.a.name} and {row[3] for row in rows} == {"Laser", "Room"}
        assert all(isinstance(row[0], datetime) and row[0].minute == 0 for row in rows)
        if lang == "vi":
            assert words["machine"] != "Machines"  # the kind is in the report's language
    assert len(expected) >= 3 and any(paid for *_rest, paid in expected)  # the fixture lists paid bookings
    assert expected[1][0] - expected[0][0] == timedelta(days=1)
