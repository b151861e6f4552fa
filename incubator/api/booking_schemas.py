"""The booking API's request and answer schemas (one set for every module of the ``api_booking`` blueprint)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask_smorest.fields import Upload
from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate, validates_schema

from incubator.booking.billing import MoneyState
from incubator.booking.inputs import HORIZON
from incubator.booking.models import BookingStatus
from incubator.booking.setup import RULE_NUMBERS
from incubator.cohorts.models import ResourceKind

# -- schemas ----------------------------------------------------------------------------------------

class LabRowOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    site = fields.String(required=True)
    description = fields.String(required=True)


class LabIn(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    site = fields.String(load_default="", validate=validate.Length(max=255))
    description = fields.String(load_default="", validate=validate.Length(max=5000))


class LabPatch(LabIn):
    name = fields.String(validate=validate.Length(min=1, max=255))
    site = fields.String(validate=validate.Length(max=255))
    description = fields.String(validate=validate.Length(max=5000))


class NameQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    q = fields.String(validate=validate.Length(max=200), metadata={"description": "Text in the name"})


class ResourceOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    lab = fields.String(required=True)
    slot_minutes = fields.Integer(required=True)
    min_minutes = fields.Integer(required=True)
    max_minutes = fields.Integer(required=True)
    open_24h = fields.Boolean(required=True)
    needs_approval = fields.Boolean(required=True)
    training = fields.String(allow_none=True, metadata={"description": "The certification it requires, if any"})
    price_per_hour = fields.Integer(required=True, metadata={"description": "Your rate, minor currency units"})
    currency = fields.String(required=True)
    shared_by = fields.String(allow_none=True, metadata={"description": "The owner organisation of a shared resource"})
    photo_url = fields.String(allow_none=True, metadata={
        "description": "Where the API serves its photo (PNG or JPEG, with the caller's token); null: no photo"})


class HoursSchema(Schema):
    class Meta:
        unknown = RAISE

    weekday = fields.Integer(required=True, strict=True, validate=validate.Range(0, 6),
                             metadata={"description": "0 is Monday"})
    opens = fields.Time(required=True, format="%H:%M")
    closes = fields.Time(required=True, format="%H:%M")


class ResourceDetailOut(ResourceOut):
    """Everything the rules page shows; ``ETag`` answers the version for ``If-Match`` on PATCH."""

    lab_id = fields.Integer(required=True)
    description = fields.String(required=True)
    active = fields.Boolean(required=True)
    max_hours_per_week = fields.Integer(allow_none=True)
    training_id = fields.Integer(allow_none=True)
    hours = fields.List(fields.Nested(HoursSchema), required=True)
    version = fields.Integer(required=True)
    for _name in RULE_NUMBERS:
        locals()[_name] = fields.Integer(required=True)


class PhotoIn(Schema):
    class Meta:
        unknown = EXCLUDE

    photo = Upload(required=True, metadata={
        "description": "A PNG or JPEG image (recognised by its content), at most `MAX_UPLOAD_MB` "
                       "(multipart/form-data)"})


class ResourceIn(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in ResourceKind]))


class RulesPatch(Schema):
    """Any of a resource's rules; what is left out stays as it is. ``hours`` replaces every day's opening
    hours (a weekday left out is closed)."""

    class Meta:
        unknown = RAISE

    name = fields.String(validate=validate.Length(min=1, max=255))
    kind = fields.String(validate=validate.OneOf([k.value for k in ResourceKind]))
    description = fields.String(validate=validate.Length(max=5000))
    max_hours_per_week = fields.Integer(strict=True, allow_none=True, validate=validate.Range(1, 168))
    training_id = fields.Integer(strict=True, allow_none=True, validate=validate.Range(1, 2**31 - 1))
    needs_approval = fields.Boolean()
    open_24h = fields.Boolean()
    active = fields.Boolean()
    hours = fields.List(fields.Nested(HoursSchema), validate=validate.Length(max=7))
    for _name, _largest in RULE_NUMBERS.items():
        locals()[_name] = fields.Integer(strict=True, validate=validate.Range(0, _largest))

    @validates_schema
    def _one_range_a_day(self, data: dict[str, Any], **_kwargs: Any) -> None:
        days = [h["weekday"] for h in data.get("hours", [])]
        if len(days) != len(set(days)):
            raise ValidationError("one range per weekday", "hours")


class AvailabilityQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    from_ = fields.AwareDateTime(required=True, data_key="from")
    to = fields.AwareDateTime(required=True)

    @validates_schema
    def _range(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data["to"] <= data["from_"]:
            raise ValidationError("must come after from", "to")
        if data["to"] - data["from_"] > timedelta(days=31):
            raise ValidationError("at most 31 days after from", "to")
        if abs(data["from_"] - datetime.now(UTC)) > HORIZON:  # and the calendar's ends would overflow
            raise ValidationError("within five years of now", "from")


class Interval(Schema):
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)


class AvailabilityOut(Schema):
    free = fields.List(fields.Nested(Interval), required=True)


def _within_horizon(value: datetime) -> None:
    if abs(value - datetime.now(UTC)) > HORIZON:
        raise ValidationError("within five years of now")


class Instant(fields.AwareDateTime):
    """An ISO date-time with its offset, read as the same instant in UTC: a booking made at 09:00+07:00
    answers 02:00+00:00 at once, as every later read of it does."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> datetime:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        try:
            return parsed.astimezone(UTC)
        except OverflowError:  # 9999-12-31T23:00-05:00 is past the last year there is
            raise ValidationError("within five years of now") from None


