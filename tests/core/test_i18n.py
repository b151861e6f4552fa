from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from incubator.core.money import format_money, to_major, to_minor
from incubator.core.permissions import Role
from tests.conftest import csrf_token, login
from tests.factories import InvitationFactory, OrgFactory, UserFactory, member

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _source_messages() -> set[str]:
    method_map = [("incubator/**.py", "python"), ("templates/**.html", "jinja2"), ("templates/**.txt", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(str(ROOT), method_map,
                                                                            keywords=keywords):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_vietnamese_catalogue_translates_every_string_in_the_code():
    with open(ROOT / "incubator/translations/vi/LC_MESSAGES/messages.po", "rb") as f:
        catalogue = read_po(f)
    translated = {m.id: m.string for m in catalogue if m.id and m.string and not m.fuzzy}
    missing = sorted(_source_messages() - set(translated))
    assert not missing, "run `make messages` and translate:\n" + "\n".join(missing)
    wrong = [mid for mid, text in translated.items() if set(PLACEHOLDER.findall(mid)) != set(PLACEHOLDER.findall(text))]
    assert not wrong, wrong


def test_the_browser_language_is_used_when_nobody_chose(client):
    vi = client.get("/auth/login", headers={"Accept-Language": "vi-VN,vi;q=0.9"}).get_data(as_text=True)
    en = client.get("/auth/login", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(as_text=True)
    assert 'lang="vi"' in vi and "Đăng nhập" in vi
    assert 'lang="en"' in en and "Sign in" in en


def test_the_users_choice_beats_the_browser(client, session):
    user = UserFactory(locale="vi")
    login(client, user.email)
    page = client.get("/account", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="vi"' in page


def test_switching_language_is_remembered(client, session):
    token = csrf_token(client, "/auth/login")
    response = client.post("/language", data={"locale": "vi", "next": "/auth/login", "csrf_token": token})
    assert response.headers["Location"] == "/auth/login"
    assert 'lang="vi"' in client.get("/auth/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    user = UserFactory(locale="vi")
    login(client, user.email)
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/account")})
    session.expire_all()
    assert user.locale == "en"


def test_language_switch_does_not_redirect_off_site(client):
    token = csrf_token(client, "/auth/login")
    response = client.post("/language", data={"locale": "en", "next": "https://evil.example/", "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_times_are_shown_in_the_organisations_time_zone(client, session):
    org = OrgFactory(slug="seoul-lab", timezone="Asia/Seoul")
    owner = member(org, Role.OWNER)
    InvitationFactory(org_id=org.id, expires_at=datetime(2027, 1, 1, 0, 0, tzinfo=UTC))
    login(client, owner.email)
    html = client.get("/o/seoul-lab/members").get_data(as_text=True)
    assert "1/1/27, 9:00" in html  # midnight UTC is 09:00 in Seoul


@pytest.mark.parametrize("amount,currency,locale,expected", [
    (1500000, "VND", "vi", "1.500.000\xa0₫"),
    (1500000, "VND", "en", "₫1,500,000"),
    (1250, "USD", "en", "$12.50"),
    (1250, "USD", "vi", "12,50\xa0US$"),
])
def test_money_is_formatted_by_locale_and_currency(amount, currency, locale, expected):
    assert format_money(amount, currency, locale) == expected


def test_money_minor_units():
    assert to_minor("1500000", "VND") == 1500000
    assert to_minor("12.50", "USD") == 1250
    assert str(to_major(1250, "USD")) == "12.50"
    with pytest.raises(ValueError):
        to_minor("1.5", "VND")  # VND has no minor unit
