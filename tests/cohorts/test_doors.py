"""Same door (#13): every cohorts API operation and its page answer each role alike.

For each operation of ``/api/v1/orgs/{org}`` in the cohorts domain, the page that does the same
thing is called by the same person, and both answers must fall in the same class
(``tests.doors.answer_class``): allowed, forbidden (403), hidden (404) or login.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pytest

from incubator.accounts.services import create_api_token
from incubator.cohorts.checkins import add_months
from incubator.cohorts.models import CohortFunder, Enrolment, KpiDefinition
from incubator.core.permissions import Role
from incubator.core.storage import storage
from tests.cohorts.fixtures import THIS_MONTH, kpis
from tests.conftest import csrf_token, login
from tests.doors import assert_same_door
from tests.factories import StartupFactory, UserFactory, checkin, member, milestone

API = "/api/v1/orgs/bbi"
PAGE = "/o/bbi"
LAST = add_months(THIS_MONTH, -1)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ROLES = ("owner", "manager", "staff", "reviewer", "mentor", "founder", "funder", "stranger")


@dataclass
class Ctx:
    world: Any
    checkin: Any
    milestone: Any
    enrolment: Any
    kpi: Any
    loose: Any  # a startup in no cohort


@dataclass
class Op:
    name: str
    page: tuple[str, str, dict[str, Any]]  # method, path, form data (csrf added)
    api: tuple[str, str, dict[str, Any] | None]  # method, path, json
    expect: dict[str, str]  # role -> answer class, for the roles that differ from "allowed"


def _expect(*, hidden: tuple[str, ...] = (), forbidden: tuple[str, ...] = ()) -> dict[str, str]:
    out = {"stranger": "hidden"}
    out.update({role: "hidden" for role in hidden})
    out.update({role: "forbidden" for role in forbidden})
    return out


NOT_STAFF = ("reviewer", "mentor", "founder", "funder")
SEES_NO_STARTUP = ("reviewer", "mentor", "funder")  # the founder here is the startup's own
SEES_NO_COHORT = ("reviewer", "mentor")  # the funder funds the cohort; the founder is in it


def operations(c: Ctx) -> list[Op]:
    w = c.world
    manage = _expect(forbidden=NOT_STAFF)
    startup_rows = _expect(hidden=SEES_NO_STARTUP)
    cohort_rows = _expect(hidden=SEES_NO_COHORT)
    manage_checkin = _expect(forbidden=NOT_STAFF)
    cohort_form = {"programme_id": str(w.cohort.programme_id), "name": "Door cohort", "starts_on": "2027-01-01",
                   "ends_on": "2027-06-30", "checkin_frequency": "monthly"}
    startup_form = {"name": "AgriSense", "stage": "idea", "origin": "independent", "team_size": "3"}
    return [
        Op("list cohorts", ("GET", "/cohorts", {}), ("GET", "/cohorts", None), _expect()),
        Op("get cohort", ("GET", "/cohorts/{cohort_id}", {}), ("GET", "/cohorts/{cohort_id}", None), cohort_rows),
        Op("cohort startups", ("GET", "/cohorts/{cohort_id}", {}), ("GET", "/cohorts/{cohort_id}/startups", None),
           cohort_rows),
        Op("list templates", ("GET", "/cohorts/{cohort_id}", {}),
           ("GET", "/cohorts/{cohort_id}/milestone-templates", None), cohort_rows),
        Op("list programmes", ("GET", "/cohorts", {}), ("GET", "/programmes", None), _expect()),
        Op("create programme", ("POST", "/programmes/new", {"name": "Door", "kind": "incubation"}),
           ("POST", "/programmes", {"name": "Door"}), manage),
        Op("patch programme", ("POST", "/programmes/{programme_id}/edit",
                               {"name": "Renamed", "kind": "incubation"}),
           ("PATCH", "/programmes/{programme_id}", {"name": "Renamed"}), manage),
        Op("create cohort", ("POST", "/cohorts/new", cohort_form),
           ("POST", "/cohorts", {**cohort_form, "programme_id": w.cohort.programme_id}), manage),
        Op("patch cohort", ("POST", "/cohorts/{cohort_id}/edit", {**cohort_form, "name": "Renamed"}),
           ("PATCH", "/cohorts/{cohort_id}", {"name": "Renamed"}), manage),
        Op("lock period", ("POST", "/cohorts/{cohort_id}/lock", {"period": LAST.strftime("%Y-%m")}),
           ("POST", "/cohorts/{cohort_id}/lock", {"period": LAST.strftime("%Y-%m")}), manage),
        Op("graduate", ("POST", "/cohorts/{cohort_id}/graduate", {}), ("POST", "/cohorts/{cohort_id}/graduate", None),
           manage),
        Op("enrol",
           ("POST", "/cohorts/{cohort_id}/enrol", {"startup_id": str(c.loose.id), "enrolled_on": "2026-06-01"}),
           ("POST", "/cohorts/{cohort_id}/enrolments", {"startup_id": c.loose.id, "enrolled_on": "2026-06-01"}),
           manage),
        Op("enrolment status", ("POST", "/enrolments/{enrolment_id}/status", {"status": "graduated"}),
           ("PATCH", "/enrolments/{enrolment_id}", {"status": "graduated"}), manage),
        Op("add template", ("POST", "/cohorts/{cohort_id}/milestone-templates", {"title": "T", "due_on": "2027-01-01"}),
           ("POST", "/cohorts/{cohort_id}/milestone-templates", {"title": "T", "due_on": "2027-01-01"}), manage),
        Op("list kpis", ("GET", "/kpis", {}), ("GET", "/kpis", None), manage),
        Op("create kpi", ("POST", "/kpis", {"key": "door_kpi", "name": "Door", "type": "integer"}),
           ("POST", "/kpis", {"key": "door_kpi", "name": "Door"}), manage),
        Op("toggle kpi", ("POST", "/kpis/{kpi_definition_id}/toggle", {}),
           ("PATCH", "/kpis/{kpi_definition_id}", {"active": False}),
           manage),
        Op("list startups", ("GET", "/startups", {}), ("GET", "/startups", None), _expect()),
        Op("get startup", ("GET", "/startups/{startup_id}", {}), ("GET", "/startups/{startup_id}", None), startup_rows),
        Op("create startup", ("POST", "/startups/new", {**startup_form, "name": "Door startup"}),
           ("POST", "/startups", {"name": "Door startup"}), manage),
        Op("patch startup", ("POST", "/startups/{startup_id}/edit", startup_form),
           ("PATCH", "/startups/{startup_id}", {"sector": "Agritech"}), startup_rows),
        Op("put logo", ("POST", "/startups/{startup_id}/edit", startup_form),
           ("PUT", "/startups/{startup_id}/logo", None), startup_rows),
        Op("get logo", ("GET", "/startups/{startup_id}/logo", {}), ("GET", "/startups/{startup_id}/logo", None),
           startup_rows),
        Op("list founders", ("GET", "/startups/{startup_id}", {}), ("GET", "/startups/{startup_id}/founders", None),
           startup_rows),
        Op("add founder", ("POST", "/startups/{startup_id}/founders", {"email": "door@example.org"}),
           ("POST", "/startups/{startup_id}/founders", {"email": "door@example.org"}),
           _expect(forbidden=NOT_STAFF)),
        Op("list checkins", ("GET", "/startups/{startup_id}", {}), ("GET", "/startups/{startup_id}/checkins", None),
           startup_rows),
        Op("create checkin", ("POST", "/startups/{startup_id}/checkins/new",
                              {"period": add_months(THIS_MONTH, -2).strftime("%Y-%m"), **kpis()}),
           ("POST", "/startups/{startup_id}/checkins", {"period": add_months(THIS_MONTH, -2).strftime("%Y-%m"),
                                                      **kpis()}), startup_rows),
        Op("get checkin", ("GET", "/checkins/{checkin_id}", {}), ("GET", "/checkins/{checkin_id}", None), startup_rows),
        Op("patch checkin", ("POST", "/checkins/{checkin_id}", kpis(customers=30)),
           ("PATCH", "/checkins/{checkin_id}", {"customers": 30}), startup_rows),
        Op("verify checkin", ("POST", "/checkins/{checkin_id}/verify", {}),
           ("POST", "/checkins/{checkin_id}/verify", None),
           manage_checkin),
        Op("lock checkin", ("POST", "/checkins/{checkin_id}/lock", {}), ("POST", "/checkins/{checkin_id}/lock", None),
           manage_checkin),
        Op("checkin evidence", ("GET", "/checkins/{checkin_id}/evidence", {}),
           ("GET", "/checkins/{checkin_id}/evidence", None),
           startup_rows),
        Op("put checkin evidence", ("POST", "/checkins/{checkin_id}", kpis(customers=31)),
           ("PUT", "/checkins/{checkin_id}/evidence", None), startup_rows),
        Op("put milestone evidence", ("POST", "/milestones/{milestone_id}", {"status": "in_progress"}),
           ("PUT", "/milestones/{milestone_id}/evidence", None), startup_rows),
        Op("list milestones", ("GET", "/startups/{startup_id}", {}), ("GET", "/startups/{startup_id}/milestones", None),
           startup_rows),
        Op("create milestone", ("POST", "/startups/{startup_id}/milestones", {"title": "Door", "due_on": "2027-01-01"}),
           ("POST", "/startups/{startup_id}/milestones", {"title": "Door", "due_on": "2027-01-01"}), startup_rows),
        Op("get milestone", ("GET", "/startups/{startup_id}", {}),
           ("GET", "/milestones/{milestone_id}", None), startup_rows),
        Op("patch milestone", ("POST", "/milestones/{milestone_id}", {"status": "in_progress"}),
           ("PATCH", "/milestones/{milestone_id}", {"status": "in_progress"}), startup_rows),
        Op("milestone evidence", ("GET", "/milestones/{milestone_id}/evidence", {}),
           ("GET", "/milestones/{milestone_id}/evidence", None),
           startup_rows),
    ]


@pytest.fixture()
def ctx(world, session, app) -> Ctx:
    session.add(CohortFunder(org_id=world.org.id, cohort=world.cohort, user_id=world.funder.id))
    with app.app_context():
        key = storage().save(io.BytesIO(b"%PDF-1.4 door"), ".pdf")
    record = checkin(world.startup, LAST, **kpis(), evidence_key=key, evidence_name="door.pdf")
    stone = milestone(world.startup, "Pilot", add_months(THIS_MONTH, 1))
    stone.evidence_key, stone.evidence_name = key, "pilot.pdf"
    with app.app_context():
        world.startup.logo_key = storage().save(io.BytesIO(PNG), ".png")
    kpi = KpiDefinition(org_id=world.org.id, key="exports", name="Exports")
    session.add(kpi)
    session.flush()
    enrolment = next(e for e in world.startup.enrolments if isinstance(e, Enrolment))
    return Ctx(world, record, stone, enrolment, kpi, StartupFactory(org_id=world.org.id, name="Loose"))


def ids(c: Ctx) -> dict[str, int]:
    return {"cohort_id": c.world.cohort.id, "startup_id": c.world.startup.id, "checkin_id": c.checkin.id,
            "milestone_id": c.milestone.id, "enrolment_id": c.enrolment.id, "kpi_definition_id": c.kpi.id,
            "programme_id": c.world.cohort.programme_id}


def _person(ctx: Ctx, role: str) -> Any:
    w = ctx.world
    return {"manager": w.manager, "founder": w.founder, "funder": w.funder, "stranger": UserFactory()}.get(role) \
        or member(w.org, Role(role))


def _call_page(client: Any, method: str, path: str, data: dict[str, Any]) -> Any:
    if method == "GET":
        return client.get(PAGE + path)
    return client.post(PAGE + path, data={**{k: str(v) for k, v in data.items()},
                                          "csrf_token": csrf_token(client, "/account")})


def _call_api(client: Any, headers: dict[str, str], method: str, path: str, body: Any) -> Any:
    if method == "PUT":  # the uploads: a PNG is a logo and an evidence image alike
        return client.put(API + path, headers=headers, content_type="multipart/form-data",
                          data={"file": (io.BytesIO(PNG), "file.png")})
    return client.open(API + path, method=method, headers=headers, **({"json": body} if body is not None else {}))


@pytest.mark.parametrize("role", ROLES)
def test_page_and_api_answer_alike(app, ctx, session, role):
    """One person walks the whole table (an earlier row's change only turns a later action into a
    refusal on its merits, which is still "allowed")."""
    person = _person(ctx, role)
    token, _record = create_api_token(session, person, "door")
    session.flush()
    page_client, api_client = app.test_client(), app.test_client()
    assert login(page_client, person.email).status_code == 302
    values, wrong = ids(ctx), []
    for op in operations(ctx):
        api = _call_api(api_client, {"Authorization": f"Bearer {token}"}, op.api[0], op.api[1].format(**values),
                        op.api[2])
        page = _call_page(page_client, op.page[0], op.page[1].format(**values), op.page[2])
        found = assert_same_door(page, api, f"{op.name} as {role}")
        if found != op.expect.get(role, "allowed"):
            wrong.append(f"{op.name}: {found}, expected {op.expect.get(role, 'allowed')}")
    assert not wrong, f"{role}: {wrong}"


def test_the_table_walks_every_cohorts_operation_of_the_document(app, ctx):
    """A cohorts operation added to the API without a row here fails this test."""
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    domain = ("/cohorts", "/programmes", "/enrolments", "/kpis", "/startups", "/checkins", "/milestones")
    documented = set()
    for path, methods in spec["paths"].items():
        local = path.removeprefix("/api/v1/orgs/{org}")
        # (a startup's mentoring needs and a cohort's matching and report are mentoring's and reporting's)
        if local != path and local.startswith(domain) and "/report" not in local and "/matching" not in local \
                and not local.endswith("/needs"):
            documented |= {(method.upper(), local) for method in methods if method != "parameters"}
    walked = {(op.api[0], op.api[1]) for op in operations(ctx)}
    assert documented - walked <= {("GET", "/programmes/{programme_id}"), ("GET", "/enrolments/{enrolment_id}")}, \
        sorted(documented - walked)
