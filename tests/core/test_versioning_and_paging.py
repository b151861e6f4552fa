"""The shared pieces of the access layer: paginated API lists, ETags, and stale edits."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_smorest.pagination import PaginationParameters
from sqlalchemy import select

from incubator.api.paging import api_page
from incubator.core.pagination import text_filter
from incubator.core.versioning import Stale, check_if_match, check_version, etag_of
from incubator.orgs.models import Organisation
from tests.doors import answer_class
from tests.factories import OrgFactory


class Row:
    def __init__(self, version: int) -> None:
        self.id = 7
        self.version = version


def test_etag_changes_with_the_version_and_if_match_refuses_an_old_one(app: Flask) -> None:
    old, new = Row(1), Row(2)
    assert etag_of(old) != etag_of(new)
    with app.test_request_context(headers={"If-Match": etag_of(old)}):
        check_if_match(old)
        with pytest.raises(Stale) as refused:
            check_if_match(new)
        assert refused.value.status == 412
    with app.test_request_context():  # no header: not checked
        check_if_match(new)
    with app.test_request_context(headers={"If-Match": "*"}):
        check_if_match(new)


@pytest.mark.parametrize("submitted", ["1", "", None, "x", "3"])
def test_a_page_form_from_an_older_version_is_refused(app: Flask, submitted: str | None) -> None:
    with app.test_request_context():
        check_version(Row(2), "2")
        with pytest.raises(Stale):
            check_version(Row(2), submitted)


def test_api_page_counts_the_total_and_slices(app: Flask, session) -> None:
    for n in range(7):
        OrgFactory(slug=f"page-{n}", name=f"Page {n}")
    session.flush()
    stmt = select(Organisation).where(Organisation.slug.like("page-%")).order_by(Organisation.slug)
    with app.test_request_context():
        params = PaginationParameters(page=2, page_size=3)
        items = api_page(stmt, params)
    assert [o.slug for o in items] == ["page-3", "page-4", "page-5"]
    assert params.item_count == 7


def test_text_filter_matches_wildcards_literally(session) -> None:
    OrgFactory(slug="fifty", name="50% Lab")
    OrgFactory(slug="fiftyone", name="50 Labs")
    session.flush()
    found = session.execute(select(Organisation.slug).where(text_filter("50%", Organisation.name))).scalars().all()
    assert found == ["fifty"]
    assert text_filter("   ", Organisation.name) is None


class Response:
    def __init__(self, status: int, location: str = "") -> None:
        self.status_code = status
        self.headers = {"Location": location} if location else {}

    def get_data(self, as_text: bool = False) -> str:
        return "boom"


def test_answer_classes() -> None:
    assert answer_class(Response(302, "/auth/login?next=/o/x")) == "login"
    assert answer_class(Response(302, "/o/x/bookings")) == "allowed"
    assert answer_class(Response(422)) == "allowed"
    assert answer_class(Response(403)) == "forbidden"
    assert answer_class(Response(404)) == "hidden"
    with pytest.raises(AssertionError):
        answer_class(Response(500))


def test_a_page_far_past_the_end_is_empty_not_an_error(client, session):
    from incubator.accounts.services import create_api_token
    from incubator.core.permissions import Role
    from tests.factories import OrgFactory, member

    org = OrgFactory()
    manager = member(org, Role.MANAGER)
    token, _record = create_api_token(session, manager, "t")
    answer = client.get(f"/api/v1/orgs/{org.slug}/members?page={2**62}",
                        headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.get_json() == []


def test_a_list_across_organisations_is_counted_across_them_too(app: Flask, connection, session) -> None:
    """The count query keeps the list's ``all_orgs``: else the total is 0 and the page comes back empty."""
    from incubator.core.pagination import paginate
    from incubator.core.tenancy import set_current_org
    from incubator.extensions import db
    from incubator.orgs.models import Invitation
    from tests.factories import InvitationFactory

    mine, theirs = OrgFactory(), OrgFactory()
    InvitationFactory(org_id=mine.id)
    InvitationFactory(org_id=theirs.id)
    session.flush()
    with app.test_request_context():
        set_current_org(db.session, mine)
        stmt = (select(Invitation).where(Invitation.org_id.in_([mine.id, theirs.id])).order_by(Invitation.id)
                .execution_options(all_orgs=True))
        page = paginate(db.session, stmt, per_page=10, page=1)
        assert (page.total, len(page.items)) == (2, 2)
        scoped = paginate(db.session, stmt.execution_options(all_orgs=False), per_page=10, page=1)
        assert (scoped.total, len(scoped.items)) == (1, 1)


def test_a_stale_api_edit_is_refused_in_the_readers_language(app: Flask) -> None:
    """Both doors say it the same way: the API's 412 follows the caller's language like its other errors."""
    with app.test_request_context(headers={"If-Match": etag_of(Row(1)), "Accept-Language": "vi"}):
        with pytest.raises(Stale) as refused:
            check_if_match(Row(2))
        assert refused.value.message.startswith("Người khác đã thay đổi mục này")
    with app.test_request_context(headers={"If-Match": etag_of(Row(1)), "Accept-Language": "en"}):
        with pytest.raises(Stale) as refused:
            check_if_match(Row(2))
        assert refused.value.message.startswith("Someone else changed this")
