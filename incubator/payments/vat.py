"""Vietnam's VAT (thuế GTGT) on the organisation's prices.

The rates are 0, 5, 8 and 10 %; an organisation may also not charge VAT at all (``None``), which is
not the same as 0 % on a receipt. Prices are VAT-inclusive, as Vietnamese consumer prices are: the
VAT part of a gross amount G at rate r is G·r / (100 + r), rounded to the nearest minor unit, halves
away from zero (so a refund's VAT is exactly the payment's, negated), and the net is G less it. All in
integers: no float, no Decimal.
"""

from __future__ import annotations

from typing import NamedTuple

RATES = (0, 5, 8, 10)


class VatSplit(NamedTuple):
    gross: int
    rate: int | None
    vat: int
    net: int


def vat_part(gross: int, rate: int | None) -> int:
    """The VAT contained in ``gross`` (minor units, VAT-inclusive) at ``rate`` percent."""
    if not rate:
        return 0
    if rate not in RATES:
        raise ValueError(f"{rate} is not one of Vietnam's VAT rates")
    divisor = 100 + rate
    magnitude = (2 * abs(gross) * rate + divisor) // (2 * divisor)  # round half up on |gross|
    return magnitude if gross >= 0 else -magnitude


def split(gross: int, rate: int | None) -> VatSplit:
    vat = vat_part(gross, rate)
    return VatSplit(gross=gross, rate=rate, vat=vat, net=gross - vat)
