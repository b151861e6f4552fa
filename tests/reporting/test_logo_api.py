"""The report logo over the API (#13): PUT and GET /reports/logo, twins of the settings page's upload
and of /o/<org>/reports/logo, with the same checks (a PNG or JPEG by content, at most 1 MB)."""

from __future__ import annotations

import io

import pytest

from incubator.accounts.services import create_api_token
from incubator.core.permissions import Permission, Role, role_has
from incubator.reporting.services import branding
from tests.conftest import csrf_token, login
from tests.doors import assert_same_door
from tests.factories import OrgFactory, member


def _headers(session, user) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_api_token(session, user, 't')[0]}"}


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (60, 20), "#1a7f37").save(out, format="PNG")
    return out.getvalue()


def _put(client, org, headers, data: bytes, name: str = "logo.png"):
    return client.put(f"/api/v1/orgs/{org.slug}/reports/logo", data={"logo": (io.BytesIO(data), name)},
                      headers=headers, content_type="multipart/form-data")


@pytest.mark.usefixtures("any_storage")  # a local folder, then an S3 bucket
def test_put_saves_the_logo_and_get_serves_it(client, session):
    org = OrgFactory()
    headers = _headers(session, member(org, Role.MANAGER))
    assert client.get(f"/api/v1/orgs/{org.slug}/reports/logo", headers=headers).status_code == 404
    saved = _put(client, org, headers, _png())
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["url"].endswith(f"/api/v1/orgs/{org.slug}/reports/logo")
    served = client.get(f"/api/v1/orgs/{org.slug}/reports/logo", headers=headers)
    assert served.status_code == 200 and served.mimetype == "image/png" and served.get_data() == _png()
    first_key = branding(session, org).logo_key
    assert _put(client, org, headers, _png()).status_code == 200
    assert branding(session, org).logo_key != first_key  # replaced


def test_bad_files_are_422_naming_the_field_and_keep_the_old_logo(client, session):
    org = OrgFactory()
    headers = _headers(session, member(org, Role.MANAGER))
    assert _put(client, org, headers, _png()).status_code == 200
    key = branding(session, org).logo_key
    too_big = _png() + b"\0" * (1024 * 1024 + 1)
    for data in (b"not an image", b"", too_big):
        answer = _put(client, org, headers, data)
        assert answer.status_code == 422, answer.get_json()
        assert "logo" in answer.get_json()["fields"]
    missing = client.put(f"/api/v1/orgs/{org.slug}/reports/logo", data={}, headers=headers,
                         content_type="multipart/form-data")
    assert missing.status_code == 422 and "logo" in missing.get_json()["fields"]
    assert branding(session, org).logo_key == key


def test_another_org_is_404(client, session):
    org, other = OrgFactory(), OrgFactory()
    outsider = member(other, Role.OWNER)
    assert _put(client, org, _headers(session, outsider), _png()).status_code == 404
    assert client.get(f"/api/v1/orgs/{org.slug}/reports/logo", headers=_headers(session, outsider)).status_code == 404
    assert branding(session, org) is None


@pytest.mark.parametrize("role", list(Role))
def test_same_door_for_every_role(client, session, role):
    org = OrgFactory()
    user = member(org, role)
    login(client, user.email)
    headers = _headers(session, user)
    page = client.post(f"/o/{org.slug}/reports/logo",
                       data={"csrf_token": csrf_token(client, "/account"), "logo": (io.BytesIO(_png()), "l.png")})
    api = _put(client, org, headers, _png())
    expected = "allowed" if role_has(role, Permission.MANAGE_ORG) else "forbidden"
    assert assert_same_door(page, api, f"{role} upload") == expected
    if expected == "forbidden":
        _put(client, org, _headers(session, member(org, Role.MANAGER)), _png())  # a logo to look at
    page = client.get(f"/o/{org.slug}/reports/logo")
    api = client.get(f"/api/v1/orgs/{org.slug}/reports/logo", headers=headers)
    # Every member sees the logo: it heads the organisation's pages as well as its reports.
    expected = "allowed" if role_has(role, Permission.VIEW_DASHBOARD) else "forbidden"
    assert assert_same_door(page, api, f"{role} logo") == expected == "allowed"
