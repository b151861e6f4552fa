"""The mentor's calendar feed address over the API (#13), the twin of POST /o/<org>/mentor-profile/feed.

201 with the absolute .ics URL; a new address revokes the old one; a mentor without a profile here
gets 404 at both doors, a role that mentors nobody 403."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from incubator.accounts.services import create_api_token
from incubator.core.permissions import Permission, Role, role_has
from incubator.mentoring.models import MentorProfile
from tests.conftest import csrf_token, login
from tests.doors import assert_same_door
from tests.factories import OrgFactory, member

API = "/api/v1/orgs/{org}/mentor-profile/feed"


def _headers(session, user) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_api_token(session, user, 't')[0]}"}


def _profile(session, org, user) -> MentorProfile:
    profile = MentorProfile(org_id=org.id, user=user, expertise=["finance"], industries=[], stages=[],
                            languages=["vi"], capacity=1, timezone="Asia/Ho_Chi_Minh")
    session.add(profile)
    session.flush()
    return profile


def test_a_new_address_revokes_the_old_one(client, session, mentors):
    headers = _headers(session, mentors.ha.user)
    first = client.post(API.format(org="bbi"), headers=headers)
    assert first.status_code == 201, first.get_json()
    url = urlsplit(first.get_json()["url"])
    assert url.scheme == "http" and url.netloc and url.path.startswith("/feeds/mentors/")
    assert client.get(url.path).status_code == 200
    second = client.post(API.format(org="bbi"), headers=headers)
    assert second.status_code == 201
    assert client.get(url.path).status_code == 404
    assert client.get(urlsplit(second.get_json()["url"]).path).status_code == 200


def test_no_profile_is_404_and_a_founder_403(client, session, world, mentors):
    bare_mentor = member(world.org, Role.MENTOR)
    answer = client.post(API.format(org="bbi"), headers=_headers(session, bare_mentor))
    assert answer.status_code == 404 and answer.get_json()["code"]
    answer = client.post(API.format(org="bbi"), headers=_headers(session, world.founder))
    assert answer.status_code == 403 and answer.get_json()["code"]


def test_another_org_is_404(client, session, mentors):
    other = OrgFactory()
    outsider = member(other, Role.MENTOR)
    _profile(session, other, outsider)
    assert client.post(API.format(org="bbi"), headers=_headers(session, outsider)).status_code == 404
    # bbi's mentor asks through the other organisation, where she is no member
    assert client.post(API.format(org=other.slug), headers=_headers(session, mentors.ha.user)).status_code == 404
    assert client.post(API.format(org=other.slug), headers=_headers(session, outsider)).status_code == 201


@pytest.mark.parametrize("role", list(Role))
def test_same_door_for_every_role(client, session, world, role):
    user = member(world.org, role)
    _profile(session, world.org, user)
    login(client, user.email)
    page = client.post("/o/bbi/mentor-profile/feed", data={"csrf_token": csrf_token(client, "/account")})
    api = client.post(API.format(org="bbi"), headers=_headers(session, user))
    expected = "allowed" if role_has(role, Permission.MENTOR_STARTUPS) else "forbidden"
    assert assert_same_door(page, api, str(role)) == expected


def test_same_door_without_a_profile_and_for_a_stranger(client, session, world):
    for user, org_slug in ((member(world.org, Role.MENTOR), "bbi"), (member(OrgFactory(), Role.MENTOR), "bbi")):
        login(client, user.email)
        page = client.post(f"/o/{org_slug}/mentor-profile/feed", data={"csrf_token": csrf_token(client, "/account")})
        api = client.post(API.format(org=org_slug), headers=_headers(session, user))
        assert assert_same_door(page, api, user.email) == "hidden"
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
