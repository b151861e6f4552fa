"""A person's to-do inbox: what they have to do in an organisation, kind by kind, each with where it is done.

Every kind is one ``Kind``: whether it concerns the member at all (their role, from the domain's
``access`` rules), a SELECT of the rows still to do, narrowed with the same conditions as the domain's
predicates (the ``may_*`` of ``<domain>/access.py``), and how a row reads as an item. A kind is counted
with one query (``count``; ``counts`` asks every kind's in one statement, as scalar subqueries) and
listed a slice at a time (``items``), so neither the navigation badge nor the dashboard loads every row.
Check-ins due are the one kind computed in Python (the periods a startup owes come from its cohort's
calendar, ``cohorts.checkins.due_periods``), over the few startups a founder has.

What is not in the model is not invented here: a check-in has no "returned by staff" state (staff verify
or lock it), so there is no such kind. Sessions to log or rate are those of live matches (published or
accepted): a match that ended took its sessions off the list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, joinedload

from incubator.accounts.models import User
from incubator.booking.models import Booking, BookingStatus
from incubator.cohorts import checkins as cohort_checkins
from incubator.cohorts.models import CheckIn, Enrolment, EnrolmentStatus, Startup, StartupFounder
from incubator.core.db import utcnow
from incubator.core.permissions import Permission, Role
from incubator.core.tenancy import set_current_org
from incubator.core.timezones import to_local
from incubator.intake import access as intake_access
from incubator.intake.models import Application, Review, ReviewStatus, Stage
from incubator.mentoring import access as mentoring_access
from incubator.mentoring.models import ACTIVE_MATCH, Match, MentorProfile, MentorSession, SessionStatus
from incubator.orgs import services as org_services
from incubator.orgs.models import Invitation, Membership, Organisation

DASHBOARD_ROWS = 5  # items shown per kind on the dashboard; the rest are behind the kind's link
AWAITING_DECISION = (Stage.IN_REVIEW, Stage.INTERVIEW)  # decidable and not decided (waitlisted was)


@dataclass(frozen=True)
class Context:
    """Whose inbox, in which organisation, at what moment (``today`` in the organisation's time zone)."""

    session: Session
    org: Organisation | None  # None: the person's own inbox outside any organisation (invitations only)
    user: User
    membership: Membership | None
    now: datetime
    today: date

    @classmethod
    def of(cls, session: Session, org: Organisation | None, user: User, membership: Membership | None,
           now: datetime | None = None) -> Context:
        now = now or utcnow()
        return cls(session, org, user, membership, now, to_local(now, org.timezone if org else "UTC").date())

    @property
    def organisation(self) -> Organisation:
        if self.org is None:
            raise LookupError("an organisation's to-do asked outside one")
        return self.org

    @property
    def member(self) -> Membership:
        if self.membership is None:
            raise LookupError("a member's to-do asked of a non-member")
        return self.membership

    def url(self, endpoint: str, **values: Any) -> str:
        return url_for(endpoint, org_slug=self.organisation.slug, **values)

    def enter(self) -> Context:
        """Put the organisation in the session's scope (the tenant filter) before its queries run: a
        list over several organisations moves from one to the next."""
        set_current_org(self.session, self.org)
        return self


@dataclass(frozen=True)
class TodoItem:
    kind: str
    title: str
    url: str
    org: str  # the organisation's slug
    org_name: str
    due_on: date | None = None  # a day's deadline (check-ins, reviews)
    due_at: datetime | None = None  # a moment's (a hold that runs out, a session that took place)


@dataclass(frozen=True)
class Kind:
    key: str
    label: Any  # lazy text: the group's heading
    applies: Callable[[Context], bool]
    count: Callable[[Context], int]
    items: Callable[[Context, int, int], list[TodoItem]]  # (context, offset, limit)
    link: Callable[[Context], str]  # where all of them are done
    # The SELECT of its rows, for kinds that have one: their counts are asked in one statement together.
    stmt: Callable[[Context], Select[Any]] | None = None


def _item(ctx: Context, kind: str, title: str, url: str, *, due_on: date | None = None,
          due_at: datetime | None = None, org: Organisation | None = None) -> TodoItem:
    org = org or ctx.organisation
    return TodoItem(kind=kind, title=title, url=url, org=org.slug, org_name=org.name, due_on=due_on, due_at=due_at)


def _count(ctx: Context, stmt: Select[Any]) -> int:
    counted = select(func.count()).select_from(stmt.order_by(None).subquery())
    return int(ctx.session.execute(counted.execution_options(**stmt.get_execution_options())).scalar_one())


def _query_kind(key: str, label: Any, *, applies: Callable[[Context], bool], stmt: Callable[[Context], Select[Any]],
                order: Callable[[], tuple[Any, ...]], options: Callable[[], tuple[Any, ...]],
                item: Callable[[Context, Any], TodoItem], link: Callable[[Context], str],
                keep: Callable[[Context, Any], bool] | None = None) -> Kind:
    """A kind whose rows one SELECT finds. ``keep`` is the domain's own predicate, asked again of each
    listed row: the SELECT says the same in SQL, and a test holds the count to the list."""
    def items(ctx: Context, offset: int, limit: int) -> list[TodoItem]:
        query = stmt(ctx).options(*options()).order_by(*order()).offset(offset).limit(limit)
        rows = ctx.session.execute(query).unique().scalars().all()
        return [item(ctx, row) for row in rows if keep is None or keep(ctx, row)]

    return Kind(key, label, applies, lambda ctx: _count(ctx, stmt(ctx)), items, link, stmt)


# -- cohorts: check-ins due (founders), check-ins to verify (staff) -------------------------------------

def _checkins_due(ctx: Context) -> list[tuple[Startup, date, date]]:
    """(startup, period, due date) of the check-ins the member's startups owe and have not submitted."""
    if not ctx.member.has(Permission.SUBMIT_CHECKINS):
        return []
    founder_of = select(StartupFounder.startup_id).where(StartupFounder.user_id == ctx.user.id)
    enrolments = ctx.session.execute(
        select(Enrolment).where(Enrolment.org_id == ctx.organisation.id, Enrolment.startup_id.in_(founder_of),
                                Enrolment.status.in_((EnrolmentStatus.ACTIVE, EnrolmentStatus.GRADUATED,
                                                      EnrolmentStatus.ALUMNI)))
        .options(joinedload(Enrolment.cohort), joinedload(Enrolment.startup))).scalars().all()
    if not enrolments:
        return []
    reported = {(sid, period) for sid, period in ctx.session.execute(select(CheckIn.startup_id, CheckIn.period).where(
        CheckIn.startup_id.in_({e.startup_id for e in enrolments}))).all()}
    due: dict[tuple[int, date], tuple[Startup, date, date]] = {}
    for enrolment in enrolments:
        for period, months in cohort_checkins.due_periods(enrolment.cohort, enrolment, ctx.today):
            if (enrolment.startup_id, period) not in reported:
                due.setdefault((enrolment.startup_id, period),
                               (enrolment.startup, period, cohort_checkins.due_date(period, months)))
    return sorted(due.values(), key=lambda row: (row[2], row[0].name, row[0].id))


def _checkin_due_items(ctx: Context, offset: int, limit: int) -> list[TodoItem]:
    return [_item(ctx, "checkin_due", _("KPI check-in for %(period)s: %(startup)s", period=period.strftime("%Y-%m"),
                                        startup=startup.name),
                  ctx.url("startups.new_checkin", startup_id=startup.id, period=period.strftime("%Y-%m")),
                  due_on=deadline)
            for startup, period, deadline in _checkins_due(ctx)[offset:offset + limit]]


CHECKIN_DUE = Kind("checkin_due", _l("Check-ins to submit"),
                   applies=lambda ctx: ctx.member.has(Permission.SUBMIT_CHECKINS),
                   count=lambda ctx: len(_checkins_due(ctx)), items=_checkin_due_items,
                   link=lambda ctx: ctx.url("startups.mine"))

CHECKIN_VERIFY = _query_kind(
    "checkin_verify", _l("Check-ins to verify"),
    applies=lambda ctx: ctx.member.has(Permission.MANAGE_COHORTS),
    # cohorts.access.may_verify_checkin: not locked, and the member runs the cohorts; verified ones are done
    stmt=lambda ctx: select(CheckIn).where(CheckIn.org_id == ctx.organisation.id, CheckIn.verified_at.is_(None),
                                           CheckIn.locked_at.is_(None)),
    order=lambda: (CheckIn.period, CheckIn.id), options=lambda: (joinedload(CheckIn.startup),),
    item=lambda ctx, c: _item(ctx, "checkin_verify", _("Verify the %(period)s check-in of %(startup)s",
                                                       period=c.period_label, startup=c.startup.name),
                              ctx.url("startups.checkin", checkin_id=c.id)),
    link=lambda ctx: ctx.url("startups.index"))


# -- mentoring: matches to answer, sessions to log (mentor) or rate (founders) --------------------------

def _mentor_profile_ids(ctx: Context) -> Select[Any]:
    return select(MentorProfile.id).where(MentorProfile.org_id == ctx.organisation.id,
                                          MentorProfile.user_id == ctx.user.id)


def _founded(ctx: Context) -> Select[Any]:
    return select(StartupFounder.startup_id).where(StartupFounder.user_id == ctx.user.id)


def _matches_to_answer(ctx: Context) -> Select[Any]:
    # mentoring.pairing.awaits_answer_from: a published (or accepted) match that the mentor, or a
    # founder of its startup, has not answered yet
    return select(Match).where(Match.org_id == ctx.organisation.id, Match.status.in_(ACTIVE_MATCH), or_(
        Match.mentor_id.in_(_mentor_profile_ids(ctx)) & Match.mentor_accepted.is_(None),
        Match.startup_id.in_(_founded(ctx)) & Match.founder_accepted.is_(None)))


MATCH_ANSWER = _query_kind(
    "match_answer", _l("Mentor matches to answer"), applies=lambda ctx: True, stmt=_matches_to_answer,
    order=lambda: (Match.id,),
    options=lambda: (joinedload(Match.startup).selectinload(Startup.founders), joinedload(Match.mentor)
                     .joinedload(MentorProfile.user)),
    item=lambda ctx, m: _item(ctx, "match_answer", _("Answer the match of %(mentor)s with %(startup)s",
                                                     mentor=m.mentor.user.name, startup=m.startup.name),
                              ctx.url("mentoring.mine") + f"#match-{m.id}"),
    keep=lambda ctx, m: mentoring_access.may_answer_match(m, ctx.user),
    link=lambda ctx: ctx.url("mentoring.mine"))


def _sessions(ctx: Context) -> Select[Any]:
    return select(MentorSession).join(Match, Match.id == MentorSession.match_id).where(
        MentorSession.org_id == ctx.organisation.id, Match.status.in_(ACTIVE_MATCH))


SESSION_LOG = _query_kind(
    "session_log", _l("Mentoring sessions to log"), applies=lambda ctx: True,
    # mentor_sessions.can_log_session (its mentor) and log_session (started, not cancelled, not held yet)
    stmt=lambda ctx: _sessions(ctx).where(MentorSession.mentor_id.in_(_mentor_profile_ids(ctx)),
                                          MentorSession.status == SessionStatus.SCHEDULED,
                                          MentorSession.starts_at <= ctx.now),
    order=lambda: (MentorSession.starts_at, MentorSession.id),
    options=lambda: (joinedload(MentorSession.match).joinedload(Match.startup),
                     joinedload(MentorSession.match).joinedload(Match.mentor)),
    item=lambda ctx, s: _item(ctx, "session_log", _("Log the session with %(startup)s", startup=s.match.startup.name),
                              ctx.url("mentoring.session_page", mentor_session_id=s.id), due_at=s.starts_at),
    keep=lambda ctx, s: mentoring_access.may_log_session(s, ctx.user),
    link=lambda ctx: ctx.url("mentoring.mine"))

SESSION_RATE = _query_kind(
    "session_rate", _l("Mentoring sessions to rate"), applies=lambda ctx: True,
    # mentor_sessions.can_rate_session (the startup's founders) and rate_session (held, not rated yet)
    stmt=lambda ctx: _sessions(ctx).where(Match.startup_id.in_(_founded(ctx)),
                                          MentorSession.status == SessionStatus.HELD,
                                          MentorSession.rating.is_(None)),
    order=lambda: (MentorSession.starts_at, MentorSession.id),
    options=lambda: (joinedload(MentorSession.match).joinedload(Match.startup).selectinload(Startup.founders),
                     joinedload(MentorSession.match).joinedload(Match.mentor).joinedload(MentorProfile.user)),
    item=lambda ctx, s: _item(ctx, "session_rate", _("Rate the session with %(mentor)s",
                                                     mentor=s.match.mentor.user.name),
                              ctx.url("mentoring.session_page", mentor_session_id=s.id), due_at=s.starts_at),
    keep=lambda ctx, s: mentoring_access.may_rate_session(s, ctx.user),
    link=lambda ctx: ctx.url("mentoring.mine"))


# -- intake: reviews assigned (reviewers), applications awaiting a decision (staff) --------------------

def _application_title(ctx: Context, application: Application) -> str:
    blind = intake_access.is_blind_for(application, ctx.user, ctx.member)
    return _("Application #%(n)d", n=application.id) if blind else application.display_name


REVIEW_ASSIGNED = _query_kind(
    "review_assigned", _l("Reviews to score"),
    applies=lambda ctx: intake_access.may_review(ctx.member),
    # intake.access.may_score, still to do: assigned (not submitted, not declined), the application under review
    stmt=lambda ctx: select(Review).join(Application, Application.id == Review.application_id).where(
        Review.org_id == ctx.organisation.id, Review.reviewer_id == ctx.user.id, Review.status == ReviewStatus.ASSIGNED,
        Application.stage.in_(intake_access.REVIEWABLE_STAGES)),
    order=lambda: (Review.due_on.is_(None), Review.due_on, Review.assigned_at, Review.id),
    options=lambda: (joinedload(Review.application).joinedload(Application.call),
                     joinedload(Review.application).joinedload(Application.applicant)),
    item=lambda ctx, r: _item(ctx, "review_assigned", _("Review %(application)s",
                                                        application=_application_title(ctx, r.application)),
                              ctx.url("intake.application_page", application_id=r.application_id), due_on=r.due_on),
    keep=lambda ctx, r: intake_access.may_score(r, r.application),
    link=lambda ctx: ctx.url("intake.my_reviews"))

APPLICATION_DECISION = _query_kind(
    "application_decision", _l("Applications awaiting a decision"),
    applies=lambda ctx: intake_access.may_manage(ctx.member),
    stmt=lambda ctx: select(Application).where(Application.org_id == ctx.organisation.id,
                                               Application.stage.in_(AWAITING_DECISION)),
    order=lambda: (Application.submitted_at, Application.id),
    options=lambda: (joinedload(Application.applicant), joinedload(Application.call)),
    item=lambda ctx, a: _item(ctx, "application_decision", _("Decide on %(application)s",
                                                             application=_application_title(ctx, a)),
                              ctx.url("intake.application_page", application_id=a.id)),  # no deadline in the model
    keep=lambda ctx, a: intake_access.may_decide(a, ctx.member),
    link=lambda ctx: ctx.url("intake.manage_calls"))


# -- booking: approvals (those who run the labs), bookings to pay, slots held from the waitlist ---------

def _own_bookings(ctx: Context, status: BookingStatus) -> Select[Any]:
    """The member's bookings made through this organisation (a shared lab's belong to its owner), whose
    hold has not run out."""
    return (select(Booking).where(Booking.user_id == ctx.user.id, Booking.status == status,
                                  or_(Booking.org_id == ctx.organisation.id,
                                      Booking.partner_org_id == ctx.organisation.id),
                                  Booking.hold_expires_at > ctx.now)
            .execution_options(all_orgs=True))  # a shared lab's bookings are its owner's rows


BOOKING_APPROVAL = _query_kind(
    "booking_approval", _l("Bookings to approve"),
    applies=lambda ctx: ctx.member.has(Permission.MANAGE_RESOURCES),
    # booking.access.manages: the organisation's own bookings, still to come
    stmt=lambda ctx: select(Booking).where(Booking.org_id == ctx.organisation.id,
                                           Booking.status == BookingStatus.PENDING_APPROVAL,
                                           Booking.ends_at > ctx.now),
    order=lambda: (Booking.starts_at, Booking.id), options=lambda: (joinedload(Booking.resource),
                                                                    joinedload(Booking.user)),
    item=lambda ctx, b: _item(ctx, "booking_approval", _("Approve %(resource)s for %(person)s",
                                                         resource=b.resource.name, person=b.user.name),
                              ctx.url("booking.manage", day=to_local(b.starts_at, ctx.organisation.timezone).date()
                                      .isoformat()), due_at=b.starts_at),
    link=lambda ctx: ctx.url("booking.manage"))

BOOKING_PAY = _query_kind(
    "booking_pay", _l("Bookings to pay"), applies=lambda ctx: True,
    stmt=lambda ctx: _own_bookings(ctx, BookingStatus.AWAITING_PAYMENT),
    order=lambda: (Booking.hold_expires_at, Booking.id), options=lambda: (joinedload(Booking.resource),),
    item=lambda ctx, b: _item(ctx, "booking_pay", _("Pay for %(resource)s", resource=b.resource.name),
                              ctx.url("booking.mine", status=BookingStatus.AWAITING_PAYMENT.value),
                              due_at=b.hold_expires_at),
    link=lambda ctx: ctx.url("booking.mine", status=BookingStatus.AWAITING_PAYMENT.value))

WAITLIST_HELD = _query_kind(
    "waitlist_held", _l("Time held for you from a waitlist"), applies=lambda ctx: True,
    stmt=lambda ctx: _own_bookings(ctx, BookingStatus.HELD),
    order=lambda: (Booking.hold_expires_at, Booking.id), options=lambda: (joinedload(Booking.resource),),
    item=lambda ctx, b: _item(ctx, "waitlist_held", _("Take the time held on %(resource)s", resource=b.resource.name),
                              ctx.url("booking.mine", status=BookingStatus.HELD.value), due_at=b.hold_expires_at),
    keep=lambda ctx, b: b.user_id == ctx.user.id and b.status == BookingStatus.HELD,  # booking.access.may_take
    link=lambda ctx: ctx.url("booking.mine", status=BookingStatus.HELD.value))


# -- invitations: to the person, whatever the organisation --------------------------------------------

INVITATION = _query_kind(
    "invitation", _l("Invitations"), applies=lambda ctx: not ctx.user.is_service,
    stmt=lambda ctx: org_services.invitations_for_stmt(ctx.user, ctx.now).order_by(None),
    order=lambda: (Invitation.expires_at, Invitation.id), options=lambda: (joinedload(Invitation.org),),
    item=lambda ctx, i: _item(ctx, "invitation", _("Join %(org)s as %(role)s", org=i.org.name, role=Role(i.role).label),
                              url_for("invitations.mine", invitation_id=i.id), due_at=i.expires_at, org=i.org),
    link=lambda ctx: url_for("invitations.mine_list"))

ORG_KINDS: tuple[Kind, ...] = (CHECKIN_DUE, MATCH_ANSWER, SESSION_LOG, SESSION_RATE, REVIEW_ASSIGNED, BOOKING_PAY,
                               WAITLIST_HELD, BOOKING_APPROVAL, APPLICATION_DECISION, CHECKIN_VERIFY)
PERSONAL_KINDS: tuple[Kind, ...] = (INVITATION,)
KIND_KEYS = tuple(k.key for k in (*ORG_KINDS, *PERSONAL_KINDS))


# -- the inbox ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Group:
    kind: Kind
    count: int
    items: list[TodoItem]
    link: str


def sections(ctx: Context, *, personal: bool = True) -> list[tuple[Context, Kind]]:
    """The kinds that concern the member in ``ctx``'s organisation (and the personal ones)."""
    kinds: Iterable[Kind] = ORG_KINDS if ctx.membership is not None else ()
    if personal:
        kinds = (*kinds, *PERSONAL_KINDS)
    return [(ctx, kind) for kind in kinds if kind.applies(ctx)]


def counts(parts: list[tuple[Context, Kind]]) -> list[int]:
    """The count of each part: the kinds with a SELECT as scalar subqueries of one statement (one round
    trip for the navigation's badge on every page), the others one by one."""
    found: dict[int, int] = {}
    queried = [(i, c, kind) for i, (c, kind) in enumerate(parts) if kind.stmt is not None]
    if queried:
        columns = [select(func.count()).select_from(kind.stmt(c).order_by(None).subquery()).scalar_subquery()
                   for _i, c, kind in queried if kind.stmt is not None]
        # Each SELECT names its organisation (or person) itself: the tenant filter is lifted for the lot,
        # as the invitations and the shared labs' bookings need.
        row = parts[0][0].session.execute(select(*columns).execution_options(all_orgs=True)).one()
        found.update({i: int(n) for (i, _c, _k), n in zip(queried, row, strict=True)})
    return [found[i] if i in found else kind.count(c.enter()) for i, (c, kind) in enumerate(parts)]


def count(ctx: Context) -> int:
    """How many things the member has to do (the navigation's badge)."""
    ctx.enter()
    return sum(counts(sections(ctx)))


def groups(ctx: Context, per_kind: int = DASHBOARD_ROWS) -> list[Group]:
    """The dashboard's list: per kind with anything to do, its count and its first ``per_kind`` items."""
    parts = sections(ctx.enter())
    return [Group(kind, n, kind.items(c.enter(), 0, per_kind), kind.link(c))
            for (c, kind), n in zip(parts, counts(parts), strict=True) if n]


def page(parts: list[tuple[Context, Kind]], offset: int, limit: int) -> tuple[list[TodoItem], int]:
    """One page of the items of ``parts`` in their order, and the total: each part counted once, and
    listed only where the page overlaps it."""
    numbers = counts(parts)
    items: list[TodoItem] = []
    start = 0
    for (c, kind), n in zip(parts, numbers, strict=True):
        if len(items) < limit and start + n > offset:
            skip = max(0, offset - start)
            items.extend(kind.items(c.enter(), skip, limit - len(items)))
        start += n
    return items, sum(numbers)
