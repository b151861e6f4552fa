from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import IntegerField
from wtforms.validators import DataRequired, NumberRange, Optional

from incubator.core.forms import FlaskForm, LocaleDecimalField, LocaleIntegerField
from incubator.core.money import to_major, to_minor
from incubator.reporting.figures import HEADLINE_LABELS, MONEY, TARGET_METRICS
from incubator.reporting.services import MAX_LOGO_BYTES


class TargetsForm(FlaskForm):
    """A year's targets: money in the organisation's currency (major units), counts as whole numbers."""

    year = IntegerField(_l("Year"), validators=[DataRequired(), NumberRange(min=2000, max=2100)])

    @classmethod
    def build(cls, currency: str, year: int, stored: dict[str, int] | None) -> TargetsForm:
        fields: dict[str, Any] = {}
        for name in TARGET_METRICS:
            kind = LocaleDecimalField if name in MONEY else LocaleIntegerField
            fields[name] = kind(HEADLINE_LABELS[name], validators=[Optional(), NumberRange(min=0)])
        form_class = type("YearTargetsForm", (cls,), fields)
        if stored is None:
            return form_class()
        data = {name: (to_major(value, currency) if name in MONEY else value) for name, value in stored.items()}
        return form_class(formdata=None, data={"year": year, **data})

    def metric_fields(self) -> list[Any]:
        return [getattr(self, name) for name in TARGET_METRICS]

    def values(self, currency: str) -> dict[str, int | None]:
        found: dict[str, int | None] = {}
        for name in TARGET_METRICS:
            value = getattr(self, name).data
            if value is None:
                found[name] = None
            elif name in MONEY:
                found[name] = to_minor(Decimal(value).quantize(Decimal(1).scaleb(-_digits(currency))), currency)
            else:
                found[name] = int(value)
        return found


def _digits(currency: str) -> int:
    from incubator.core.money import exponent

    return exponent(currency)


class LogoForm(FlaskForm):
    logo = FileField(_l("Logo on reports"),
                     render_kw={"accept": "image/png,image/jpeg", "data-max-bytes": MAX_LOGO_BYTES})
