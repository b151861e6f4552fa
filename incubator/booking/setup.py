"""Setting labs up: labs and resources, their rules and opening hours, closures, trainings and
certifications, sharing with partner organisations. Rules only; views call these and nothing commits."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from incubator.accounts.models import User
from incubator.booking.inputs import HORIZON, INT_MAX, local_time, text
from incubator.booking.models import (
    Certification,
    Closure,
    Lab,
    OpeningHours,
    Resource,
    ResourceShare,
    Training,
)
from incubator.booking.rules import MAX_BOOKING
from incubator.cohorts.models import ResourceKind
from incubator.core.db import utcnow
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


def update_lab(session: Session, lab: Lab, changes: dict[str, str]) -> None:
    """Rename a lab, or change its site or description (only what ``changes`` names)."""
    if "name" in changes and not text(changes["name"], 255):
        raise DomainError(_("Give the lab a name."), fields={"name": _("This field is required.")})
    for key, limit in (("name", 255), ("site", 255), ("description", 5000)):
        if key in changes:
            setattr(lab, key, text(changes[key], limit))
    session.flush()


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


RULE_FLAGS = ("needs_approval", "open_24h", "active")
Hours = list[tuple[int, time, time]]  # (weekday, opens, closes), in the organisation's time zone


def save_rules(session: Session, resource: Resource, changes: dict[str, Any], photo: Any = None) -> None:
    """What a manager changes of a resource's rules (the page sends every field, the API only those it
    changes), checked as a whole against the rules it keeps: nothing changes on an error.

    ``changes`` holds typed values: the numbers of ``RULE_NUMBERS``, ``name``, ``kind``, ``description``,
    ``max_hours_per_week`` (None: no quota), ``training_id`` (None: none), the ``RULE_FLAGS`` and
    ``hours`` (``Hours``; weekdays left out are closed)."""
    numbers = {name: changes.get(name, getattr(resource, name)) for name in RULE_NUMBERS}
    name = text(changes.get("name", resource.name), 255)
    kind = changes.get("kind", resource.kind)
    training_id = changes.get("training_id", resource.training_id)
    hours: Hours | None = changes.get("hours")
    fields = _number_errors(numbers)
    fields.update(_other_errors(session, resource, name, kind, training_id, hours))
    suffix = _photo_suffix(photo, fields)
    _invalid(fields)
    resource.name, resource.kind = name, ResourceKind(kind)
    if "description" in changes:
        resource.description = text(changes["description"], 5000)
    for key, value in numbers.items():
        setattr(resource, key, value)
    if "max_hours_per_week" in changes:
        quota = changes["max_hours_per_week"]
        resource.max_hours_per_week = quota if quota is not None and 0 < quota <= 168 else None
    for flag in RULE_FLAGS:
        if flag in changes:
            setattr(resource, flag, bool(changes[flag]))
    resource.training_id = training_id
    if hours is not None:
        resource.hours = [OpeningHours(org_id=resource.org_id, weekday=weekday, opens=opens, closes=closes)
                          for weekday, opens, closes in sorted(hours)]
    if suffix is not None:
        _store_photo(resource, photo, suffix)
    session.flush()


def save_photo(session: Session, resource: Resource, photo: Any) -> None:
    """Replace the resource's photo alone (the API's upload), with the rules page's check
    (``_photo_suffix``): nothing changes on an error."""
    fields: dict[str, str] = {}
    suffix = _photo_suffix(photo, fields)
    if fields or suffix is None:  # not an image, too large, or no file at all (a part without a file name)
        raise DomainError(_("Please correct the highlighted fields."),
                          fields=fields or {"photo": _("Upload a PNG or JPEG image.")})
    _store_photo(resource, photo, suffix)
    session.flush()


def remove_photo(session: Session, resource: Resource) -> None:
    """The resource shows no photo any more (none to remove is fine)."""
    old_key, resource.photo_key = resource.photo_key, None
    session.flush()
    if old_key:
        storage().delete(old_key)


def _store_photo(resource: Resource, photo: Any, suffix: str) -> None:
    old_key = resource.photo_key
    resource.photo_key = storage().save(photo.stream, suffix)
    if old_key:
        storage().delete(old_key)


def _number_errors(numbers: dict[str, int]) -> dict[str, str]:
    """Each number within its range; then the shortest, longest and buffer against each other."""
    fields = {name: _("At most %(n)d.", n=RULE_NUMBERS[name]) for name, value in numbers.items()
              if value > RULE_NUMBERS[name]}
    fields.update({name: _("Enter a whole number, 0 or more.") for name, value in numbers.items() if value < 0})
    if fields:
        return fields
    if numbers["slot_minutes"] == 0 or numbers["min_minutes"] == 0 \
            or numbers["max_minutes"] < numbers["min_minutes"] \
            or numbers["max_minutes"] > MAX_BOOKING.total_seconds() // 60:
        fields["max_minutes"] = _("The longest booking must be at least the shortest, and at most 7 days.")
    if numbers["buffer_minutes"] > 24 * 60:
        fields["buffer_minutes"] = _("At most a day.")
    return fields


def _other_errors(session: Session, resource: Resource, name: str, kind: Any, training_id: int | None,
                  hours: Hours | None) -> dict[str, str]:
    """A name, a kind, a training of the organisation, and each day's closing after its opening."""
    fields: dict[str, str] = {}
    if not name:
        fields["name"] = _("This field is required.")
    if kind not in set(ResourceKind):
        fields["kind"] = _("Not a valid choice.")
    if training_id is not None and session.execute(select(Training.id).where(
            Training.id == training_id, Training.org_id == resource.org_id)).first() is None:
        fields["training_id"] = _("Not a valid choice.")
    for weekday, opens, closes in hours or []:
        if closes <= opens:
            fields[f"hours_{weekday}"] = _("Closing comes after opening.")
    return fields


