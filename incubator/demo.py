"""Demo data for ``flask seed-demo``: idempotent, so running it twice changes nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from incubator.accounts import services as accounts
from incubator.accounts.models import User
from incubator.booking import demo as booking_demo
from incubator.cohorts import demo as cohorts_demo
from incubator.cohorts.models import Cohort
from incubator.core.db import utcnow
from incubator.core.permissions import Role
from incubator.core.tenancy import all_orgs
from incubator.core.timezones import to_local
from incubator.core.tokens import hash_token, new_token
from incubator.intake import demo as intake_demo
from incubator.mentoring import demo as mentoring_demo
from incubator.orgs import services as orgs
from incubator.orgs.models import Invitation, Organisation, OrgKind
from incubator.payments import demo as payments_demo
from incubator.reporting import demo as reporting_demo
from incubator.webhooks import demo as webhooks_demo

DEMO_ORGS = [
    {"slug": "bbi", "name": "Becamex Business Incubator (Eastern International University)", "kind": OrgKind.INCUBATOR},
    {"slug": "tdmu", "name": "Thu Dau Mot University Startup Support Center", "kind": OrgKind.INCUBATOR},
    {"slug": "dost-bd", "name": "Binh Duong Department of Science and Technology", "kind": OrgKind.STATE_AGENCY},
]

# email, display name, organisation slug (None: platform admin), role
DEMO_USERS = [
    ("admin@example.com", "Platform Admin", None, None),
    ("manager@bbi.example.com", "Nguyễn Thị Lan", "bbi", Role.OWNER),
    ("founder@bbi.example.com", "Trần Minh Khoa", "bbi", Role.FOUNDER),
    ("mentor@bbi.example.com", "Lê Văn Hùng", "bbi", Role.MENTOR),
    ("reviewer@bbi.example.com", "Phạm Thu Hà", "bbi", Role.REVIEWER),
    ("funder@bbi.example.com", "Võ Quốc Bảo", "bbi", Role.FUNDER),
    ("manager@tdmu.example.com", "Đặng Thị Mai", "tdmu", Role.OWNER),
    ("funder@dost-bd.example.com", "Huỳnh Thanh Sơn", "dost-bd", Role.FUNDER),
]

DEMO_ACCOUNTS = [
    (email, "platform admin" if org is None else f"{role} of {org}") for email, _name, org, role in DEMO_USERS
]


def _org(session: Session, spec: dict) -> Organisation:
    org = session.query(Organisation).filter_by(slug=spec["slug"]).one_or_none()
    if org is None:
        org = orgs.create_org(session, slug=spec["slug"], name=spec["name"], kind=spec["kind"])
    return org


def _user(session: Session, email: str, name: str, password: str) -> User:
    user = accounts.get_user_by_email(session, email)
    if user is None:
        user = accounts.register_user(session, email, name, password, locale=None, verified=True)
    user.mark_verified()  # a demo account is ready to use, even one seeded before addresses were verified
    return user


def seed(session: Session, password: str) -> None:
    with all_orgs(session):  # the demo seeds every organisation
        by_slug = {spec["slug"]: _org(session, spec) for spec in DEMO_ORGS}
        users: dict[str, User] = {}
        for email, name, slug, role in DEMO_USERS:
            user = users[email] = _user(session, email, name, password)
            if slug is None:  # the platform admin belongs to no organisation
                user.is_admin = True
            elif role is not None:
                orgs.add_member(session, by_slug[slug], user, role)
        _invitation(session, by_slug["bbi"], "staff@bbi.example.com", Role.STAFF)
        _service_token(session, by_slug["bbi"], users["manager@bbi.example.com"])
        session.flush()
        today = to_local(utcnow(), "Asia/Ho_Chi_Minh").date()
        cohorts_demo.seed(session, by_slug, users, today)
        cohort = session.query(Cohort).filter_by(org_id=by_slug["bbi"].id, name="BBI Cohort 2026").one()
        mentoring_demo.seed(session, by_slug["bbi"], cohort, users["mentor@bbi.example.com"], password, today)
        booking_demo.seed(session, by_slug["bbi"], users["founder@bbi.example.com"], users["manager@bbi.example.com"],
                          today)
        booking_demo.seed_shared(session, by_slug["tdmu"], by_slug["bbi"], users["founder@bbi.example.com"], today)
        intake_demo.seed(session, by_slug["bbi"], users, accounts.hash_password(password), today)
        payments_demo.seed(session, [by_slug["bbi"], by_slug["tdmu"]])
        reporting_demo.seed(session, by_slug["bbi"], by_slug["tdmu"], by_slug["dost-bd"], today)
        reporting_demo.seed_export(session, by_slug["bbi"], users["funder@bbi.example.com"], today)
        webhooks_demo.seed(session, by_slug["bbi"], users["manager@bbi.example.com"].id)


def _invitation(session: Session, org: Organisation, email: str, role: Role) -> None:
    """A pending invitation, so that the members page shows one."""
    if session.query(Invitation).filter_by(org_id=org.id, email=email).first() is None:
        token_hash = hash_token(new_token())
        session.add(Invitation(org_id=org.id, email=email, role=role, token_hash=token_hash,
                               expires_at=utcnow() + timedelta(days=365)))


def _service_token(session: Session, org: Organisation, manager: User) -> None:
    """A service token, so that the service tokens page lists one (its secret is not kept)."""
    from incubator.accounts.models import ApiToken
    from incubator.orgs.models import Membership

    if session.query(ApiToken).filter_by(org_id=org.id, name="Reporting sync").first() is None:
        actor = session.query(Membership).filter_by(org_id=org.id, user_id=manager.id).one()
        orgs.create_service_token(session, org, actor, name="Reporting sync", role=Role.STAFF,
                                  scopes=["reporting:read", "cohorts:read"], expires_at=None)
