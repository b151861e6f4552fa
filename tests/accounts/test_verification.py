"""Verified accounts: registration answers alike for new and taken addresses, an unverified account
sees only the verify page (the API answers 403), and the mailed link verifies once."""

from __future__ import annotations

import re
import time
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from argon2 import PasswordHasher
from itsdangerous import TimestampSigner
from sqlalchemy import select

from incubator.accounts import services
from incubator.accounts.models import User
from incubator.cli import alembic_config
from incubator.core import mail
from incubator.core.db import make_engine
from tests.conftest import csrf_token, login
from tests.core.test_feed_migration import insert
from tests.factories import PASSWORD, UserFactory

NEW = {"name": "Nguyễn Văn An", "email": "an@example.org", "password": "a long enough passphrase",
       "confirm": "a long enough passphrase"}


def _register(client, url="/auth/register", lang="en", **data):
    form = {**NEW, **data, "csrf_token": csrf_token(client, url)}
    return client.post(url, data=form, headers={"Accept-Language": lang})


def _verify_link(to="an@example.org") -> str:
    sent = [m for m in mail.outbox if m.to == [to]]
    assert sent, "no mail sent"
    match = re.search(r"http://localhost(/auth/verify/\S+)", sent[-1].body)
    assert match, sent[-1].body
    return match.group(1)


def _user(session, email="an@example.org") -> User | None:
    session.expire_all()
    return session.execute(select(User).where(User.email == email)).scalar_one_or_none()


def _confirm(client, link):
    return client.post(link, data={"csrf_token": csrf_token(client, link)})


def test_registering_makes_an_unverified_account_and_mails_a_link_that_verifies_and_signs_in(client, session):
    response = _register(client)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/auth/login")
    user = _user(session)
    assert user is not None and user.email_verified_at is None
    assert user.password_hash.startswith("$argon2id$")
    assert client.get("/account").status_code == 302  # not signed in by registering
    assert mail.outbox[-1].subject == "Confirm your email address for Incubator"
    assert "24 hours" in mail.outbox[-1].body
    link = _verify_link()
    page = client.get(link)  # a mail scanner opening the link changes nothing
    assert page.status_code == 200 and "an@example.org" in page.get_data(as_text=True)
    assert _user(session).email_verified_at is None
    response = _confirm(client, link)
    assert response.status_code == 302
    assert _user(session).email_verified_at is not None
    assert client.get("/account").status_code == 200  # signed in by the link