class BookingIn(Schema):
    class Meta:
        unknown = EXCLUDE

    resource_id = fields.Integer(required=True, strict=True, validate=validate.Range(1, 2**31 - 1))
    starts_at = Instant(required=True, validate=_within_horizon, metadata={"description": "ISO 8601 with offset"})
    ends_at = Instant(required=True, validate=_within_horizon)
    note = fields.String(load_default="", validate=validate.Length(max=500))


class WeeklyIn(BookingIn):
    weeks = fields.Integer(required=True, strict=True, validate=validate.Range(1, 26),
                           metadata={"description": "The same time every week, this many weeks (1 to 26)"})
    skip_conflicts = fields.Boolean(load_default=False, metadata={
        "description": "Book the weeks that can be booked and list the others (else all or nothing)"})


class QuoteOut(Schema):
    """What ``POST /bookings`` with the same body would charge and leave (nothing is booked)."""

    minutes = fields.Integer(required=True)
    credit_minutes = fields.Integer(required=True, metadata={"description": "Credits this booking uses"})
    price = fields.Integer(required=True, metadata={"description": "What is left to pay, minor units"})
    currency = fields.String(required=True)
    credits_before = fields.Integer(required=True, metadata={"description": "Credit minutes before it"})
    credits_after = fields.Integer(required=True, metadata={"description": "Credit minutes left after it"})
    quota_minutes = fields.Integer(allow_none=True, metadata={"description": "Weekly quota, None without one"})
    quota_left = fields.Integer(allow_none=True, metadata={"description": "Quota minutes left after it"})
    status = fields.String(required=True, metadata={"enum": [s.value for s in BookingStatus]})


class BookingOut(Schema):
    id = fields.Integer(required=True)
    resource_id = fields.Integer(required=True)
    user_id = fields.Integer(required=True)
    startup_id = fields.Integer(allow_none=True)
    partner_org_id = fields.Integer(allow_none=True, metadata={"description": "Booked from this partner"})
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    status = fields.String(required=True, metadata={"enum": [s.value for s in BookingStatus]})
    credit_minutes = fields.Integer(required=True)
    price = fields.Integer(required=True)
    currency = fields.String(required=True)
    hold_expires_at = fields.DateTime(allow_none=True)
    checked_in_at = fields.DateTime(allow_none=True)
    note = fields.String(required=True)
    payment = fields.String(required=True, metadata={
        "enum": [s.value for s in MoneyState],
        "description": "paid (with a receipt), refunded, credits (covered by credits), to_pay, invoiced, or none"})
    amount_due = fields.Integer(required=True, metadata={"description": "What is still to pay, minor units"})


