"""A resource's photo over the API: ``PUT`` and ``DELETE /resources/<id>/photo`` for those who run the
labs, with the rules page's checks through the same service (a PNG or JPEG by content, at most
``MAX_UPLOAD_MB``; a request over ``MAX_CONTENT_LENGTH`` is 413), and ``photo_url`` in the resource's JSON,
where the API serves it."""

from __future__ import annotations

import io

import pytest

from incubator.booking.models import Resource
from incubator.core.permissions import Permission, Role, role_has
from incubator.core.storage import storage
from tests.conftest import csrf_token, login
from tests.doors import assert_same_door
from tests.factories import OrgFactory, member

API = "/api/v1/orgs/bbi"


def _png(colour: str = "#1a7f37") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, format="PNG")
    return out.getvalue()


def _put(client, resource_id: int, headers, data: bytes, name: str = "room.png"):
    return client.put(f"{API}/resources/{resource_id}/photo", data={"photo": (io.BytesIO(data), name)},
                      headers=headers, content_type="multipart/form-data")


def _stored(app, key: str | None) -> bool:
    with app.app_context():
        return bool(key) and storage().exists(key)


def _key(session, resource) -> str | None:
    session.expire_all()
    return session.get(Resource, resource.id).photo_key


@pytest.mark.usefixtures("any_storage")  # a local folder, then an S3 bucket
def test_a_manager_uploads_replaces_and_removes_the_photo_and_the_json_says_where_it_is(
        app, client, session, world, fablab, api_headers):
    headers = api_headers(world.manager)
    room = fablab.room
    assert client.get(f"{API}/resources/{room.id}", headers=headers).get_json()["photo_url"] is None
    saved = _put(client, room.id, headers, _png())
    assert saved.status_code == 200, saved.get_json()
    url = saved.get_json()["photo_url"]
    assert url.endswith(f"{API}/resources/{room.id}/photo") and saved.headers["ETag"]
    served = client.get(url, headers=headers)
    assert served.status_code == 200 and served.mimetype == "image/png" and served.get_data() == _png()
    listed = {r["id"]: r["photo_url"] for r in client.get(f"{API}/resources", headers=headers).get_json()}
    assert listed[room.id] == url and listed[fablab.printer.id] is None
    first = _key(session, room)
    assert _stored(app, first)

    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 64
    assert _put(client, room.id, headers, jpeg, "room.jpg").status_code == 200
    second = _key(session, room)
    assert second != first and not _stored(app, first)  # replaced, the old file gone
    assert client.get(url, headers=headers).mimetype == "image/jpeg"

    removed = client.delete(f"{API}/resources/{room.id}/photo", headers=headers)
    assert removed.status_code == 204 and _key(session, room) is None and not _stored(app, second)
    assert client.get(url, headers=headers).status_code == 404
    assert client.get(f"{API}/resources/{room.id}", headers=headers).get_json()["photo_url"] is None
    assert client.delete(f"{API}/resources/{room.id}/photo", headers=headers).status_code == 204  # none: fine


BAD = {
    "a text file named .png": (b"just some words, not an image", "room.png"),
    "an empty file": (b"", "room.png"),
    "a PDF": (b"%PDF-1.4\n%%EOF\n", "room.jpg"),
}


@pytest.mark.parametrize("what", list(BAD))
def test_a_file_that_is_no_image_is_422_naming_the_photo_and_keeps_the_old_one(client, session, world, fablab,
                                                                               api_headers, what):
    headers = api_headers(world.manager)
    assert _put(client, fablab.room.id, headers, _png()).status_code == 200
    key = _key(session, fablab.room)
    data, name = BAD[what]
    answer = _put(client, fablab.room.id, headers, data, name)
    assert answer.status_code == 422 and set(answer.get_json()["fields"]) == {"photo"}, answer.get_json()
    assert answer.get_json()["fields"]["photo"] == "Upload a PNG or JPEG image."
    assert _key(session, fablab.room) == key


