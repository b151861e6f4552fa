"""One rule, two doors: every intake API operation and its page answer alike for each role (allowed,
forbidden, hidden), because both ask ``intake.access`` and the same ``@require``.

The table walks every operation of the ``api_intake`` blueprint (``test_the_table_walks_every_intake_
operation_of_the_document``); an operation without a page of its own says why in ``NO_PAGE`` and is still
walked through the API for each role. The callers are those of the other tables (``tests.doors.ROLES``):
the members of bbi, a member of another organisation, a platform admin who is no member, and someone
not signed in (who may read the open calls on their pages, but not through the API). The applicant's
operations are walked twice: on someone else's application (404 whoever asks) and on the walker's own
draft (the role decides)."""

from __future__ import annotations

import io
import re

import pytest

from incubator.core.permissions import Role
from incubator.intake.models import Review, ReviewStatus, Stage
from tests.conftest import csrf_token
from tests.doors import answer_class, assert_same_door, documented
from tests.factories import OrgFactory, UserFactory, member
from tests.intake.fixtures import GOOD_ANSWERS, PDF, application

API = "/api/v1/orgs/bbi"
PAGE = "/o/bbi"
ROLES = ["owner", "manager", "staff", "reviewer", "mentor", "founder", "funder", "non-member", "admin", "anonymous"]
MANAGE = {"owner", "manager", "staff"}
OUTSIDE = {"non-member", "admin"}  # no member of bbi: a member of another organisation, a platform admin


@pytest.fixture()
def doors(intake, session):
    """An application in review by a founder, assigned to reviewer A, declined for a conflict by C."""
    target = application(intake.call, intake.other_founder, Stage.IN_REVIEW)
    session.add(Review(org_id=intake.org.id, application=target, reviewer=intake.reviewers[0]))
    session.add(Review(org_id=intake.org.id, application=target, reviewer=intake.reviewers[2],
                       status=ReviewStatus.CONFLICT, conflict_reason="Advisor"))
    session.flush()
    return target


def _user(role, intake):
    if role == "manager":
        return intake.manager
    if role == "reviewer":
        return intake.reviewers[0]
    if role == "founder":
        return intake.founder
    if role == "non-member":
        return member(OrgFactory(slug="elsewhere"), Role.MANAGER)
    if role == "admin":  # a platform admin who is no member of bbi
        return UserFactory(is_admin=True)
    if role == "anonymous":
        return None
    return member(intake.org, Role(role))


class Multipart(dict):
    """An API body sent as a multipart form (a file upload) rather than as JSON."""


def _pdf():
    return io.BytesIO(PDF), "deck.pdf"