class Skipped(Schema):
    starts_at = fields.DateTime(required=True)
    code = fields.String(required=True)
    message = fields.String(required=True)


class WeeklyOut(Schema):
    bookings = fields.List(fields.Nested(BookingOut), required=True)
    skipped = fields.List(fields.Nested(Skipped), required=True)


class BookingsQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    mine = fields.Boolean(load_default=False, metadata={"description": "Only the caller's (managers see all)"})
    status = fields.String(validate=validate.OneOf([s.value for s in BookingStatus]))
    resource_id = fields.Integer(validate=validate.Range(1, 2**31 - 1))
    from_ = fields.AwareDateTime(data_key="from", validate=_within_horizon,
                                 metadata={"description": "Bookings ending after this"})
    to = fields.AwareDateTime(validate=_within_horizon, metadata={"description": "Bookings starting before this"})


class ApprovalIn(Schema):
    class Meta:
        unknown = RAISE

    decision = fields.String(required=True, validate=validate.OneOf(["approve", "decline"]))


class ClosureOut(Schema):
    id = fields.Integer(required=True)
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    reason = fields.String(required=True)
    maintenance = fields.Boolean(required=True)


class ClosureIn(Schema):
    class Meta:
        unknown = RAISE

    starts_at = fields.AwareDateTime(required=True, validate=_within_horizon)
    ends_at = fields.AwareDateTime(required=True, validate=_within_horizon)
    reason = fields.String(load_default="", validate=validate.Length(max=255))
    maintenance = fields.Boolean(load_default=False)


class ShareOut(Schema):
    id = fields.Integer(required=True)
    partner_org = fields.String(required=True, metadata={"description": "The partner organisation's slug"})
    needs_approval = fields.Boolean(required=True)


class ShareIn(Schema):
    class Meta:
        unknown = RAISE

    partner_org = fields.String(required=True, validate=validate.Length(min=1, max=100))
    needs_approval = fields.Boolean(load_default=False)


class TrainingOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    validity_months = fields.Integer(required=True)


class TrainingIn(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    validity_months = fields.Integer(load_default=12, strict=True, validate=validate.Range(1, 120))


class CertificationOut(Schema):
    id = fields.Integer(required=True)
    training_id = fields.Integer(required=True)
    user_id = fields.Integer(required=True)
    certified_on = fields.Date(required=True)
    expires_on = fields.Date(required=True)


class CertificationIn(Schema):
    class Meta:
        unknown = RAISE

    training_id = fields.Integer(required=True, strict=True, validate=validate.Range(1, 2**31 - 1))
    user_id = fields.Integer(required=True, strict=True, validate=validate.Range(1, 2**31 - 1))


class CertificationsQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    training_id = fields.Integer(validate=validate.Range(1, 2**31 - 1))
    user_id = fields.Integer(validate=validate.Range(1, 2**31 - 1))


class WaitlistIn(Schema):
    class Meta:
        unknown = RAISE

    starts_at = fields.AwareDateTime(required=True, validate=_within_horizon)
    ends_at = fields.AwareDateTime(required=True, validate=_within_horizon)


class WaitlistOut(Schema):
    id = fields.Integer(required=True)
    resource_id = fields.Integer(required=True)
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    status = fields.String(required=True, metadata={"enum": ["waiting", "offered", "done"]})
    booking_id = fields.Integer(allow_none=True, metadata={"description": "The booking held for the caller"})


class MonthQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    month = fields.String(validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$"),
                          metadata={"description": "YYYY-MM; this month when left out"})


class PartnerUsageOut(Schema):
    partner_org_id = fields.Integer(required=True)
    partner_org = fields.String(required=True)
    bookings = fields.Integer(required=True)
    minutes = fields.Integer(required=True)
    amount = fields.Integer(required=True, metadata={"description": "Minor units of the owner's currency"})


class UsageOut(Schema):
    month = fields.String(required=True)
    resource_id = fields.Integer(required=True)
    startup_id = fields.Integer(allow_none=True)
    cohort_id = fields.Integer(allow_none=True)
    booked_minutes = fields.Integer(required=True)
    used_minutes = fields.Integer(required=True)
