"""The report's cached formatters write exactly what Babel writes call by call, in each locale, and a
label cached in one language is never served in the other."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency, format_decimal, format_percent
from flask_babel import force_locale
from hypothesis import given, settings
from hypothesis import strategies as st

from incubator.core.money import to_major
from incubator.reporting import labels

values = st.one_of(st.integers(-10**12, 10**12), st.floats(-1e9, 1e9, allow_nan=False),
                   st.decimals(-10**9, 10**9, places=2, allow_nan=False, allow_infinity=False))


@settings(max_examples=60, deadline=None, database=None)
@given(value=values, digits=st.integers(0, 2), amount=st.integers(-10**12, 10**12),
       ratio=st.floats(0, 5, allow_nan=False), currency=st.sampled_from(["VND", "USD"]))
def test_cached_formatters_write_what_babel_writes(app, value, digits, amount, ratio, currency):
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    for locale in ("vi", "en"):
        with app.test_request_context("/"), force_locale(locale):
            for _twice in range(2):  # the second answer comes from the cache
                assert labels.number(value, digits) == format_decimal(value, format=pattern, locale=locale)
                assert labels.percent(ratio) == format_percent(ratio, format="#,##0%", locale=locale)
                assert labels.money(amount, currency) == format_currency(to_major(amount, currency), currency,
                                                                         locale=locale)
    with app.test_request_context("/"):
        assert labels.number(None) == labels.percent(None) == "–"


def test_equal_values_of_other_types_are_formatted_as_their_own_type(app):
    with app.test_request_context("/"), force_locale("en"):
        assert labels.number(Decimal("2.50"), 2) == "2.50"
        assert labels.number(1) == "1" and labels.number(1.0, 1) == "1.0" and labels.number(1, 1) == "1.0"
        assert labels.number(0.0) == "0" and labels.number(-0.0) == "-0"  # equal, yet Babel prints them apart
        assert labels.number(-0.0) == "-0" and labels.number(0.0) == "0"
        assert labels.number(Decimal("-0.00"), 2) == "-0.00" and labels.number(Decimal("0.00"), 2) == "0.00"
        assert labels.percent(0.0) == "0%" and labels.percent(-0.0) == "-0%"


def test_a_label_cached_in_one_locale_is_not_served_in_the_other(app):
    with app.test_request_context("/"):
        with force_locale("en"):
            assert labels.label("revenue") == "Revenue"
            assert labels.label("active") == "Active"
        with force_locale("vi"):
            vi_revenue, vi_active = labels.label("revenue"), labels.label("active")
        with force_locale("en"):
            assert labels.label("revenue") == "Revenue"
    assert vi_revenue != "Revenue" and vi_active != "Active"
