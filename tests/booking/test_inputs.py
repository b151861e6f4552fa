"""The booking pages' field readers never raise anything but a DomainError naming the field."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from incubator.booking import inputs
from incubator.core.errors import DomainError

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
TEXTS = st.one_of(st.text(max_size=40), st.integers().map(str), st.datetimes().map(lambda d: d.isoformat()),
                  st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()))


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_whole_numbers_are_in_range_or_a_field_error(app, value):
    with app.test_request_context():
        try:
            number = inputs.whole_number(value, "minutes", default=30, low=1, high=10080)
        except DomainError as error:
            assert set(error.fields) == {"minutes"}
        else:
            assert 1 <= number <= 10080


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_local_times_are_near_and_in_utc_or_a_field_error(app, value):
    from datetime import datetime

    with app.test_request_context():
        try:
            moment = inputs.local_time(value, ZONE)
        except DomainError as error:
            assert set(error.fields) == {"start"} and error.code == "invalid_time"
        else:
            assert moment.tzinfo == UTC and abs(moment - datetime.now(UTC)) <= inputs.HORIZON


@given(st.text(max_size=20))
def test_ids_are_valid_or_zero(value):
    ident = inputs.row_id(value)
    assert ident == 0 or 0 < ident < 2**31
    assert "\x00" not in inputs.text(value, 10) and len(inputs.text(value, 10)) <= 10
