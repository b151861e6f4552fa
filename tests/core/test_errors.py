"""Error answers: a database outage, 405 with Allow, and what browsers and proxies may keep."""

from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import make_url

from incubator.accounts.services import create_api_token
from incubator.core.permissions import Role
from tests.conftest import login
from tests.factories import OrgFactory, UserFactory, member


def _dead_urls(tmp_path) -> list[str]:
    urls = [f"sqlite:///{tmp_path}/missing-dir/nope/db.sqlite"]  # SQLite cannot open the file
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured and make_url(configured).get_backend_name() == "postgresql":
        urls.append(make_url(configured).set(database="no_such_database_h6").render_as_string(hide_password=False))
    return urls


@pytest.fixture(params=[0, 1], ids=["sqlite-unopenable", "postgresql-refused"])
def dead_app(request, tmp_path):
    from incubator import create_app

    urls = _dead_urls(tmp_path)
    if request.param >= len(urls):
        pytest.skip("needs TEST_DATABASE_URL on PostgreSQL")
    app = create_app({"DATABASE_URL": urls[request.param]})
    yield app
    app.extensions["db_engine"].dispose()


def _signed_in(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    with client.session_transaction() as cookie:  # a session cookie as a signed-in browser sends it
        cookie["_user_id"] = "1:1"
        cookie["_fresh"] = True
    return client


@pytest.mark.parametrize("path", ["/account", "/o/bbi/", "/"])
def test_a_signed_in_user_gets_a_503_page_while_the_database_is_down(dead_app, path):
    response = _signed_in(dead_app).get(path)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    html = response.get_data(as_text=True)
    assert "Temporarily unavailable" in html and "try again in 30 seconds" in html
    assert response.headers.get("Cache-Control") in (None, "no-store")


def test_the_503_page_is_translated(dead_app):
    client = _signed_in(dead_app)
    html = client.get("/account", headers={"Accept-Language": "vi"}).get_data(as_text=True)
    assert 'lang="vi"' in html and "Tạm thời không phục vụ được" in html


def test_an_anonymous_visitor_gets_a_503_page(dead_app):
    from tests.conftest import csrf_token

    client = dead_app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    for response in (client.get("/calls"),
                     client.post("/auth/login", data={"email": "a@example.org", "password": "x" * 12,
                                                      "csrf_token": csrf_token(client)})):
        # (the sign-in limiter may announce a later time; never an earlier one)
        assert response.status_code == 503 and int(response.headers["Retry-After"]) >= 30
        assert "Temporarily unavailable" in response.get_data(as_text=True)


@pytest.mark.parametrize("signed_in", [False, True])
def test_the_api_answers_503_unavailable(dead_app, signed_in):
    client = _signed_in(dead_app) if signed_in else dead_app.test_client()
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer inc_" + "x" * 40})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    body = response.get_json()
    assert body["code"] == "unavailable" and body["message"] and body["fields"] == {}


def test_healthz_stays_503(dead_app):
    assert dead_app.test_client().get("/healthz").status_code == 503


# -- 405 --------------------------------------------------------------------------------------------

def test_405_on_a_page_says_which_methods_are_allowed(client):
    response = client.delete("/auth/login")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert "Method not allowed" in response.get_data(as_text=True)


def test_405_in_the_api_says_which_methods_are_allowed(client, session):
    user = UserFactory()
    token, _record = create_api_token(session, user, "t")
    response = client.delete("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert response.get_json()["code"] == "method_not_allowed"


# -- caching ----------------------------------------------------------------------------------------

def test_signed_in_pages_and_the_api_are_not_stored(client, session):
    org = OrgFactory(slug="cache-lab")
    owner = member(org, Role.OWNER)
    token, _record = create_api_token(session, owner, "t")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).headers["Cache-Control"] == \
        "no-store"
    assert client.get("/api/v1/nothing-here", headers={"Authorization": f"Bearer {token}"}).headers[
        "Cache-Control"] == "no-store"
    login(client, owner.email)
    for path in ("/account", "/o/cache-lab/", "/o/cache-lab/members"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path


def test_public_pages_and_static_files_keep_their_caching(client):
    assert "no-store" not in client.get("/auth/login").headers.get("Cache-Control", "")
    static = client.get("/static/css/app.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("Cache-Control", "")
    assert "no-store" not in client.get("/api/v1/openapi.json").headers.get("Cache-Control", "")


# -- web addresses ----------------------------------------------------------------------------------

BAD_URLS = ["javascript:alert(3)", "JavaScript:alert(3)", " javascript:alert(3)", "data:text/html,<b>x</b>",
            "http://", "https:// example.org", "ftp://example.org/x", "//example.org/x"]


@pytest.mark.parametrize("bad", BAD_URLS)
def test_a_startup_website_must_be_http_or_https(client, world, session, bad):
    from tests.conftest import csrf_token

    login(client, world.manager.email)
    url = f"/o/bbi/startups/{world.startup.id}/edit"
    response = client.post(url, data={"name": "AgriSense", "stage": "idea", "origin": "independent",
                                      "team_size": "3", "website": bad, "csrf_token": csrf_token(client, url)})
    assert response.status_code == 422
    assert "starts with http:// or https://" in response.get_data(as_text=True)
    session.refresh(world.startup)
    assert world.startup.website != bad.strip()


def test_a_startup_website_over_http_or_https_is_kept(client, world, session):
    from tests.conftest import csrf_token

    login(client, world.manager.email)
    url = f"/o/bbi/startups/{world.startup.id}/edit"
    response = client.post(url, data={"name": "AgriSense", "stage": "idea", "origin": "independent",
                                      "team_size": "3", "website": "https://agrisense.example.org/about",
                                      "csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    session.refresh(world.startup)
    assert world.startup.website == "https://agrisense.example.org/about"


def test_the_service_refuses_a_javascript_website(world, session):
    from incubator.cohorts.services import save_startup
    from incubator.core.errors import DomainError

    with pytest.raises(DomainError) as refused:
        save_startup(session, world.org, world.startup, name="AgriSense", website="javascript:alert(3)")
    assert "website" in refused.value.fields


@pytest.mark.parametrize("bad", ["javascript:alert(3)", "http://"])
def test_milestone_evidence_links_must_be_http_or_https_in_the_api(client, world, session, bad):
    token, _record = create_api_token(session, world.founder, "t")
    response = client.post(f"/api/v1/orgs/bbi/startups/{world.startup.id}/milestones",
                           headers={"Authorization": f"Bearer {token}"},
                           json={"title": "Pilot", "due_on": "2030-01-01", "evidence_url": bad})
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"evidence_url"}


def test_milestone_evidence_links_must_be_http_or_https_on_the_page(client, world, session):
    from tests.cohorts.fixtures import THIS_MONTH
    from tests.conftest import csrf_token
    from tests.factories import milestone

    record = milestone(world.startup, "First paying customer", THIS_MONTH)
    login(client, world.founder.email)
    url = f"/o/bbi/startups/{world.startup.id}"
    client.post(f"/o/bbi/milestones/{record.id}", data={"status": "done", "evidence_url": "javascript:alert(3)",
                                                       "csrf_token": csrf_token(client, url)})
    session.refresh(record)
    assert record.evidence_url is None


# -- Stripe webhooks --------------------------------------------------------------------------------

@pytest.mark.parametrize("ahead,status", [(10 * 60, 400), (6 * 60, 400), (4 * 60, 200), (0, 200)])
def test_stripe_webhooks_signed_in_the_future_are_refused_past_five_minutes(client, session, ahead, status):
    from tests.payments.fixtures import event, signed

    payload = event("customer.created", {"id": "cus_1", "object": "customer"})
    response = client.post("/stripe/webhook", data=payload, headers=signed(payload, timestamp=int(time.time()) + ahead))
    assert response.status_code == status, response.get_json()


# -- Redis down: a job cannot be queued, so the request that would queue one answers 503 and keeps nothing --

@pytest.fixture()
def dead_redis():
    """The job queue on Redis at a loopback port nothing listens on (the no-network guard lets it through,
    so that the connection is refused as by a stopped server); back to the tests' immediate queue after."""
    import socket

    from flask import Flask

    from incubator.core import jobs
    from tests.conftest import ALLOWED_PORTS

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ALLOWED_PORTS.add(port)
    queue = Flask("queue")
    queue.config.update(HUEY_IMMEDIATE=False, REDIS_URL=f"redis://127.0.0.1:{port}/0")
    jobs.init_app(queue)
    try:
        yield port
    finally:
        ALLOWED_PORTS.discard(port)
        jobs.huey.immediate = True


def test_an_invitation_while_redis_is_down_answers_503_and_saves_nothing(client, session, dead_redis):
    from sqlalchemy import select

    from incubator.core import mail
    from incubator.orgs.models import Invitation
    from tests.conftest import csrf_token

    org = OrgFactory()
    manager = member(org, Role.MANAGER)
    login(client, manager.email)
    token = csrf_token(client, f"/o/{org.slug}/members")
    response = client.post(f"/o/{org.slug}/members/invite",
                           data={"email": "new.mentor@example.org", "role": "mentor", "csrf_token": token})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "Temporarily unavailable" in response.get_data(as_text=True)
    session.expire_all()
    assert session.execute(select(Invitation).where(Invitation.org_id == org.id)).first() is None
    assert mail.outbox == []


def test_an_api_post_while_redis_is_down_answers_503_json_and_saves_nothing(client, session, dead_redis):
    from sqlalchemy import select

    from incubator.core import mail
    from incubator.orgs.models import Invitation

    org = OrgFactory()
    manager = member(org, Role.MANAGER)
    token, _record = create_api_token(session, manager, "t")
    session.flush()
    response = client.post(f"/api/v1/orgs/{org.slug}/invitations", headers={"Authorization": f"Bearer {token}"},
                           json={"email": "new.founder@example.org"})
    assert response.status_code == 503, response.get_json()
    assert response.headers["Retry-After"] == "30"
    body = response.get_json()
    assert body["code"] == "unavailable" and body["fields"] == {}
    session.expire_all()
    assert session.execute(select(Invitation).where(Invitation.org_id == org.id)).first() is None
    assert mail.outbox == []


def test_a_webhook_ping_while_redis_is_down_is_kept_for_the_sweep(client, session, dead_redis):
    """Webhook deliveries are an outbox that the sweep sends: they need no queue to be kept."""
    from sqlalchemy import select

    from incubator.webhooks import services as webhooks
    from incubator.webhooks.models import WebhookDelivery

    org = OrgFactory()
    manager = member(org, Role.MANAGER)
    with client.application.app_context():  # the secret is encrypted with the app's key
        subscription, _secret = webhooks.create_subscription(session, org.id, url="https://hooks.example.org/in",
                                                             events=["booking.confirmed"])
    token, _record = create_api_token(session, manager, "t")
    session.flush()
    response = client.post(f"/api/v1/orgs/{org.slug}/webhooks/{subscription.id}/ping",
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in (200, 201, 202), response.get_json()
    session.expire_all()
    delivery = session.execute(select(WebhookDelivery).where(WebhookDelivery.org_id == org.id)).scalar_one()
    assert delivery.delivered_at is None


def test_a_page_that_queues_nothing_works_while_redis_is_down(client, session, dead_redis):
    org = OrgFactory()
    manager = member(org, Role.MANAGER)
    login(client, manager.email)
    assert client.get(f"/o/{org.slug}/members").status_code == 200
