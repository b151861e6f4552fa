"""Setting labs up: labs and resources, their rules and opening hours, closures, trainings and
certifications, sharing with partner organisations. Rules only; views call these and nothing commits."""

from __future__ import annotations

from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from incubator.accounts.models import User
from incubator.booking.inputs import INT_MAX, local_time, text
from incubator.booking.models import (
    Certification,
    Closure,
    Lab,
    OpeningHours,
    Resource,
    ResourceShare,
    Training,
)
from incubator.booking.services import MAX_BOOKING
from incubator.cohorts.models import ResourceKind
from incubator.core.errors import DomainError
from incubator.core.storage import image_suffix, storage
from incubator.core.timezones import add_months
from incubator.orgs.models import Membership, Organisation

# Each rule's largest value: beyond it the rule makes no sense (and dates or integer columns overflow).
RULE_NUMBERS = {"slot_minutes": 24 * 60, "min_minutes": int(MAX_BOOKING.total_seconds() // 60),
                "max_minutes": int(MAX_BOOKING.total_seconds() // 60), "buffer_minutes": 24 * 60,
                "max_days_ahead": 2 * 366, "min_notice_minutes": 366 * 24 * 60, "free_cancellation_hours": 366 * 24,
                "no_show_minutes": 24 * 60, "price_member": INT_MAX, "price_partner": INT_MAX,
                "price_external": INT_MAX}


def _invalid(fields: dict[str, str]) -> None:
    if fields:
        raise DomainError(_("Please correct the highlighted fields."), fields=fields)


def create_lab(session: Session, org: Organisation, name: str, site: str = "") -> Lab:
    name, site = text(name, 255), text(site, 255)
    if not name:
        raise DomainError(_("Give the lab a name."), fields={"name": _("This field is required.")})
    lab = Lab(org_id=org.id, name=name, site=site)
    session.add(lab)
    session.flush()
    return lab


def create_resource(session: Session, lab: Lab, name: str, kind: str) -> Resource:
    """A new resource with careful defaults: weekdays 8:00-17:00, not bookable until its rules are set."""
    name = text(name, 255)
    if not name or kind not in set(ResourceKind):
        raise DomainError(_("Give the resource a name and a kind."), fields={"name": _("This field is required.")})
    resource = Resource(org_id=lab.org_id, lab=lab, name=name, kind=ResourceKind(kind), active=False)
    resource.hours = [OpeningHours(org_id=lab.org_id, weekday=d, opens=time(8), closes=time(17)) for d in range(5)]
    session.add(resource)
    session.flush()
    return resource


def save_rules(session: Session, resource: Resource, form: Any, photo: Any = None) -> None:
    """Everything a manager sets on the resource's page, checked as a whole: nothing changes on an error."""
    fields: dict[str, str] = {}
    numbers: dict[str, int] = {}
    for name, largest in RULE_NUMBERS.items():
        value = (form.get(name) or "").strip()
        if not (value.isascii() and value.isdigit()):  # "²" is a digit to isdigit(), and int() refuses it
            fields[name] = _("Enter a whole number, 0 or more.")
        elif len(value) > 12 or int(value) > largest:
            fields[name] = _("At most %(n)d.", n=largest)
        else:
            numbers[name] = int(value)
    if not fields:
        if numbers["slot_minutes"] == 0 or numbers["min_minutes"] == 0 \
                or numbers["max_minutes"] < numbers["min_minutes"] \
                or numbers["max_minutes"] > MAX_BOOKING.total_seconds() // 60:
            fields["max_minutes"] = _("The longest booking must be at least the shortest, and at most 7 days.")
        if numbers["buffer_minutes"] > 24 * 60:
            fields["buffer_minutes"] = _("At most a day.")
    name = text(form.get("name"), 255)
    if not name:
        fields["name"] = _("This field is required.")
    if form.get("kind") not in set(ResourceKind):
        fields["kind"] = _("Not a valid choice.")
    training_id = (form.get("training_id") or "").strip()
    training = None
    if training_id and not (training_id.isascii() and training_id.isdigit() and len(training_id) < 10):
        fields["training_id"] = _("Not a valid choice.")
    elif training_id:
        training = session.execute(select(Training).where(Training.id == int(training_id),
                                                          Training.org_id == resource.org_id)).scalar_one_or_none()
        if training is None:
            fields["training_id"] = _("Not a valid choice.")
    hours = []
    for weekday in range(7):
        opens, closes = (form.get(f"opens_{weekday}") or "").strip(), (form.get(f"closes_{weekday}") or "").strip()
        if not (opens and closes):
            continue
        try:
            o, c = time.fromisoformat(opens), time.fromisoformat(closes)
            if o.tzinfo or c.tzinfo:
                raise ValueError(opens)
        except ValueError:
            fields[f"hours_{weekday}"] = _("Use HH:MM.")
            continue
        if c <= o:
            fields[f"hours_{weekday}"] = _("Closing comes after opening.")
        hours.append(OpeningHours(org_id=resource.org_id, weekday=weekday, opens=o, closes=c))
    suffix = None
    if photo is not None and photo.filename:
        suffix = image_suffix(photo.stream.read(8))
        photo.stream.seek(0)
        if suffix is None:
            fields["photo"] = _("Upload a PNG or JPEG image.")
    _invalid(fields)
    resource.name, resource.kind = name, ResourceKind(form["kind"])
    resource.description = text(form.get("description"), 5000)
    for key, value in numbers.items():
        setattr(resource, key, value)
    quota = (form.get("max_hours_per_week") or "").strip()
    resource.max_hours_per_week = int(quota) if quota.isascii() and quota.isdigit() and 0 < int(quota) <= 168 \
        else None
    resource.needs_approval = bool(form.get("needs_approval"))
    resource.open_24h = bool(form.get("open_24h"))
    resource.active = bool(form.get("active"))
    resource.training_id = training.id if training else None
    resource.hours = hours
    if suffix is not None:
        resource.photo_key = storage().save(photo.stream, suffix)
    session.flush()


def add_closure(session: Session, org: Organisation, resource: Resource, starts: str, ends: str, reason: str,
                maintenance: bool) -> Closure:
    """A closure from local times (``YYYY-MM-DDTHH:MM`` in the organisation's time zone)."""
    zone = ZoneInfo(org.timezone)
    try:  # within a few years of now
        start, end = local_time(starts, zone, "starts"), local_time(ends, zone, "ends")
    except DomainError as exc:
        raise DomainError(_("Give a start and an end after it."), fields={"starts": _("Use a date and a time.")}) \
            from exc
    if end <= start:
        message = _("Give a start and an end after it.")
        raise DomainError(message, fields={"ends": message})
    closure = Closure(org_id=org.id, resource_id=resource.id, starts_at=start, ends_at=end,
                      reason=text(reason, 255), maintenance=maintenance)
    session.add(closure)
    session.flush()
    return closure


def create_training(session: Session, org: Organisation, name: str, validity_months: str) -> Training:
    name, validity_months = text(name, 255), (validity_months or "").strip()
    if not name or not (validity_months.isascii() and validity_months.isdigit() and len(validity_months) < 4) \
            or not 1 <= int(validity_months) <= 120:
        raise DomainError(_("Give the training a name and a validity of 1 to 120 months."),
                          fields={"name": _("This field is required.")})
    training = Training(org_id=org.id, name=name, validity_months=int(validity_months))
    session.add(training)
    session.flush()
    return training


def certify(session: Session, training: Training, member: Membership, by: User, today: date) -> Certification:
    """Certified from today for the training's validity (the day of the month kept, at most the 28th)."""
    expires = add_months(today, training.validity_months).replace(day=min(today.day, 28))
    certification = Certification(org_id=training.org_id, training_id=training.id, user_id=member.user_id,
                                  certified_on=today, expires_on=expires, certified_by_id=by.id)
    session.add(certification)
    session.flush()
    return certification


def set_share(session: Session, resource: Resource, partner: Organisation, *, share: bool,
              needs_approval: bool) -> None:
    """Share a resource with a partner organisation (or stop); never with its own organisation."""
    if partner.id == resource.org_id:
        raise DomainError(_("Not a valid choice."), fields={"partner_org_id": _("Not a valid choice.")})
    existing = session.execute(select(ResourceShare).where(
        ResourceShare.resource_id == resource.id, ResourceShare.partner_org_id == partner.id)).scalar_one_or_none()
    if not share:
        if existing is not None:
            session.delete(existing)
    else:
        existing = existing or ResourceShare(org_id=resource.org_id, resource_id=resource.id,
                                             partner_org_id=partner.id)
        existing.needs_approval = needs_approval
        session.add(existing)
    session.flush()
