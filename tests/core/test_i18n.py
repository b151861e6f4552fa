from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from incubator.core.money import format_money, to_major, to_minor
from incubator.core.permissions import Role
from tests.conftest import csrf_token, login
from tests.factories import InvitationFactory, OrgFactory, UserFactory, member

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
            "lazy_ngettext": (1, 2), "pgettext": ((1, "c"), 2), "npgettext": ((1, "c"), 2, 3)}
EXTRACTORS = {".py": "python", ".html": "jinja2", ".txt": "jinja2"}


def _source_files() -> list[Path]:
    """Every Python file of the app and every template, found on disk, whatever the folder is called
    (Babel's own directory walk skips folders starting with ``_`` or ``.``, e.g. templates/_macros)."""
    files = [*sorted((ROOT / "incubator").rglob("*.py")), *sorted((ROOT / "templates").rglob("*"))]
    return [f for f in files if f.is_file() and f.suffix in EXTRACTORS and "__pycache__" not in f.parts]


def _source_messages() -> set[str]:
    from babel.messages.extract import extract_from_file

    found = set()
    for path in _source_files():
        options = {"extensions": "jinja2.ext.i18n"} if EXTRACTORS[path.suffix] == "jinja2" else {}
        for _lineno, message, _comments, _context in extract_from_file(EXTRACTORS[path.suffix], str(path),
                                                                      keywords=KEYWORDS, options=options):
            if isinstance(message, str):
                found.add(message)
            else:
                found.update(part for part in message if part)
    return found


def test_the_extraction_walks_folders_starting_with_an_underscore():
    assert ROOT / "templates/_macros/pagination.html" in _source_files()
    assert {"Previous", "Next", "%(total)d in all"} <= _source_messages()


def test_the_extraction_configuration_does_not_skip_underscore_folders():
    """``make messages`` walks templates/_macros too (Babel's default skips ``_*`` folders)."""
    makefile = (ROOT / "Makefile").read_text()
    extract = next(line for line in makefile.splitlines() if "pybabel extract" in line)
    assert "--ignore-dirs" in extract


def test_the_vietnamese_catalogue_translates_every_string_in_the_code():
    with (ROOT / "incubator/translations/vi/LC_MESSAGES/messages.po").open("rb") as f:
        catalogue = read_po(f)
    translated: dict[str, str] = {}
    for m in catalogue:
        if not m.id or m.fuzzy:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        texts = m.string if isinstance(m.string, tuple) else (m.string,)
        if all(texts):
            for mid in ids:
                translated[mid] = texts[0]
    missing = sorted(_source_messages() - set(translated))
    assert not missing, "translate in messages.po:\n" + "\n".join(missing)
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
    assert "Jan 1, 2027, 9:00" in html  # midnight UTC is 09:00 in Seoul (a medium date: the issue #16 format)


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


def test_the_pagination_reads_in_vietnamese(app):
    from flask import render_template_string
    from flask_babel import force_locale

    from incubator.core.pagination import Page

    page = Page(items=[], page=2, per_page=20, total=61)
    macro = '{% from "_macros/pagination.html" import pagination %}{{ pagination(page, "main.index") }}'
    with app.test_request_context("/"), force_locale("vi"):
        html = render_template_string(macro, page=page)
    assert "Trước" in html and "Sau" in html and "Tổng cộng 61" in html
    assert "Previous" not in html and "in all" not in html


def test_form_validation_messages_are_in_vietnamese(client, session):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "vi"
    token = csrf_token(client, "/auth/register")
    page = client.post("/auth/register", data={"name": "", "email": "not-an-email", "password": "short",
                                              "confirm": "short", "csrf_token": token}).get_data(as_text=True)
    assert "Trường này phải có từ 12 đến 256 ký tự." in page
    assert "Trường này là bắt buộc." in page
    assert "Địa chỉ email không hợp lệ." in page
    assert "characters long" not in page and "This field is required" not in page


def test_form_validation_messages_stay_english_in_english(client, session):
    token = csrf_token(client, "/auth/register")
    page = client.post("/auth/register", data={"name": "Ann", "email": "ann@example.org", "password": "short",
                                              "confirm": "short", "csrf_token": token}).get_data(as_text=True)
    assert "Field must be between 12 and 256 characters long." in page


def test_every_form_of_the_app_speaks_the_readers_language():
    import importlib

    import flask_wtf

    from incubator.core.forms import FlaskForm

    for module in ("accounts", "orgs", "cohorts", "intake", "reporting"):
        importlib.import_module(f"incubator.{module}.forms")

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    strays = [f"{c.__module__}.{c.__name__}" for c in subclasses(flask_wtf.FlaskForm)
              if c.__module__.startswith("incubator.") and not issubclass(c, FlaskForm)]
    assert not strays, "derive these from incubator.core.forms.FlaskForm: " + ", ".join(strays)


@pytest.mark.parametrize("accept,lang", [("ko", "en"), ("ja", "en"), ("ko-KR,ko;q=0.9", "en"), ("vi", "vi"),
                                         ("vi-VN,vi;q=0.9", "vi"), ("en-GB", "en"), ("ja,vi;q=0.5", "vi"), ("", "en")])
def test_a_visitor_reads_their_browsers_language_or_english(client, accept, lang):
    html = client.get("/auth/login", headers={"Accept-Language": accept}).get_data(as_text=True)
    assert f'lang="{lang}"' in html
    assert ("Đăng nhập" if lang == "vi" else "Sign in") in html


@pytest.mark.parametrize("accept,lang", [("ko", "vi"), ("ja", "vi"), ("en-GB", "en"), ("vi", "vi")])
def test_members_inside_their_organisation_fall_back_to_its_language(client, session, accept, lang):
    org = OrgFactory(slug="vi-lab", default_locale="vi")
    owner = member(org, Role.OWNER, locale=None)
    login(client, owner.email)
    html = client.get("/o/vi-lab/members", headers={"Accept-Language": accept}).get_data(as_text=True)
    assert f'lang="{lang}"' in html
    outside = client.get("/account", headers={"Accept-Language": accept}).get_data(as_text=True)
    assert f'lang="{"en" if lang == "vi" and accept != "vi" else lang}"' in outside  # not inside the org


def test_a_members_own_setting_beats_browser_and_organisation(client, session):
    org = OrgFactory(slug="vi-lab", default_locale="vi")
    owner = member(org, Role.OWNER, locale="en")
    login(client, owner.email)
    assert 'lang="en"' in client.get("/o/vi-lab/members", headers={"Accept-Language": "vi"}).get_data(as_text=True)


def test_templates_follow_a_locale_forced_inside_a_request(app):
    """The templates' catalogue is looked up once per locale: a mail rendered in its reader's language
    inside an English request (``force_locale``) is in that language, and the page after it in English."""
    from flask import render_template_string
    from flask_babel import force_locale

    template = "{{ _('Sign out') }}"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert render_template_string(template) == "Sign out"
        with force_locale("vi"):
            assert render_template_string(template) == "Đăng xuất"
        assert render_template_string(template) == "Sign out"
    with app.test_request_context("/", headers={"Accept-Language": "vi"}):
        assert render_template_string(template) == "Đăng xuất"
