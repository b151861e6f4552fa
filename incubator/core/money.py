"""Money: integers in the currency's minor unit, formatted by locale.

VND has no minor unit (1.500.000 ₫ is stored as 1500000); USD has two (12.50 $ is 1250).
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from babel.core import Locale
from babel.numbers import format_currency, get_currency_precision


def exponent(currency: str) -> int:
    return get_currency_precision(currency.upper())


def to_major(amount_minor: int, currency: str) -> Decimal:
    return Decimal(amount_minor).scaleb(-exponent(currency))


def to_minor(amount_major: Decimal | int | str, currency: str) -> int:
    value = Decimal(str(amount_major)).scaleb(exponent(currency))
    if value != value.to_integral_value():
        raise ValueError(f"{amount_major} has more decimals than {currency} allows")
    return int(value)


def format_money(amount_minor: int, currency: str, locale: str | Locale) -> str:
    return format_currency(to_major(amount_minor, currency), currency.upper(), locale=locale)


@lru_cache(maxsize=4096)
def format_money_cached(amount_minor: int, currency: str, locale: str) -> str:
    """``format_money`` for pages that format many amounts: the same (amount, currency, locale) once."""
    return format_money(amount_minor, currency, locale)
