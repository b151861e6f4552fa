"""Property-based API tests: schemathesis generates requests from /api/v1/openapi.json.

Every operation of the document is a test of its own (so operations added later are covered by
themselves, and pytest-xdist spreads them over its workers). Each runs as three people of ``bbi``, each
with their own token: a manager, a founder (of AgriSense, with a draft application, a booking and a
mentor) and a reviewer (assigned to a submitted application). ``bbi`` holds a small demo: a cohort with
two startups, milestones and a check-in, two mentors with published, accepted matches, a session and a
conflict of interest, an action item, a Fablab with a booking, a closure, a resource shared with a partner
and a place on the waitlist, a paid payment, a service token, an open call with its form, rubric and two
applications.
Generated path ids are replaced by the ids of those rows most of the time, and ``{org}`` by ``bbi``, so
that reads and writes run past the 404 gate; the rest stay as generated (another organisation, no such
row). Writes are included: they change the rows (in the test's transaction, rolled back at its end),
and later requests meet what earlier ones left.

No generated request may cause a server error or a response that the document does not describe.

Cost: the number of examples follows the size of an operation's input (a GET without parameters
needs a handful, a write with a body many more), and operations whose answer is expensive (the report
downloads render a PDF or a workbook) get fewer; see ``examples``.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from incubator.accounts.services import create_api_token
from incubator.core.permissions import Role
from tests.factories import checkin, member, milestone

# Role -> how many examples, relative to the manager's (who can do the most, so whose requests reach
# the most code); the others mostly meet 403/404 past the first few, and need fewer.
ROLES = {"manager": 1.0, "founder": 0.5, "reviewer": 0.5}
# The document and the inputs are the same on both databases: the PostgreSQL run (CI's second) draws half
# as many examples, enough for what only PostgreSQL refuses (a NUL in text, an integer past 2**31).
DATABASE_SHARE = 0.5 if (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql") else 1.0

# Operations whose successful answer is expensive (a rendered PDF, a workbook, an optimisation run):
# the generated query parameters are few and simple, so a handful of examples covers their inputs.
EXPENSIVE = ("/report.pdf", "/report.xlsx", "/report.csv", "/report", "/matching")


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # what the logo check reads: the PNG signature


def _operations() -> list[Any]:
    """The document's operations, read once at collection from an app that serves only the document
    (its database is never touched; the tests call the session's ``app``)."""
    from incubator import create_app

    doc_app = create_app({"DATABASE_URL": "sqlite://"})
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", doc_app)
    return [result.ok() for result in schema.get_all_operations()]


OPERATIONS = _operations()


def _inputs(operation: Any) -> int:
    """How many things a request of this operation carries besides ``{org}``: its parameters and the
    top-level fields of its body."""
    count = sum(1 for p in operation.path_parameters if p.name != "org") + len(operation.query)
    bodies = [len(b.definition.get("schema", {}).get("properties", {})) or 1 for b in operation.body]
    return count + max(bodies, default=0)


def examples(operation: Any, role: str) -> int:
    """Examples per role: 4 for an operation without inputs, 4 more per input, at most 36; at most 6
    for the expensive ones; scaled down for the roles that meet a refusal early."""
    expensive = any(operation.path.endswith(suffix) for suffix in EXPENSIVE)
    base = 6 if expensive else min(36, 4 + 4 * _inputs(operation))
    return max(3, round(base * ROLES[role] * DATABASE_SHARE))


@dataclass
class ApiWorld:
    tokens: dict[str, dict[str, str]]  # role -> Authorization header
    ids: dict[str, dict[str, list[int]]]  # role -> parameter or body field -> ids of bbi's rows for them


@pytest.fixture()
def api_world(app, session, world, fablab, mentors, published) -> ApiWorld:
    """bbi's small demo (see the module's docstring), a token per role and the ids of its rows."""
    from incubator.booking import services as booking
    from incubator.intake.models import Stage
    from incubator.intake.review import assign
    from incubator.mentoring import mentor_sessions
    from incubator.mentoring import services as mentoring
    from tests.booking.fixtures import next_weekday_at
    from tests.cohorts.fixtures import THIS_MONTH, add_months
    from tests.intake.fixtures import application, make_call
    from tests.mentoring.fixtures import next_weekday

    org = world.org
    reviewer = member(org, Role.REVIEWER, name="Reviewer A")
    call = make_call(org, world.cohort.programme, world.cohort)
    draft = application(call, world.founder, stage=Stage.DRAFT)
    submitted = application(call, world.other_founder)
    review = assign(session, submitted, reviewer, notify=False)
    goal = milestone(world.startup, "First pilot", THIS_MONTH + timedelta(days=20))
    report = checkin(world.startup, add_months(THIS_MONTH, -1), revenue=1_000_000)
    match = published[world.startup.id]
    with app.test_request_context(headers={"Accept-Language": "en"}):
        # Files behind the download operations: a logo, a photo, and evidence for the check-in and the milestone.
        from incubator.core.storage import storage

        world.startup.logo_key = storage().save(io.BytesIO(PNG), ".png")
        fablab.printer.photo_key = storage().save(io.BytesIO(PNG), ".png")  # a resource's photo to fetch
        # The organisation's logo (reports and every page of its own), which every member may fetch
        from werkzeug.datastructures import FileStorage

        from incubator.reporting.services import save_logo

        save_logo(session, org, FileStorage(io.BytesIO(PNG), filename="logo.png"))
        for row in (report, goal):
            row.evidence_key, row.evidence_name = storage().save(io.BytesIO(b"%PDF-1.4\n%%EOF\n"), ".pdf"), "e.pdf"
        meeting = mentor_sessions.schedule_session(session, match, starts_at=next_weekday(1, 10), duration_minutes=60)
        conflict = mentoring.record_conflict(session, mentors.park, world.startup, "advisory", "Advises them",
                                             world.manager)
        start = next_weekday_at(2, 10)
        booked = booking.create_booking(session, org, fablab.printer, world.founder, start,
                                        start + timedelta(hours=1))
    # Rows for the operations of members, invitations, enrolments, custom KPIs and webhooks.
    from sqlalchemy import select

    from incubator.cohorts.models import Enrolment, KpiDefinition
    from incubator.orgs.models import Membership
    from incubator.webhooks import services as webhooks
    from tests.factories import InvitationFactory

    enrolment_id = session.execute(select(Enrolment.id).where(Enrolment.startup_id == world.startup.id)).scalar()
    kpi = KpiDefinition(org_id=org.id, key="pilots", name="Pilots")
    session.add(kpi)
    invitation = InvitationFactory(org_id=org.id)
    reviewer_membership = session.execute(select(Membership.id).where(
        Membership.org_id == org.id, Membership.user_id == reviewer.id)).scalar()
    with app.app_context():  # the secret is encrypted with the app's key
        hook, _secret = webhooks.create_subscription(session, org.id, url="http://127.0.0.1:9/hook",
                                                     events=["booking.confirmed"])
        delivery = webhooks.ping(session, hook)
    payment, service_token, closure, share, waiting, item = _booking_and_payment_rows(app, session, world, fablab,
                                                                                      match, meeting)
    people = {"manager": world.manager, "founder": world.founder, "reviewer": reviewer}
    tokens, spares = {}, {}
    for role, user in people.items():
        token, _record = create_api_token(session, user, f"schemathesis {role}")
        tokens[role] = {"Authorization": f"Bearer {token}"}
        # The personal token /me/tokens/{token_id} reads and revokes: not the one that calls.
        spares[role] = create_api_token(session, user, f"spare {role}")[1].id
    from incubator.mentoring.models import MatchRun, MatchRunStatus

    run = MatchRun(org_id=world.org.id, cohort_id=world.cohort.id, weights={}, per_startup=2,
                   status=MatchRunStatus.DONE, progress=100)
    session.add(run)
    session.flush()
    rows = {
        "cohort_id": [world.cohort.id],
        "startup_id": [world.startup.id, world.other.id],
        "mentor_profile_id": [mentors.ha.id, mentors.park.id],
        "match_id": [match.id, published[world.other.id].id],
        "mentor_session_id": [meeting.id],
        "mentor_conflict_id": [conflict.id],
        "resource_id": [fablab.printer.id, fablab.room.id, fablab.laser.id],
        "booking_id": [booked.id],
        "call_id": [call.id],
        "application_id": [submitted.id, draft.id],
        # Rows no operation names yet, for the operations other branches add.
        "programme_id": [world.cohort.programme_id],
        "milestone_id": [goal.id],
        "checkin_id": [report.id],
        "lab_id": [fablab.lab.id],
        "training_id": [fablab.training.id],
        "review_id": [review.id],
        "enrolment_id": [enrolment_id],
        "kpi_definition_id": [kpi.id],
        "invitation_id": [invitation.id],
        "membership_id": [reviewer_membership],
        "webhook_subscription_id": [hook.id],
        "webhook_delivery_id": [delivery.id],
        "payment_id": [payment.id],
        "api_token_id": [service_token.id],
        "closure_id": [closure.id],
        "resource_share_id": [share.id],
        "waitlist_entry_id": [waiting.id],
        "action_item_id": [item.id],
        "match_run_id": [run.id],
        # The platform admin's operations (/admin/orgs/<slug>, /admin/users/<user_id>): these people are
        # not admins, so each must answer its documented 403 (tests/api/test_platform_admin.py runs them)
        "slug": [world.org.slug],
        "user_id": [world.founder.id],
    }
    rows["mentor_id"] = rows["mentor_profile_id"]  # the body's name for a mentor profile
    ids = {  # what each person would ask about: the founder their own startup and draft, the reviewer theirs
        "manager": {**rows, "token_id": [spares["manager"]]},
        "founder": {**rows, "startup_id": [world.startup.id], "match_id": [match.id], "application_id": [draft.id],
                    "token_id": [spares["founder"]]},
        "reviewer": {**rows, "application_id": [submitted.id], "token_id": [spares["reviewer"]]},
    }
    return ApiWorld(tokens, ids)


def _booking_and_payment_rows(app: Any, session: Any, world: Any, fablab: Any, match: Any, meeting: Any
                              ) -> tuple[Any, ...]:
    """A paid payment of the founder's, a service token, a closure of the printer, the printer shared
    with a partner, the founder waiting for a laser slot, and an action item of the founder's match."""
    from sqlalchemy import select

    from incubator.booking import setup
    from incubator.booking.models import ResourceShare
    from incubator.booking.waitlist import join_waitlist
    from incubator.core.db import utcnow
    from incubator.ledger.models import Payment, PaymentStatus
    from incubator.mentoring.models import ActionItem
    from incubator.orgs.models import Membership
    from incubator.orgs.services import create_service_token
    from tests.booking.fixtures import next_weekday_at
    from tests.factories import OrgFactory

    org = world.org
    payment = Payment(org_id=org.id, user_id=world.founder.id, startup_id=world.startup.id, description="Meeting room",
                      amount=100_000, currency="VND", status=PaymentStatus.PAID, destination_account="acct_1TestBBI",
                      idempotency_key="schemathesis-paid", paid_at=utcnow() - timedelta(days=3))
    item = ActionItem(org_id=org.id, session_id=meeting.id, match_id=match.id, title="Pitch deck")
    session.add_all([payment, item])
    owner = session.execute(select(Membership).where(Membership.org_id == org.id,
                                                     Membership.user_id == world.manager.id)).scalar_one()
    start = next_weekday_at(3, 10)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        _token, service_token = create_service_token(session, org, owner, name="Importer", role="staff",
                                                     scopes=["read", "write"], expires_at=None)
        closure = setup.close(session, org, fablab.printer, start, start + timedelta(hours=2), "Maintenance", True)
        setup.set_share(session, fablab.printer, OrgFactory(slug="partner-lab"), share=True, needs_approval=False)
        waiting = join_waitlist(session, org, fablab.laser, world.founder, start, start + timedelta(hours=1))
    share = session.execute(select(ResourceShare).where(ResourceShare.resource_id == fablab.printer.id)).scalar_one()
    session.flush()
    return payment, service_token, closure, share, waiting, item


def _slot(seed: int) -> datetime:
    """A time a mentor (weekdays 9 to 17 in Saigon) and the lab are open, some days ahead."""
    from tests.booking.fixtures import next_weekday_at

    return next_weekday_at(seed % 5, 9 + seed % 7, weeks=1 + seed % 2)


def _aim(case: Any, ids: dict[str, list[int]]) -> None:
    """Point most generated requests at bbi and its rows (path ids and ids in the body), and some
    bodies' times at open hours; leave the rest as generated (another organisation, no such row)."""
    params = case.path_parameters or {}
    if "org" in params and len(params["org"]) % 3 != 0:
        params["org"] = "bbi"
    body = case.body if isinstance(case.body, dict) else {}
    for values in (params, body):
        for name, value in values.items():
            real = ids.get(name)
            if real and isinstance(value, int) and not isinstance(value, bool) and value % 4 != 3:
                values[name] = real[value % len(real)]
    starts_at = body.get("starts_at")
    if isinstance(starts_at, str) and len(starts_at) % 2 == 0:
        start = _slot(sum(map(ord, starts_at)))
        body["starts_at"] = start.isoformat()
        if "ends_at" in body:
            body["ends_at"] = (start + timedelta(minutes=90)).isoformat()


def _property(operation: Any, app: Any, role: str, headers: dict[str, str], ids: dict[str, list[int]],
              seen: list[int]) -> Any:
    """The Hypothesis test of one operation as one person."""

    @given(case=operation.as_strategy())
    @settings(max_examples=examples(operation, role), deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        _aim(case, ids)
        # Business rules (an unknown member, a full cohort) may refuse schema-valid input with a
        # documented 4xx, so the check that every valid request is accepted does not apply.
        response = case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance], app=app)
        seen.append(response.status_code)

    return run


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: f"{op.method.upper()} {op.path}")
def test_operation_conforms_to_the_document(operation, app, api_world):
    answers: dict[str, list[int]] = {}
    for role, headers in api_world.tokens.items():
        answers[role] = []
        try:
            _property(operation, app, role, headers, api_world.ids[role], answers[role])()
        except Exception as exc:
            exc.add_note(f"as the {role} of bbi")
            raise
    # Not a test of 404s only: some request of each operation got past the organisation and row lookups.
    # An operation whose path names a row api_world does not know about fails: give api_world its rows
    # (the ``rows`` dict).
    unknown = [p.name for p in operation.path_parameters if p.name != "org" and p.name not in api_world.ids["manager"]]
    assert not unknown, f"{operation.label}: no bbi rows for {unknown} in api_world; only 404s would be tried"
    assert any(code != 404 for codes in answers.values() for code in codes), answers


def test_the_document_has_every_domain():
    """The parametrisation above is only as wide as the document it reads."""
    paths = {operation.path for operation in OPERATIONS}
    for part in ("/cohorts", "/mentors", "/sessions", "/bookings", "/calls", "/applications", "/payments",
                 "/report"):
        assert any(part in path for path in paths), part
    assert len(OPERATIONS) >= 40