def _operations(intake, target, mine):
    """(label, page request or None, API request): each a (method, path, body). ``mine`` is the walker's
    own draft application."""
    c, a, m = intake.call.id, target.id, mine.id
    conflicted = intake.reviewers[2].id
    conflicted_review = next(r.id for r in target.reviews if r.reviewer_id == conflicted)
    return [
        ("list calls", ("GET", f"{PAGE}/calls", None), ("GET", f"{API}/calls", None)),
        ("read a call", ("GET", f"{PAGE}/calls/{c}", None), ("GET", f"{API}/calls/{c}", None)),
        ("create a call", ("POST", f"{PAGE}/calls/new", {}), ("POST", f"{API}/calls", {})),
        ("change a call", ("POST", f"{PAGE}/calls/{c}/edit", {}),
         ("PATCH", f"{API}/calls/{c}", {"reviewers_per_application": 0})),
        ("read the form", ("GET", f"{PAGE}/calls/{c}/form", None), ("GET", f"{API}/calls/{c}/form", None)),
        ("add a question", ("POST", f"{PAGE}/calls/{c}/form", {}), ("POST", f"{API}/calls/{c}/form/questions", {})),
        ("replace the form", ("POST", f"{PAGE}/calls/{c}/form", {"key": "Bad key"}),
         ("PUT", f"{API}/calls/{c}/form", {"questions": [{"key": "Bad key", "type": "number", "label_en": "x",
                                                           "label_vi": "x"}]})),
        ("edit a question", ("POST", f"{PAGE}/calls/{c}/form", {"original_key": "pitch"}),
         ("PATCH", f"{API}/calls/{c}/form/questions?key=pitch", {"label_en": ""})),
        ("remove a question", ("POST", f"{PAGE}/calls/{c}/form/change", {"key": "website", "action": "remove"}),
         ("DELETE", f"{API}/calls/{c}/form/questions?key=contact_email", None)),
        ("read the rubric", ("GET", f"{PAGE}/calls/{c}/rubric", None), ("GET", f"{API}/calls/{c}/rubric", None)),
        ("change the rubric", ("POST", f"{PAGE}/calls/{c}/rubric", {}),
         ("PUT", f"{API}/calls/{c}/rubric", {"criteria": [{"key": "x", "label_en": "", "label_vi": ""}]})),
        ("ranking", ("GET", f"{PAGE}/calls/{c}/applications", None), ("GET", f"{API}/calls/{c}/ranking", None)),
        ("review progress", ("GET", f"{PAGE}/calls/{c}/review-progress", None),
         ("GET", f"{API}/calls/{c}/review-progress", None)),
        ("compare", ("GET", f"{PAGE}/calls/{c}/compare?application_id={a}", None),
         ("GET", f"{API}/calls/{c}/compare?application_id={a}", None)),
        ("bulk", ("POST", f"{PAGE}/calls/{c}/bulk", {"action": "move", "stage": "submitted", "application_id": a}),
         ("POST", f"{API}/calls/{c}/bulk", {"action": "move", "stage": "submitted", "application_ids": [a]})),
        ("letters to send", ("GET", f"{PAGE}/calls/{c}/letters", None), ("GET", f"{API}/calls/{c}/letters", None)),
        ("send letters", ("POST", f"{PAGE}/calls/{c}/letters", {}), ("POST", f"{API}/calls/{c}/letters", None)),
        ("letter templates", ("GET", f"{PAGE}/letters", None), ("GET", f"{API}/letters", None)),
        ("change a letter", ("POST", f"{PAGE}/letters?outcome=rejected&lang=en", {}),
         ("PATCH", f"{API}/letters", {"templates": [{"outcome": "rejected", "locale": "en", "subject": "",
                                                      "body": ""}]})),
        ("preview a letter", ("POST", f"{PAGE}/letters?outcome=accepted&lang=vi",
                              {"action": "preview", "subject": "Kết quả", "body": "Chào **{applicant_name}**"}),
         ("POST", f"{API}/letters/preview", {"outcome": "accepted", "locale": "vi", "subject": "Kết quả",
                                             "body": "Chào **{applicant_name}**"})),
        ("read an application", ("GET", f"{PAGE}/applications/{a}", None), ("GET", f"{API}/applications/{a}", None)),
        ("its reviews", ("GET", f"{PAGE}/applications/{a}", None), ("GET", f"{API}/applications/{a}/reviews", None)),
        ("move an application", ("POST", f"{PAGE}/applications/{a}/move", {"stage": "submitted"}),
         ("POST", f"{API}/applications/{a}/move", {"stage": "submitted"})),
        ("assign a reviewer", ("POST", f"{PAGE}/applications/{a}/assign", {"reviewer_id": intake.reviewers[0].id}),
         ("POST", f"{API}/applications/{a}/assignments", {"reviewer_id": intake.reviewers[0].id})),
        ("assign with a past deadline", ("POST", f"{PAGE}/applications/{a}/assign",
                                         {"reviewer_id": intake.reviewers[1].id, "due_on": "2020-01-01"}),
         ("POST", f"{API}/applications/{a}/assignments", {"reviewer_id": intake.reviewers[1].id,
                                                          "due_on": "2020-01-01"})),
        ("unassign a reviewer", ("POST", f"{PAGE}/applications/{a}/unassign", {"reviewer_id": conflicted}),
         ("DELETE", f"{API}/applications/{a}/assignments/{conflicted_review}", None)),
        ("decide", ("POST", f"{PAGE}/applications/{a}/decide", {"decision": "nope"}),
         ("POST", f"{API}/applications/{a}/decision", {"decision": "nope"})),
        ("score", ("POST", f"{PAGE}/applications/{a}/review", {}),
         ("POST", f"{API}/applications/{a}/reviews", {"scores": {}, "recommendation": "yes"})),
        ("declare a conflict", ("POST", f"{PAGE}/applications/{a}/conflict", {}),
         ("POST", f"{API}/applications/{a}/conflict", {"reason": ""})),
        ("my reviews", ("GET", f"{PAGE}/reviews", None), ("GET", f"{API}/reviews?mine=true", None)),
        ("my applications", ("GET", f"{PAGE}/applications/mine", None), ("GET", f"{API}/applications", None)),
        ("submit someone's application", ("POST", f"{PAGE}/applications/{a}/edit", {"action": "submit"}),
         ("POST", f"{API}/applications/{a}/submit", None)),
        ("apply", ("POST", f"{PAGE}/calls/{c}/apply", {}), ("POST", f"{API}/calls/{c}/applications", {"answers": {}})),
        ("its assignments", None, ("GET", f"{API}/applications/{a}/assignments", None)),
        ("edit someone's application", ("POST", f"{PAGE}/applications/{a}/edit", {"pitch": "Mine now"}),
         ("PATCH", f"{API}/applications/{a}", {"answers": {"pitch": "Mine now"}})),
        ("upload to someone's application", ("POST", f"{PAGE}/applications/{a}/edit", {"deck": _pdf()}),
         ("POST", f"{API}/applications/{a}/files?question=deck", Multipart(file=_pdf()))),
        ("withdraw someone's application", ("POST", f"{PAGE}/applications/{a}/withdraw", {}),
         ("POST", f"{API}/applications/{a}/withdraw", {})),
        # The walker's own draft: a role that does not apply is refused even on an application of its own.
        # The page's form carries every answer, so the draft stays complete and its submission goes through.
        ("edit my application", ("POST", f"{PAGE}/applications/{m}/edit",
                                 {**GOOD_ANSWERS, "pitch": "Sensors for coffee farms"}),
         ("PATCH", f"{API}/applications/{m}", {"answers": {"pitch": "Sensors for rice farms"}})),
        ("upload to my application", ("POST", f"{PAGE}/applications/{m}/edit", {**GOOD_ANSWERS, "deck": _pdf()}),
         ("POST", f"{API}/applications/{m}/files?question=deck", Multipart(file=_pdf()))),
        ("submit my application", ("POST", f"{PAGE}/applications/{m}/edit", {**GOOD_ANSWERS, "action": "submit"}),
         ("POST", f"{API}/applications/{m}/submit", None)),
        ("withdraw my application", ("POST", f"{PAGE}/applications/{m}/withdraw", {"comment": "Not ready"}),
         ("POST", f"{API}/applications/{m}/withdraw", {"comment": "Not ready"})),
    ]


