from __future__ import annotations

import re

from sqlalchemy import select

from incubator.accounts.models import User
from incubator.core import mail
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, UserFactory


def _register(client, **data):
    token = csrf_token(client, "/auth/register")
    form = {"name": "Nguyễn Văn An", "email": "an@example.org", "password": "a long enough passphrase",
            "confirm": "a long enough passphrase", "csrf_token": token}
    form.update(data)
    return client.post("/auth/register", data=form, headers={"Accept-Language": "en"})


def test_register_creates_an_argon2id_account_and_signs_in(client, session):
    response = _register(client)
    assert response.status_code == 302
    user = session.execute(select(User).where(User.email == "an@example.org")).scalar_one()
    assert user.password_hash.startswith("$argon2id$")
    assert "a long enough passphrase" not in user.password_hash
    assert client.get("/account").status_code == 200


def test_register_refuses_a_short_password_next_to_the_field(client, session):
    response = _register(client, password="short", confirm="short")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r'data-field="password">[^<]*12', html)
    assert session.execute(select(User).where(User.email == "an@example.org")).first() is None


def test_register_refuses_a_taken_email(client, session):
    UserFactory(email="an@example.org")
    response = _register(client, email="AN@example.org")
    assert "already exists" in response.get_data(as_text=True)
    assert len(session.execute(select(User).where(User.email == "an@example.org")).all()) == 1


def test_login_with_the_right_password(client, session):
    user = UserFactory()
    response = login(client, user.email)
    assert response.status_code == 302
    assert client.get("/account").status_code == 200


def test_login_with_a_wrong_password_says_so_and_does_not_sign_in(client, session):
    user = UserFactory()
    response = login(client, user.email, "wrong password here")
    assert response.status_code == 200
    assert "Wrong email or password" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_unknown_email_gets_the_same_answer(client, session):
    response = login(client, "nobody@example.org", "whatever password")
    assert response.status_code == 200
    assert client.get("/account").status_code == 302


def test_login_rotates_the_session(client, session):
    user = UserFactory()
    with client.session_transaction() as s:
        s["planted"] = "by an attacker"
    login(client, user.email)
    with client.session_transaction() as s:
        assert "planted" not in s
        assert s["_user_id"].startswith(f"{user.id}:")


def test_logout_needs_post_with_csrf_and_signs_out(client, session):
    user = UserFactory()
    login(client, user.email)
    assert client.get("/auth/logout").status_code == 405 or client.get("/account").status_code == 200
    assert client.post("/auth/logout", data={}).status_code == 400  # no CSRF token
    assert client.get("/account").status_code == 200
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
    assert client.get("/account").status_code == 302


def test_login_is_rate_limited_per_account(app, client, session):
    user = UserFactory()
    limit = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
    for _ in range(limit):
        assert login(client, user.email, "wrong password here").status_code == 200
    # From another address too: the limit follows the account.
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD,
                                                "csrf_token": csrf_token(client)},
                           environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert response.status_code == 429


def test_login_is_rate_limited_per_ip(app, client, session):
    limit = int(app.config["LOGIN_LIMIT_PER_IP"].split()[0])
    token = csrf_token(client)
    for i in range(limit):
        client.post("/auth/login", data={"email": f"x{i}@example.org", "password": "p" * 12, "csrf_token": token})
    response = client.post("/auth/login", data={"email": "y@example.org", "password": "p" * 12, "csrf_token": token})
    assert response.status_code == 429
    assert "429" in response.get_data(as_text=True)


def test_successful_logins_do_not_lock_the_account(app, client, session):
    user = UserFactory()
    limit = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
    for _ in range(limit + 2):
        assert login(client, user.email).status_code == 302
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})


def _reset_link() -> str:
    assert mail.outbox, "no mail sent"
    match = re.search(r"http://localhost(/auth/reset/\S+)", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def test_password_reset_by_emailed_link_works_once(client, session):
    user = UserFactory()
    client.post("/auth/forgot", data={"email": user.email, "csrf_token": csrf_token(client, "/auth/forgot")})
    assert mail.outbox[-1].to == [user.email]
    link = _reset_link()
    token = csrf_token(client, link)
    new = "a brand new passphrase"
    response = client.post(link, data={"password": new, "confirm": new, "csrf_token": token})
    assert response.status_code == 302
    assert login(client, user.email, new).status_code == 302
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
    # The link is spent: the password it was bound to has changed.
    assert client.get(link).status_code == 302
    assert client.get(link).headers["Location"].endswith("/auth/forgot")


def test_forgot_password_does_not_tell_whether_an_account_exists(client, session):
    response = client.post("/auth/forgot", data={"email": "nobody@example.org",
                                                 "csrf_token": csrf_token(client, "/auth/forgot")})
    assert response.status_code == 302
    assert mail.outbox == []


def test_password_reset_signs_out_other_sessions(app, client, session):
    user = UserFactory()
    other = app.test_client()
    assert login(other, user.email).status_code == 302
    client.post("/auth/forgot", data={"email": user.email, "csrf_token": csrf_token(client, "/auth/forgot")})
    link = _reset_link()
    new = "a brand new passphrase"
    client.post(link, data={"password": new, "confirm": new, "csrf_token": csrf_token(client, link)})
    assert other.get("/account").status_code == 302


def test_change_password_needs_the_current_one(client, session):
    user = UserFactory()
    login(client, user.email)
    token = csrf_token(client, "/account")
    new = "another long passphrase"
    response = client.post("/account", data={"password-current_password": "not it at all", "password-password": new,
                                              "password-confirm": new, "password-csrf_token": token,
                                              "csrf_token": token})
    assert "current password is wrong" in response.get_data(as_text=True)
    response = client.post("/account", data={"password-current_password": PASSWORD, "password-password": new,
                                              "password-confirm": new, "password-csrf_token": token})
    assert response.status_code == 302
    session.expire_all()
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
    assert login(client, user.email, new).status_code == 302


def test_account_settings_save_name_and_language(client, session):
    user = UserFactory(locale="en")
    login(client, user.email)
    token = csrf_token(client, "/account")
    response = client.post("/account", data={"profile-name": "Lê Thị Hoa", "profile-locale": "vi",
                                              "profile-csrf_token": token})
    assert response.status_code == 302
    session.expire_all()
    assert (user.name, user.locale) == ("Lê Thị Hoa", "vi")
    assert 'lang="vi"' in client.get("/account").get_data(as_text=True)


def test_reset_mail_is_in_the_users_language(client, session):
    user = UserFactory(locale="vi")
    client.post("/auth/forgot", data={"email": user.email, "csrf_token": csrf_token(client, "/auth/forgot")})
    assert "mật khẩu" in mail.outbox[-1].subject