def test_no_file_is_422_naming_the_photo(client, session, world, fablab, api_headers):
    headers = api_headers(world.manager)
    for data in ({}, {"other": (io.BytesIO(_png()), "room.png")}):
        answer = client.put(f"{API}/resources/{fablab.room.id}/photo", data=data, headers=headers,
                            content_type="multipart/form-data")
        assert answer.status_code == 422 and "photo" in answer.get_json()["fields"], answer.get_json()
    json_body = client.put(f"{API}/resources/{fablab.room.id}/photo", json={"photo": "x"}, headers=headers)
    assert json_body.status_code == 422 and "photo" in json_body.get_json()["fields"]
    assert _key(session, fablab.room) is None


def test_a_photo_over_the_limits_is_422_or_413_and_nothing_is_saved(app, client, session, world, fablab,
                                                                     api_headers, monkeypatch):
    headers = api_headers(world.manager)
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 32
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)  # over the photo's limit, in a request still read
    over = _put(client, fablab.room.id, headers, jpeg + b"\x00" * (1024 * 1024), "room.jpg")
    assert over.status_code == 422 and over.get_json()["fields"]["photo"] == "The photo is larger than 1 MB."
    exact = _put(client, fablab.printer.id, headers, jpeg + b"\x00" * (1024 * 1024 - len(jpeg)), "p.jpg")
    assert exact.status_code == 200  # the limit itself is fine
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)  # over the request's limit: never read
    huge = _put(client, fablab.room.id, headers, jpeg + b"\x00" * 8192, "room.jpg")
    assert huge.status_code == 413 and huge.get_json()["code"] == "payload_too_large", huge.get_data(as_text=True)
    assert _key(session, fablab.room) is None


@pytest.mark.parametrize("role", list(Role))
def test_only_those_who_run_the_labs_change_the_photo_and_every_member_sees_it(client, session, world, fablab,
                                                                               api_headers, role):
    user = member(world.org, role)
    headers = api_headers(user)
    allowed = role_has(role, Permission.MANAGE_RESOURCES)
    put = _put(client, fablab.room.id, headers, _png())
    assert put.status_code == (200 if allowed else 403), put.get_json()
    assert (_key(session, fablab.room) is not None) == allowed
    if not allowed:
        _put(client, fablab.room.id, api_headers(world.manager), _png())  # a photo to look at
    assert client.get(f"{API}/resources/{fablab.room.id}/photo", headers=headers).get_data() == _png()
    key = _key(session, fablab.room)
    removed = client.delete(f"{API}/resources/{fablab.room.id}/photo", headers=headers)
    assert removed.status_code == (204 if allowed else 403)
    assert _key(session, fablab.room) == (None if allowed else key)


def test_another_organisation_and_nobody_signed_in_change_nothing(client, session, world, fablab, api_headers):
    outsider = api_headers(member(OrgFactory(slug="elsewhere"), Role.OWNER))
    for headers, status in ((outsider, 404), ({}, 401)):
        assert _put(client, fablab.room.id, headers, _png()).status_code == status
        assert client.delete(f"{API}/resources/{fablab.room.id}/photo", headers=headers).status_code == status
    assert _key(session, fablab.room) is None


@pytest.mark.parametrize("role", [Role.MANAGER, Role.FOUNDER])
def test_the_rules_page_removes_the_photo_as_the_api_does(client, session, world, fablab, api_headers, role):
    room = fablab.room
    _put(client, room.id, api_headers(world.manager), _png())
    user = world.manager if role == Role.MANAGER else world.founder
    login(client, user.email)
    url = f"/o/bbi/resources/{room.id}/photo/remove"
    page = client.post(url, data={"csrf_token": csrf_token(client, "/account")})
    api = client.delete(f"{API}/resources/{room.id}/photo", headers=api_headers(user))
    expected = "allowed" if role == Role.MANAGER else "forbidden"
    assert assert_same_door(page, api, str(role)) == expected
    assert (_key(session, room) is None) == (role == Role.MANAGER)
    if role == Role.MANAGER:
        settings = client.get(f"/o/bbi/resources/{room.id}/settings").get_data(as_text=True)
        assert 'data-testid="remove-photo"' not in settings  # no photo, no button
        _put(client, room.id, api_headers(world.manager), _png())
        settings = client.get(f"/o/bbi/resources/{room.id}/settings").get_data(as_text=True)
        assert 'data-testid="remove-photo"' in settings and f'formaction="{url}"' in settings
        assert client.post(url, data={}).status_code == 400  # no CSRF token: nothing removed
        assert _key(session, room) is not None
