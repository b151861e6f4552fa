"""A double (or quadruple) click on "Calendar feed address", over HTTP (tests/live.py): every click
answers its redirect, nobody a 5xx, and exactly one address works afterwards; SQLite and PostgreSQL."""

from __future__ import annotations

import re
from urllib.parse import unquote

from sqlalchemy import select

from incubator.core.feeds import FeedKind, FeedToken
from incubator.core.permissions import Role
from tests.factories import OrgFactory, member

CLICKS = 4


def test_clicks_at_once_leave_exactly_one_working_address(app, committed, live):
    with committed.data():
        org = OrgFactory(slug="race-feeds")
        founder = member(org, Role.FOUNDER)
        ids = (org.id, founder.id)
    first = live.sign_in(founder.email)
    token = live.csrf(first, "/o/race-feeds/bookings/mine")
    tabs = [first] + [live.client() for _ in range(CLICKS - 1)]
    for tab in tabs[1:]:
        tab.cookies.update(first.cookies)  # the same signed-in person, in several tabs

    def click(i: int):
        answer = tabs[i].post(live.url + "/o/race-feeds/bookings/feed", data={"csrf_token": token},
                              timeout=60, allow_redirects=False)
        found = re.search(r"feed=([^&]+)", answer.headers.get("Location", ""))
        return answer.status_code, re.sub(r"^https?://[^/]+", "", unquote(found.group(1))) if found else None

    outcomes = live.race(CLICKS, click)
    assert [code for code, _path in outcomes] == [302] * CLICKS, outcomes
    paths = {path for _code, path in outcomes}
    assert len(paths) == CLICKS and None not in paths
    served = sorted(live.client().get(live.url + path, timeout=60).status_code for path in paths)
    assert served == [200] + [404] * (CLICKS - 1)
    with committed.read() as s:
        rows = s.execute(select(FeedToken).where(FeedToken.org_id == ids[0], FeedToken.kind == FeedKind.BOOKINGS,
                                                 FeedToken.owner_id == ids[1])).scalars().all()
        assert len(rows) == CLICKS and sum(r.revoked_at is None for r in rows) == 1


def test_page_clicks_and_api_calls_at_once_leave_exactly_one_working_address(app, committed, live):
    """The other door (#13): two page clicks and two API calls at the same moment."""
    with committed.data():
        org = OrgFactory(slug="race-feeds-api")
        founder = member(org, Role.FOUNDER)
        ids = (org.id, founder.id)
    tokens = [committed.token(founder) for _ in range(2)]
    first = live.sign_in(founder.email)
    csrf = live.csrf(first, "/o/race-feeds-api/bookings/mine")
    second = live.client()
    second.cookies.update(first.cookies)
    tabs = [first, second]

    def go(i: int):
        if i < 2:
            answer = tabs[i].post(live.url + "/o/race-feeds-api/bookings/feed", data={"csrf_token": csrf},
                                  timeout=60, allow_redirects=False)
            found = re.search(r"feed=([^&]+)", answer.headers.get("Location", ""))
            return answer.status_code, unquote(found.group(1)) if found else None
        answer = live.api("POST", "/api/v1/orgs/race-feeds-api/bookings/feed", tokens[i - 2])
        return answer.status_code, answer.json().get("url") if answer.status_code == 201 else None

    outcomes = live.race(4, go)
    assert [code for code, _url in outcomes] == [302, 302, 201, 201], outcomes
    paths = {re.sub(r"^https?://[^/]+", "", url) for _code, url in outcomes if url}
    assert len(paths) == 4
    served = sorted(live.client().get(live.url + path, timeout=60).status_code for path in paths)
    assert served == [200, 404, 404, 404]
    with committed.read() as s:
        rows = s.execute(select(FeedToken).where(FeedToken.org_id == ids[0], FeedToken.kind == FeedKind.BOOKINGS,
                                                 FeedToken.owner_id == ids[1])).scalars().all()
        assert len(rows) == 4 and sum(r.revoked_at is None for r in rows) == 1
