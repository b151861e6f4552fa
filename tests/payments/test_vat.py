"""VAT of VAT-inclusive prices, against an independent computation in Decimal."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incubator.payments import vat

amounts = st.integers(min_value=-10**13, max_value=10**13)
rates = st.sampled_from([None, *vat.RATES])


def expected_vat(gross: int, rate: int | None) -> int:
    if rate is None:
        return 0
    exact = Decimal(gross) * Decimal(rate) / Decimal(100 + rate)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))  # ROUND_HALF_UP rounds halves away from 0


@given(amounts, rates)
def test_net_plus_vat_is_gross_and_vat_is_the_rounded_share(gross, rate):
    part = vat.split(gross, rate)
    assert part.net + part.vat == gross
    assert part.vat == expected_vat(gross, rate)
    if rate:  # the VAT is the rate applied to the net, within the half unit of the rounding
        assert abs(Decimal(part.net) * rate / 100 - part.vat) <= Decimal(rate) / (2 * 100) + Decimal("0.5")


@given(amounts, rates)
def test_a_refund_carries_the_payment_vat_negated(gross, rate):
    assert vat.vat_part(-gross, rate) == -vat.vat_part(gross, rate)


def test_known_amounts():
    assert vat.split(1_100_000, 10) == (1_100_000, 10, 100_000, 1_000_000)
    assert vat.vat_part(108_000, 8) == 8_000
    assert vat.vat_part(105, 5) == 5
    assert vat.vat_part(1_000_000, None) == 0 and vat.vat_part(1_000_000, 0) == 0


def test_a_rate_vietnam_does_not_have_is_refused():
    with pytest.raises(ValueError):
        vat.vat_part(100, 7)