# Operations without a page of their own, and why; the API is still walked for each role.
NO_PAGE = {
    "its assignments": "the assignments are a section of the application page, shown to managers only, and "
                       "reviewers read that page too: its answer is not the rule of the list",
}


APPLICANTS = {**dict.fromkeys(ROLES, "forbidden"), "founder": "allowed", "non-member": "allowed"}

# What each role gets, for the rows where that is not "allowed" for managers and "forbidden" for the rest.
EXPECTED = {
    "list calls": dict.fromkeys(ROLES, "allowed"),
    "read a call": dict.fromkeys(ROLES, "allowed"),
    "my applications": dict.fromkeys(ROLES, "allowed"),
    "read an application": {**dict.fromkeys(ROLES, "hidden"), **dict.fromkeys([*MANAGE, "reviewer"], "allowed")},
    "its reviews": {**dict.fromkeys(ROLES, "hidden"), **dict.fromkeys([*MANAGE, "reviewer"], "allowed")},
    # The application is looked up first (another's row is 404 whatever the role), then the role (403).
    "score": {**dict.fromkeys(ROLES, "hidden"), **dict.fromkeys(MANAGE, "forbidden"), "reviewer": "allowed"},
    "declare a conflict": {**dict.fromkeys(ROLES, "hidden"), **dict.fromkeys(MANAGE, "forbidden"),
                           "reviewer": "allowed"},
    "my reviews": {**dict.fromkeys(ROLES, "forbidden"), "reviewer": "allowed", "non-member": "hidden"},
    "submit someone's application": dict.fromkeys(ROLES, "hidden"),
    "edit someone's application": dict.fromkeys(ROLES, "hidden"),
    "upload to someone's application": dict.fromkeys(ROLES, "hidden"),
    "withdraw someone's application": dict.fromkeys(ROLES, "hidden"),
    "apply": APPLICANTS,
    "edit my application": APPLICANTS,
    "upload to my application": APPLICANTS,
    "submit my application": APPLICANTS,
    "withdraw my application": APPLICANTS,
}

