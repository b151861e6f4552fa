"""Two tabs accept the same invitation from the inbox at once (tests/live.py, SQLite and PostgreSQL):
nobody gets a 5xx, the person has one membership, and the invitation is accepted once."""

from __future__ import annotations

from sqlalchemy import select

from incubator.core.permissions import Role
from incubator.orgs.models import Invitation, Membership
from tests.factories import InvitationFactory, OrgFactory, member

CLICKS = 3


def test_clicks_at_once_on_accept_make_one_membership(app, committed, live):
    with committed.data():
        home, inviting = OrgFactory(slug="race-inbox-home"), OrgFactory(slug="race-inbox-join")
        person = member(home, Role.FOUNDER)
        invitation = InvitationFactory(org_id=inviting.id, email=person.email.lower(), role=Role.MENTOR)
        ids = (inviting.id, person.id, invitation.id)
    first = live.sign_in(person.email)
    path = f"/auth/invitations/mine/{ids[2]}"
    token = live.csrf(first, path)
    tabs = [first] + [live.client() for _ in range(CLICKS - 1)]
    for tab in tabs[1:]:
        tab.cookies.update(first.cookies)  # the same signed-in person, in several tabs

    def click(i: int) -> int:
        return tabs[i].post(live.url + path, data={"csrf_token": token}, timeout=60,
                            allow_redirects=False).status_code

    codes = live.race(CLICKS, click)
    assert all(code < 500 for code in codes), codes
    assert 302 in codes, codes
    with committed.read() as s:
        memberships = s.execute(select(Membership).where(Membership.org_id == ids[0],
                                                         Membership.user_id == ids[1])).scalars().all()
        assert [m.role for m in memberships] == [Role.MENTOR]
        assert s.get(Invitation, ids[2]).accepted_at is not None
