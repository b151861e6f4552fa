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


def test_register_creates_an_argon2id_account_that_the_mailed_link_signs_in(client, session):
    response = _register(client)
    assert response.status_code == 302
    user = session.execute(select(User).where(User.email == "an@example.org")).scalar_one()
    assert user.password_hash.startswith("$argon2id$")
    assert "a long enough passphrase" not in user.password_hash
    link = re.search(r"http://localhost(/auth/verify/\S+)", mail.outbox[-1].body).group(1)
    client.post(link, data={"csrf_token": csrf_token(client, link)})
    assert client.get("/account").status_code == 200


def test_register_refuses_a_short_password_next_to_the_field(client, session):
    response = _register(client, password="short", confirm="short")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r'data-field="password">[^<]*12', html)
    assert session.execute(select(User).where(User.email == "an@example.org")).first() is None


def test_register_with_a_taken_email_creates_nothing(client, session):
    UserFactory(email="an@example.org")
    response = _register(client, email="AN@example.org")
    assert response.status_code == 302
    assert "already exists" not in client.get(response.headers["Location"]).get_data(as_text=True)
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


# -- a stranger's failures do not lock the owner out -------------------------------------------------------

def _post_login(client, email, password, ip="10.0.0.1", lang="en"):
    return client.post("/auth/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)},
                       environ_base={"REMOTE_ADDR": ip}, headers={"Accept-Language": lang})


def _wait_shown(response) -> int:
    match = re.search(r"Too many failed sign-ins to this account\. Try again in (\d+) seconds?\.",
                      response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)
    return int(match.group(1))


def _fail_until_the_limit(app, email):
    stranger = app.test_client()
    limit = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
    for i in range(limit):
        assert _post_login(stranger, email, "wrong password here", ip=f"203.0.113.{i}").status_code == 200
    return stranger


def test_a_strangers_failures_do_not_lock_out_the_owners_known_browser(app, client, session):
    user = UserFactory()
    assert _post_login(client, user.email, PASSWORD).status_code == 302  # the owner's browser, once
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
    stranger = _fail_until_the_limit(app, user.email)
    assert _post_login(stranger, user.email, PASSWORD, ip="203.0.113.99").status_code == 429
    response = _post_login(client, user.email, PASSWORD)
    assert response.status_code == 302  # the right password from the known browser still gets in
    assert client.get("/account").status_code == 200


def test_unknown_browsers_are_throttled_with_a_growing_delay_never_a_lock(app, client, session):
    from incubator.accounts import throttle
    from incubator.extensions import limiter

    user = UserFactory()
    _fail_until_the_limit(app, user.email)
    response = _post_login(client, user.email, PASSWORD)  # even the right password waits, from a new browser
    assert response.status_code == 429
    first = _wait_shown(response)
    assert 0 < first <= 30
    assert int(response.headers["Retry-After"]) >= first  # (the per-IP limiter may announce later)
    assert client.get("/account").status_code == 302  # not signed in
    # The wait runs out (simulated): one more try is allowed; a failure makes the next wait longer.
    wait_key = "login-wait:" + throttle._account_key(user.email)
    with app.app_context():
        limiter.storage.clear(wait_key)
    failed = _post_login(client, user.email, "wrong again, sorry")
    assert failed.status_code == 200 and "Wrong email or password." in failed.get_data(as_text=True)
    second = _wait_shown(_post_login(client, user.email, PASSWORD))
    assert 30 < second <= 60
    with app.app_context():
        limiter.storage.clear(wait_key)
    assert _post_login(client, user.email, PASSWORD).status_code == 302  # nothing is locked for good


def test_the_wait_message_is_translated(app, client, session):
    user = UserFactory()
    _fail_until_the_limit(app, user.email)
    response = _post_login(client, user.email, PASSWORD, lang="vi")
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "Đăng nhập sai quá nhiều lần vào tài khoản này. Vui lòng thử lại sau" in html
    assert "Too many failed" not in html


def test_a_forged_known_device_cookie_does_not_help(app, client, session):
    from incubator.accounts.throttle import KNOWN_DEVICE_COOKIE

    user = UserFactory()
    _fail_until_the_limit(app, user.email)
    client.set_cookie(KNOWN_DEVICE_COOKIE, "WyJhYmMiXQ.forged", path="/auth/")
    assert _post_login(client, user.email, PASSWORD).status_code == 429


def test_the_per_ip_limit_applies_to_known_browsers_too(app, client, session):
    user = UserFactory()
    assert _post_login(client, user.email, PASSWORD).status_code == 302
    limit = int(app.config["LOGIN_LIMIT_PER_IP"].split()[0])
    for _ in range(limit):
        _post_login(client, user.email, "wrong password here")
    assert _post_login(client, user.email, PASSWORD).status_code == 429