# Pages anyone may read without signing in (the calls open to applications); the API has no anonymous
# caller, so it answers 401 there, as everywhere.
PUBLIC_PAGES = {"list calls", "read a call"}

# A platform admin who is no member of bbi is no one there, as a member of another organisation; someone
# not signed in is sent to sign in (401 on the API) whatever the row.
for _row in EXPECTED.values():
    _row.update(admin=_row["non-member"], anonymous="login")


def _page(client, token, method, path, body):
    if method == "GET":
        return client.get(path)
    return client.post(path, data={"csrf_token": token, **(body or {})})


def _api(client, headers, method, path, body):
    if isinstance(body, Multipart):
        return client.open(path, method=method, headers=headers, data=dict(body), content_type="multipart/form-data")
    return client.open(path, method=method, headers=headers, json=body)


@pytest.mark.parametrize("role", ROLES)
def test_every_intake_operation_answers_alike_through_the_page_and_the_api(role, client, intake, doors,
                                                                           api_headers, sign_in):
    user = _user(role, intake)
    headers = api_headers(user) if user is not None else {}
    if user is not None:
        sign_in(user)
    token = csrf_token(client, f"{PAGE}/applications/mine" if user is not None else "/auth/login")
    mine = application(intake.call, user or UserFactory(), Stage.DRAFT)  # (anonymous: someone's draft)
    for label, page, api in _operations(intake, doors, mine):
        if page is None:
            answer = answer_class(_api(client, headers, *api))
        elif role == "anonymous" and label in PUBLIC_PAGES:
            assert answer_class(_page(client, token, *page)) == "allowed", label
            answer = answer_class(_api(client, headers, *api))
        else:
            answer = assert_same_door(_page(client, token, *page), _api(client, headers, *api), f"{role}: {label}")
        default = "allowed" if role in MANAGE else "hidden" if role in OUTSIDE else "login" if role == "anonymous" \
            else "forbidden"
        assert answer == EXPECTED.get(label, {}).get(role, default), f"{role}: {label}: {answer}"


def test_the_table_walks_every_intake_operation_of_the_document(app, intake, doors):
    """An intake operation added to the API without a row here fails this test; a row without a page
    twin says why."""
    table = _operations(intake, doors, doors)
    walked = {(method, re.sub(r"/\d+", "/{}", path.split("?")[0].removeprefix(API))) for _, _, (method, path, _)
              in table}
    assert walked == documented(app, {"api_intake"}), sorted(documented(app, {"api_intake"}) ^ walked)
    assert {label for label, page, _ in table if page is None} == set(NO_PAGE)


@pytest.mark.parametrize("role", ROLES)
def test_the_application_page_shows_the_assignments_to_whom_the_api_lists_them(role, client, intake, doors,
                                                                              api_headers, sign_in):
    """The assignments have no page of their own (``NO_PAGE``): the application page shows them as a
    section, to the same callers the API lists them to."""
    user = _user(role, intake)
    if user is not None:
        sign_in(user)
    api = client.get(f"{API}/applications/{doors.id}/assignments",
                     headers=api_headers(user) if user is not None else {})
    page = client.get(f"{PAGE}/applications/{doors.id}")
    listed = answer_class(api) == "allowed"
    assert listed == (role in MANAGE), api.status_code
    assert listed == ('data-testid="assignments"' in page.get_data(as_text=True)), page.status_code