def test_an_unverified_account_sees_only_the_verify_page(client, session):
    _register(client)
    assert login(client, "an@example.org", NEW["password"]).status_code == 302
    for url in ("/account", "/account/tokens", "/", "/auth/invitations/mine", "/admin/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].endswith("/auth/verify"), url
    page = client.get("/auth/verify", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "We sent a link to an@example.org" in html
    assert 'action="/auth/verify/resend"' in html and 'action="/auth/logout"' in html
    # Still allowed: the probes, the language switch, signing out.
    assert client.get("/healthz").status_code == 200
    token = csrf_token(client, "/auth/verify")
    assert client.post("/language", data={"locale": "vi", "csrf_token": token}).status_code == 302
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/auth/verify").headers["Location"].startswith("/auth/login")


def test_a_verified_account_is_not_sent_to_the_verify_page(client, session):
    user = UserFactory()
    login(client, user.email)
    assert client.get("/account").status_code == 200
    assert client.get("/auth/verify").status_code == 302


def test_the_api_refuses_an_unverified_accounts_token(client, session):
    user = UserFactory(email_verified_at=None)
    token, _record = services.create_api_token(session, user, "script")
    session.commit()
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.get_json()["code"] == "email_unverified"
    user.email_verified_at = services.utcnow()
    session.commit()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_the_link_works_once(client, session):
    _register(client)
    link = _verify_link()
    assert _confirm(client, link).status_code == 302
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
    again = client.get(link, headers={"Accept-Language": "en"})
    assert again.status_code == 400
    assert "This link was already used." in again.get_data(as_text=True)
    assert client.get("/account").status_code == 302  # and it signs no one in


def test_an_expired_link_is_refused_with_a_page_offering_a_new_one(client, session, monkeypatch):
    day = 24 * 3600
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - day - 5)
    _register(client)
    monkeypatch.undo()
    link = _verify_link()
    response = client.get(link, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "This link has expired." in response.get_data(as_text=True)
    assert _user(session).email_verified_at is None
    # Signed in, the same page offers to send it again; a fresh link works.
    login(client, "an@example.org", NEW["password"])
    page = client.get(link, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'action="/auth/verify/resend"' in page
    mail.outbox.clear()
    assert client.post("/auth/verify/resend", data={"csrf_token": csrf_token(client, "/auth/verify")}
                       ).status_code == 302
    assert _confirm(client, _verify_link()).status_code == 302
    assert _user(session).email_verified_at is not None


def test_a_link_just_inside_its_day_still_works(client, session, monkeypatch):
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 24 * 3600 + 60)
    _register(client)
    monkeypatch.undo()
    assert _confirm(client, _verify_link()).status_code == 302
    assert _user(session).email_verified_at is not None


def test_a_tampered_link_is_refused_with_a_page(client, session):
    _register(client)
    link = _verify_link()
    for bad in (link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb"), "/auth/verify/not-a-token"):
        response = client.get(bad, headers={"Accept-Language": "en"})
        assert response.status_code == 400
        assert "This link is not valid." in response.get_data(as_text=True)
        assert client.post(bad, data={"csrf_token": csrf_token(client, "/auth/login")}).status_code == 400
    assert _user(session).email_verified_at is None


def test_a_link_for_another_account_signs_in_its_owner_only(client, session):
    other = UserFactory()
    _register(client)
    link = _verify_link()
    login(client, other.email)
    _confirm(client, link)
    with client.session_transaction() as s:
        assert s["_user_id"].startswith(f"{_user(session).id}:")


def test_resending_is_limited_to_three_an_hour(client, session):
    _register(client)
    login(client, "an@example.org", NEW["password"])
    token = csrf_token(client, "/auth/verify")
    mail.outbox.clear()
    for _ in range(3):
        assert client.post("/auth/verify/resend", data={"csrf_token": token}).status_code == 302
    assert len(mail.outbox) == 3
    assert client.post("/auth/verify/resend", data={"csrf_token": token}).status_code == 429
    assert len(mail.outbox) == 3


def test_registering_a_taken_address_answers_the_same_and_tells_its_owner(client, session):
    owner = UserFactory(email="an@example.org", name="Chủ tài khoản", locale="vi")
    before = (owner.password_hash, owner.name, owner.session_version)
    taken = _register(client, email="AN@example.org")
    mail_to_owner = mail.outbox[-1]
    mail.outbox.clear()
    client.get("/auth/login")  # read the flash
    fresh = _register(client, email="someone.new@example.org")
    assert (taken.status_code, taken.headers["Location"]) == (fresh.status_code, fresh.headers["Location"])
    assert len(session.execute(select(User).where(User.email == "an@example.org")).all()) == 1
    session.expire_all()
    assert (owner.password_hash, owner.name, owner.session_version) == before
    assert owner.email_verified_at is not None
    assert mail_to_owner.to == ["an@example.org"]
    assert mail_to_owner.subject == "Có người đã thử đăng ký bằng địa chỉ của bạn"  # the owner's language
    assert "/auth/login" in mail_to_owner.body and "/auth/forgot" in mail_to_owner.body
    assert "/auth/verify/" not in mail_to_owner.body


def test_both_registration_answers_show_the_same_page(client, session):
    UserFactory(email="an@example.org")
    pages = []
    for email in ("an@example.org", "new@example.org"):
        response = _register(client, email=email)
        page = client.get(response.headers["Location"], headers={"Accept-Language": "en"}).get_data(as_text=True)
        pages.append(page.replace(email, "EMAIL"))
    assert "Check your mail: we sent a link to EMAIL" in pages[0]
    strip = re.compile(r'name="csrf_token" type="hidden" value="[^"]+"')
    assert strip.sub("", pages[0]) == strip.sub("", pages[1])


def test_both_registration_paths_hash_the_password(app, client, session, monkeypatch):
    UserFactory(email="an@example.org")
    hashed = []
    real = PasswordHasher.hash
    monkeypatch.setattr(PasswordHasher, "hash", lambda self, password, **kw: hashed.append(password) or real(
        self, password, **kw))
    _register(client, email="an@example.org")
    _register(client, email="new@example.org")
    assert hashed == [NEW["password"], NEW["password"]]


def test_registration_still_refuses_a_short_password_on_either_path(client, session):
    UserFactory(email="an@example.org")
    for email in ("an@example.org", "new@example.org"):
        response = _register(client, email=email, password="short", confirm="short")
        assert response.status_code == 200
        assert re.search(r'data-field="password">[^<]*12', response.get_data(as_text=True))
    assert _user(session, "new@example.org") is None
    assert mail.outbox == []


def test_the_verify_mail_is_in_the_registrants_language(client, session):
    with client.session_transaction() as s:
        s["locale"] = "vi"
    _register(client, lang="vi")
    assert mail.outbox[-1].subject == "Xác nhận địa chỉ email của bạn cho Incubator"
    assert "24 giờ" in mail.outbox[-1].body


def test_forgot_password_answers_alike_for_known_and_unknown_addresses(client, session):
    user = UserFactory()
    answers = []
    for email in (user.email, "nobody@example.org"):
        response = client.post("/auth/forgot", data={"email": email, "csrf_token": csrf_token(client, "/auth/forgot")})
        page = client.get(response.headers["Location"], headers={"Accept-Language": "en"}).get_data(as_text=True)
        answers.append((response.status_code, response.headers["Location"],
                        "If an account exists for this address" in page))
    assert answers[0] == answers[1] == (302, "/auth/login", True)
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert "reset the password" in mail.outbox[0].body


def test_resetting_the_password_by_the_mailed_link_verifies_the_address(client, session):
    _register(client)
    client.post("/auth/forgot", data={"email": "an@example.org", "csrf_token": csrf_token(client, "/auth/forgot")})
    link = re.search(r"http://localhost(/auth/reset/\S+)", mail.outbox[-1].body).group(1)
    new = "a brand new passphrase"
    client.post(link, data={"password": new, "confirm": new, "csrf_token": csrf_token(client, link)})
    assert _user(session).email_verified_at is not None
    assert login(client, "an@example.org", new).status_code == 302
    assert client.get("/account").status_code == 200


def test_signing_in_unverified_then_following_the_link_opens_the_account(client, session):
    _register(client)
    login(client, "an@example.org", NEW["password"])
    assert client.get("/account").headers["Location"].endswith("/auth/verify")
    _confirm(client, _verify_link())
    assert client.get("/account").status_code == 200


def test_registering_on_the_way_somewhere_goes_there_once_verified(client, session):
    _register(client, url="/auth/register?next=/account/tokens")
    response = _confirm(client, _verify_link())
    assert response.headers["Location"] == "/account/tokens"


def test_a_user_made_by_create_admin_is_verified(app, session):
    result = app.test_cli_runner().invoke(args=["create-admin", "boss@example.org", "--password", PASSWORD * 2])
    assert result.exit_code == 0, result.output
    assert _user(session, "boss@example.org").email_verified_at is not None


def test_demo_accounts_are_verified_and_reseeding_verifies_older_ones(app, client, session):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    session.expire_all()
    people = session.execute(select(User).where(User.is_service.is_(False))).scalars().all()
    assert people and all(u.email_verified_at is not None for u in people)
    founder = next(u for u in people if u.email == "founder@bbi.example.com")
    founder.email_verified_at = None  # a demo seeded before addresses were verified
    session.commit()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert _user(session, "founder@bbi.example.com").email_verified_at is not None
    assert login(client, "manager@bbi.example.com", app.config["DEMO_PASSWORD"]).headers["Location"] == "/o/bbi/"
    assert client.get("/o/bbi/").status_code == 200


def test_the_migration_verifies_every_existing_account_and_goes_back(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'verified.db'}"
    config = alembic_config(url)
    before = ScriptDirectory.from_config(config).get_revision("0023a").down_revision
    assert before == "0022a"
    command.upgrade(config, before)
    engine = make_engine(url)
    with engine.begin() as conn:
        insert(conn, "users", email="old@example.org", name="Old", password_hash="x", is_admin=False, active=True,
               session_version=1, is_service=False, created_at=datetime(2025, 3, 1), updated_at=datetime(2025, 3, 1))
    engine.dispose()

    command.upgrade(config, "head")
    engine = make_engine(url)
    with engine.connect() as conn:
        verified = conn.execute(sa.text("SELECT email_verified_at FROM users")).scalar_one()
        assert verified is not None and str(verified).startswith("2025-03-01")
    engine.dispose()

    command.downgrade(config, before)
    engine = make_engine(url)
    with engine.connect() as conn:
        assert "email_verified_at" not in {c["name"] for c in sa.inspect(conn).get_columns("users")}
        assert conn.execute(sa.text("SELECT email FROM users")).scalar_one() == "old@example.org"
    engine.dispose()


def test_two_registrations_of_one_address_at_once_answer_alike_without_an_error(client, session, monkeypatch):
    UserFactory(email="an@example.org")
    # The other request's account is written after this one looked the address up.
    monkeypatch.setattr(services, "get_user_by_email", lambda *_args: None)
    response = _register(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/login")
    assert len(session.execute(select(User).where(User.email == "an@example.org")).all()) == 1
    assert mail.outbox == []
