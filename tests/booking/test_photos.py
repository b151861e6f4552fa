"""A resource's photo (#16): checked by type and size on the rules page, with the limit stated before
the upload, and shown as a lazy thumbnail with alt text on the resource list."""

from __future__ import annotations

import io

import pytest

from tests.conftest import csrf_token, login

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
RULES = {"name": "Meeting room", "kind": "room", "slot_minutes": "30", "min_minutes": "30", "max_minutes": "120",
         "buffer_minutes": "0", "min_notice_minutes": "60", "max_days_ahead": "30", "free_cancellation_hours": "24",
         "no_show_minutes": "15", "price_member": "100000", "price_partner": "150000", "price_external": "200000",
         "active": "1", "opens_0": "08:00", "closes_0": "17:00"}


@pytest.mark.usefixtures("any_storage")
def test_a_photo_over_the_limit_is_refused_with_a_form_error_and_nothing_changes(app, client, session, world,
                                                                                 fablab):
    login(client, world.manager.email)
    url = f"/o/bbi/resources/{fablab.room.id}/settings"
    form = client.get(url).get_data(as_text=True)
    assert "At most 20 MB." in form and 'aria-describedby="photo-limit"' in form  # said before the upload
    app.config["MAX_UPLOAD_MB"] = 1  # a photo over the limit, in a request the server still reads
    try:
        big = JPEG + b"\x00" * (1024 * 1024)
        refused = client.post(url, data={**RULES, "name": "Renamed room", "photo": (io.BytesIO(big), "room.jpg"),
                                         "csrf_token": csrf_token(client, url)}, content_type="multipart/form-data")
        assert refused.status_code == 422
        assert 'data-field="photo">The photo is larger than 1 MB.' in refused.get_data(as_text=True)
        session.expire_all()
        assert fablab.room.photo_key is None and fablab.room.name == "Meeting room"  # nothing half-saved
        exact = JPEG + b"\x00" * (1024 * 1024 - len(JPEG))  # the limit itself is fine
        taken = client.post(url, data={**RULES, "photo": (io.BytesIO(exact), "room.jpg"),
                                       "csrf_token": csrf_token(client, url)}, content_type="multipart/form-data")
        assert taken.status_code == 302
    finally:
        app.config["MAX_UPLOAD_MB"] = 20
    # over the request limit (20 MB): the error page says the file is too large, nothing is saved
    huge = client.post(url, data={**RULES, "photo": (io.BytesIO(JPEG + b"\x00" * (20 * 1024 * 1024)), "r.jpg"),
                                  "csrf_token": csrf_token(client, url)}, content_type="multipart/form-data")
    assert huge.status_code == 413 and "File too large" in huge.get_data(as_text=True)

@pytest.mark.usefixtures("any_storage")
def test_the_resource_list_shows_a_lazy_thumbnail_with_alt_text(client, session, world, fablab):
    login(client, world.manager.email)
    url = f"/o/bbi/resources/{fablab.room.id}/settings"
    client.post(url, data={**RULES, "photo": (io.BytesIO(JPEG), "room.jpg"), "csrf_token": csrf_token(client, url)},
                content_type="multipart/form-data")
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/o/bbi/bookings")})
    login(client, world.founder.email)
    html = client.get("/o/bbi/labs").get_data(as_text=True)
    photo = f'src="/o/bbi/resources/{fablab.room.id}/photo" alt="Photo of Meeting room" loading="lazy"'
    assert html.count(photo) == 1 and html.count('class="resource-thumb') == 1  # the others have none
    assert client.get(f"/o/bbi/resources/{fablab.room.id}/photo").data == JPEG
