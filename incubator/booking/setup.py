"""Setting labs up: labs and resources, their rules and opening hours, closures, trainings and
certifications, sharing with partner organisations. Rules only; views call these and nothing commits."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from incubator.accounts.models import User
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

RULE_NUMBERS = ("slot_minutes", "min_minutes", "max_minutes", "buffer_minutes", "max_days_ahead",
                "min_notice_minutes", "free_cancellation_hours", "no_show_minutes", "price_member", "price_partner",
                "price_external")


def _invalid(fields: dict[str, str]) -> None:
    if fields:
        raise DomainError(_("Please correct the highlighted fields."), fields=fields)


def create_lab(session: Session, org: Organisation, name: str, site: str = "") -> Lab:
    if not name.strip():
        raise DomainError(_("Give the lab a name."), fields={"name": _("This field is required.")})
    lab = Lab(org_id=org.id, name=name.strip()[:255], site=site.strip()[:255])
    session.add(lab)
    session.flush()
    return lab


def create_resource(session: Session, lab: Lab, name: str, kind: str) -> Resource:
    """A new resource with careful defaults: weekdays 8:00-17:00, not bookable until its rules are set."""
    if not name.strip() or kind not in set(ResourceKind):
        raise DomainError(_("Give the resource a name and a kind."), fields={"name": _("This field is required.")})
    resource = Resource(org_id=lab.org_id, lab=lab, name=name.strip()[:255], kind=ResourceKind(kind), active=False)
    resource.hours = [OpeningHours(org_id=lab.org_id, weekday=d, opens=time(8), closes=time(17)) for d in range(5)]
    session.add(resource)
    session.flush()
    return resource


def save_rules(session: Session, resource: Resource, form: Any, photo: Any = None) -> None:
    """Everything a manager sets on the resource's page, checked as a whole: nothing changes on an error."""
    fields: dict[str, str] = {}
    numbers: dict[str, int] = {}
    for name in RULE_NUMBERS:
        try:
            numbers[name] = int(form.get(name, ""))
            if numbers[name] < 0:
                raise ValueError
        except ValueError:
            fields[name] = _("Enter a whole number, 0 or more.")
    if not fields:
        if numbers["slot_minutes"] == 0 or numbers["min_minutes"] == 0 \
                or numbers["max_minutes"] < numbers["min_minutes"] \
                or numbers["max_minutes"] > MAX_BOOKING.total_seconds() // 60:
            fields["max_minutes"] = _("The longest booking must be at least the shortest, and at most 7 days.")
        if numbers["buffer_minutes"] > 24 * 60:
            fields["buffer_minutes"] = _("At most a day.")
    name = (form.get("name") or "").strip()
    if not name:
        fields["name"] = _("This field is required.")
    if form.get("kind") not in set(ResourceKind):
        fields["kind"] = _("Not a valid choice.")
    training_id = form.get("training_id", "")
    training = None
    if training_id.isdigit():
        training = session.execute(select(Training).where(Training.id == int(training_id),
                                                          Training.org_id == resource.org_id)).scalar_one_or_none()
        if training is None:
            fields["training_id"] = _("Not a valid choice.")
    hours = []
    for weekday in range(7):
        opens, closes = form.get(f"opens_{weekday}"), form.get(f"closes_{weekday}")
        if not (opens and closes):
            continue
        try:
            o, c = time.fromisoformat(opens), time.fromisoformat(closes)
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
    resource.name, resource.kind = name[:255], ResourceKind(form["kind"])
    resource.description = (form.get("description") or "")[:5000]
    for key, value in numbers.items():
        setattr(resource, key, value)
    quota = (form.get("max_hours_per_week") or "").strip()
    resource.max_hours_per_week = int(quota) if quota.isdigit() and int(quota) > 0 else None
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
    try:
        start = datetime.fromisoformat(starts).replace(tzinfo=zone)
        end = datetime.fromisoformat(ends).replace(tzinfo=zone)
    except ValueError as exc:
        raise DomainError(_("Give a start and an end after it."), fields={"starts": _("Use a date and a time.")}) \
            from exc
    if end <= start:
        message = _("Give a start and an end after it.")
        raise DomainError(message, fields={"ends": message})
    closure = Closure(org_id=org.id, resource_id=resource.id, starts_at=start.astimezone(UTC),
                      ends_at=end.astimezone(UTC), reason=reason.strip()[:255], maintenance=maintenance)
    session.add(closure)
    session.flush()
    return closure


def create_training(session: Session, org: Organisation, name: str, validity_months: str) -> Training:
    if not name.strip() or not validity_months.isdigit() or not 1 <= int(validity_months) <= 120:
        raise DomainError(_("Give the training a name and a validity of 1 to 120 months."),
                          fields={"name": _("This field is required.")})
    training = Training(org_id=org.id, name=name.strip()[:255], validity_months=int(validity_months))
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
