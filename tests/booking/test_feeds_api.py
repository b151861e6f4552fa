"""The calendar feed addresses over the API (#13): a person's and a resource's, the pages' twins.

A new address answers 201 with its absolute .ics URL and revokes the previous one, as on the pages;
the same roles may make one at both doors."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from incubator.accounts.services import create_api_token
from incubator.core.permissions import Permission, Role, role_has
from tests.conftest import csrf_token, login
from tests.doors import assert_same_door
from tests.factories import OrgFactory, member


def _headers(session, user) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_api_token(session, user, 't')[0]}"}


def _path(url: str) -> str:
    parts = urlsplit(url)
    assert parts.scheme == "http" and parts.netloc, url  # external, as the page shows it
    return parts.path


def test_a_new_person_feed_revokes_the_old_one(client, session, world, fablab):
    headers = _headers(session, world.founder)
    first = client.post("/api/v1/orgs/bbi/bookings/feed", headers=headers)
    assert first.status_code == 201, first.get_json()
    old = _path(first.get_json()["url"])
    assert old.startswith("/feeds/bookings/") and old.endswith(".ics")
    assert client.get(old).status_code == 200
    second = client.post("/api/v1/orgs/bbi/bookings/feed", headers=headers)
    assert second.status_code == 201
    new = _path(second.get_json()["url"])
    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_a_new_resource_feed_revokes_the_old_one(client, session, world, fablab):
    headers = _headers(session, world.manager)
    url = f"/api/v1/orgs/bbi/resources/{fablab.laser.id}/feed"
    old = _path(client.post(url, headers=headers).get_json()["url"])
    assert client.get(old).status_code == 200
    answer = client.post(url, headers=headers)
    assert answer.status_code == 201
    assert client.get(old).status_code == 404
    assert client.get(_path(answer.get_json()["url"])).status_code == 200


def test_a_founder_may_not_make_a_resource_feed(client, session, world, fablab):
    answer = client.post(f"/api/v1/orgs/bbi/resources/{fablab.laser.id}/feed", headers=_headers(session, world.founder))
    assert answer.status_code == 403 and answer.get_json()["code"]


def test_another_orgs_resource_or_org_is_404(client, session, world, fablab):
    other = OrgFactory()
    outsider = member(other, Role.MANAGER)
    assert client.post("/api/v1/orgs/bbi/bookings/feed", headers=_headers(session, outsider)).status_code == 404
    assert client.post(f"/api/v1/orgs/bbi/resources/{fablab.laser.id}/feed",
                       headers=_headers(session, outsider)).status_code == 404
    # the resource of bbi asked for through the outsider's own organisation
    assert client.post(f"/api/v1/orgs/{other.slug}/resources/{fablab.laser.id}/feed",
                       headers=_headers(session, outsider)).status_code == 404
    assert client.post("/api/v1/orgs/bbi/resources/999999/feed",
                       headers=_headers(session, world.manager)).status_code == 404


@pytest.mark.parametrize("role", list(Role))
def test_same_door_for_every_role(client, session, world, fablab, role):
    user = member(world.org, role)
    login(client, user.email)
    token = csrf_token(client, "/account")
    headers = _headers(session, user)
    page = client.post("/o/bbi/bookings/feed", data={"csrf_token": token})
    api = client.post("/api/v1/orgs/bbi/bookings/feed", headers=headers)
    assert assert_same_door(page, api, f"{role} person feed") == "allowed"
    page = client.post(f"/o/bbi/resources/{fablab.laser.id}/feed", data={"csrf_token": token})
    api = client.post(f"/api/v1/orgs/bbi/resources/{fablab.laser.id}/feed", headers=headers)
    expected = "allowed" if role_has(role, Permission.MANAGE_RESOURCES) else "forbidden"
    assert assert_same_door(page, api, f"{role} resource feed") == expected


def test_same_door_for_a_stranger(client, session, world, fablab):
    stranger = member(OrgFactory(), Role.MANAGER)
    login(client, stranger.email)
    token = csrf_token(client, "/account")
    headers = _headers(session, stranger)
    for page_url, api_url in (("/o/bbi/bookings/feed", "/api/v1/orgs/bbi/bookings/feed"),
                              (f"/o/bbi/resources/{fablab.laser.id}/feed",
                               f"/api/v1/orgs/bbi/resources/{fablab.laser.id}/feed")):
        page = client.post(page_url, data={"csrf_token": token})
        assert assert_same_door(page, client.post(api_url, headers=headers), page_url) == "hidden"
