"""The layout holds on a phone and on a laptop, in Vietnamese (the default) and English.

At 390 px, every page shape that the crawl reaches (tests/crawl_helpers.py walks the links as each
role of tests/test_crawl.py) fits the width: the page itself never scrolls sideways; wide tables
scroll inside their own box. That walk is long, so it reads one language per database
(``audit.WALK_LOCALE``): Vietnamese on SQLite, English on PostgreSQL, each once in CI. At 1280 px the
navigation stays one bar whose controls sit inside it.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import event

from tests.browser.audit import ONCE_PER_CI, WALK_LANGUAGE, WALK_LOCALE, sideways
from tests.browser.test_journeys import sign_in
from tests.crawl_helpers import DOWNLOAD, Browser, Watch, shape
from tests.test_crawl import ROLES

PHONE = {"width": 390, "height": 844}


def kind(url: str) -> str:
    """A page shape whatever the organisation: /o/tdmu/cohorts/3 is the page /o/bbi/cohorts/1 is."""
    return shape(re.sub(r"^/o/[^/]+/", "/o/_/", url))


@pytest.fixture(scope="module")
def pages_by_role(live_server):
    """One URL of each page shape the walks reach (HTML pages only, no downloads), under the first role
    that reaches it in the crawl's order of roles."""
    app = live_server["app"]
    watch = Watch(app)
    found: dict[str, list[str]] = {}
    seen: set[str] = set()
    try:
        for role, email in ROLES.items():
            walker = Browser(app, watch, role, language=WALK_LANGUAGE)
            home = walker.sign_in(email, live_server["password"]) if email else "/"
            walker.walk(sorted({home, "/"}))
            found[role] = []
            for url in sorted(walker.pages):
                if not DOWNLOAD.search(url) and not url.startswith("/api/") and kind(url) not in seen:
                    seen.add(kind(url))
                    found[role].append(url)
    finally:
        app.logger.removeHandler(watch)
        event.remove(app.extensions["db_engine"], "before_cursor_execute", watch.statement)
    return found


@pytest.fixture()
def many_sign_ins(live_server, monkeypatch):
    """Two dozen sign-ins from one address within a minute: the walk's and the browser's."""
    monkeypatch.setitem(live_server["app"].config, "LOGIN_LIMIT_PER_IP", "1000 per minute")


def test_every_page_fits_a_phone_without_scrolling_sideways(browser, live_server, pages_by_role, many_sign_ins):
    # The walks reach what the crawl reaches: 95 kinds of page in the demo.
    assert sum(len(urls) for urls in pages_by_role.values()) >= 90
    overflowing = []
    for role, urls in pages_by_role.items():
        context = browser.new_context(viewport=PHONE, locale=WALK_LOCALE)
        page = context.new_page()
        if ROLES[role]:
            sign_in(page, live_server, ROLES[role])
            page.wait_for_url(lambda url: "/auth/login" not in url)
        for url in urls:
            page.goto(live_server["url"] + url)
            if (wide := sideways(page)) is not None:
                overflowing.append(f"[{role}] {url}: {wide['scrollWidth']} px > {wide['clientWidth']} px; "
                                   + "; ".join(wide["culprits"]))
        context.close()
    assert not overflowing, f"{len(overflowing)} page(s) scroll sideways at 390 px:\n" + "\n".join(overflowing)


@ONCE_PER_CI
@pytest.mark.parametrize("locale", ["vi-VN", "en-GB"])
@pytest.mark.parametrize("email", ["manager@bbi.example.com", "founder@bbi.example.com", "mentor@bbi.example.com",
                                   "reviewer@bbi.example.com", "funder@bbi.example.com"])
def test_the_navigation_holds_at_1280_px(browser, live_server, email, locale, many_sign_ins):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale)
    page = context.new_page()
    sign_in(page, live_server, email)
    page.wait_for_url(re.compile(r"/o/bbi/"))
    assert sideways(page) is None
    bar = page.locator("header.app-bar").bounding_box()
    assert bar is not None and bar["height"] < 120, f"the top bar wraps: {bar}"
    controls = [page.get_by_test_id("org-switcher"), page.get_by_role("button", name=re.compile("Đăng xuất|Sign out")),
                *page.locator("header.app-bar .nav-link").all()]
    for control in controls:
        expect(control).to_be_visible()
        box = control.bounding_box()
        assert box is not None and box["height"] < 48, f"{control} wraps inside itself: {box}"
        inside = bar["x"] <= box["x"] and box["x"] + box["width"] <= bar["x"] + bar["width"] \
            and bar["y"] <= box["y"] and box["y"] + box["height"] <= bar["y"] + bar["height"]
        assert inside, f"{control} is outside the bar: {box} not in {bar}"
    staff = email.startswith("manager")
    expect(page.get_by_test_id("side-nav")).to_have_count(1 if staff else 0)
    if staff:
        expect(page.get_by_test_id("side-nav")).to_be_visible()
    context.close()


@ONCE_PER_CI
def test_the_side_navigation_opens_from_its_button_on_a_phone(browser, live_server, many_sign_ins):
    context = browser.new_context(viewport=PHONE, locale="vi-VN")
    page = context.new_page()
    sign_in(page, live_server, "manager@bbi.example.com")
    side = page.get_by_test_id("side-nav")
    expect(side).to_be_hidden()
    page.get_by_test_id("side-nav-toggle").click()
    expect(side).to_be_visible()
    side.get_by_role("link", name="Khóa ươm tạo", exact=True).click()
    expect(page).to_have_url(re.compile(r"/o/bbi/cohorts$"))
    assert sideways(page) is None
    context.close()