def photo_max_mb() -> int:
    """A resource photo's largest size, stated beside the upload field: ``MAX_UPLOAD_MB``, as for an
    application's files (a request larger than ``MAX_CONTENT_LENGTH`` is refused with 413 first)."""
    from flask import current_app

    return int(current_app.config.get("MAX_UPLOAD_MB", 20))


def _photo_suffix(photo: Any, fields: dict[str, str]) -> str | None:
    """The stored file's suffix of an uploaded photo (PNG or JPEG by content, at most ``photo_max_mb``),
    or None without one."""
    if photo is None or not photo.filename:
        return None
    suffix = image_suffix(photo.stream.read(8))
    size = photo.stream.seek(0, 2)
    photo.stream.seek(0)
    if suffix is None:
        fields["photo"] = _("Upload a PNG or JPEG image.")
    elif size > photo_max_mb() * 1024 * 1024:
        fields["photo"] = _("The photo is larger than %(n)d MB.", n=photo_max_mb())
    return suffix


def add_closure(session: Session, org: Organisation, resource: Resource, starts: str, ends: str, reason: str,
                maintenance: bool) -> Closure:
    """A closure from local times (``YYYY-MM-DDTHH:MM`` in the organisation's time zone)."""
    zone = ZoneInfo(org.timezone)
    try:  # within a few years of now
        start, end = local_time(starts, zone, "starts"), local_time(ends, zone, "ends")
    except DomainError as exc:
        raise DomainError(_("Give a start and an end after it."), fields={"starts": _("Use a date and a time.")}) \
            from exc
    return close(session, org, resource, start, end, reason, maintenance)


def close(session: Session, org: Organisation, resource: Resource, start: datetime, end: datetime, reason: str,
          maintenance: bool, *, fields: tuple[str, str] = ("starts", "ends")) -> Closure:
    """A closure (or maintenance) of ``resource`` from ``start`` to ``end``, within a few years of now;
    ``fields`` names the start and end fields for the errors."""
    if start.tzinfo is None or end.tzinfo is None or abs(start - utcnow()) > HORIZON \
            or abs(end - utcnow()) > HORIZON:
        raise DomainError(_("Give a start and an end after it."), fields={fields[0]: _("Use a date and a time.")})
    if end <= start:
        message = _("Give a start and an end after it.")
        raise DomainError(message, fields={fields[1]: message})
    closure = Closure(org_id=org.id, resource_id=resource.id, starts_at=start, ends_at=end,
                      reason=text(reason, 255), maintenance=maintenance)
    session.add(closure)
    session.flush()
    return closure


def remove_closure(session: Session, resource: Resource, closure: Closure) -> None:
    """Remove a closure of ``resource`` (one of another resource is left alone)."""
    if closure.resource_id == resource.id:
        session.delete(closure)
        session.flush()


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


def certification_parties(session: Session, org: Organisation, training_id: int,
                          user_id: int) -> tuple[Training, Membership]:
    """The training and the member a certification names, for the page and the API alike. Both ids
    come in the form or the body, not the address, so one naming nothing of ``org`` is a form error on
    its field (422), never a 404."""
    training = session.execute(select(Training).where(Training.id == training_id, Training.org_id == org.id)
                               ).scalar_one_or_none()
    member = session.execute(select(Membership).where(Membership.org_id == org.id, Membership.user_id == user_id)
                             ).scalar_one_or_none()
    if training is None or member is None:
        field = "training_id" if training is None else "user_id"
        raise DomainError(_("Not a valid choice."), code="invalid", fields={field: _("Not a valid choice.")})
    return training, member


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
