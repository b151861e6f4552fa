"""axe-core on the fourteen key pages of the journeys, as the person who uses each: no critical or serious
violation (contrast, names of controls, labels, landmarks, ARIA). One browser context per person.

One language per database (``audit.WALK_LOCALE``): Vietnamese on SQLite, English on PostgreSQL; CI runs
both, so each language is checked once."""

from __future__ import annotations

import re

import pytest

from tests.browser.audit import WALK_LOCALE, axe_violations
from tests.browser.test_journeys import sign_in

# Who, and how they reach each page: (name, start page, regex of the link to follow there or None).
KEY_PAGES = {
    "manager@bbi.example.com": [
        ("cohort dashboard", "/o/bbi/cohorts", r"/cohorts/\d+$"),
        ("mentoring matches", "/o/bbi/cohorts", r"/cohorts/\d+$", "/matching"),
        ("pipeline", "/o/bbi/calls/1/applications", None),
        ("ranking", "/o/bbi/calls/1/compare", None),
        ("reports", "/o/bbi/reports", None),
    ],
    "founder@bbi.example.com": [
        ("lab week grid", "/o/bbi/labs", r"/resources/\d+$"),
        ("lab month view", "/o/bbi/labs", r"/resources/\d+$", "/month"),
        ("lab agenda view", "/o/bbi/labs", r"/resources/\d+$", "/agenda"),
        ("my bookings", "/o/bbi/bookings", None),
        ("payment page", "/o/bbi/receipts", r"/payments/\d+$"),
    ],
    "funder@bbi.example.com": [("funder portal", "/o/bbi/reports", None)],
    "funder@dost-bd.example.com": [("province roll-up", "/o/dost-bd/reports", None)],
    "applicant05@example.org": [("application form", "/o/bbi/applications/mine", r"/applications/\d+/edit$")],
    "judge.lenient@bbi.example.com": [("review page", "/o/bbi/reviews", r"/applications/\d+$")],
}


def follow(page, base: str, start: str, pattern: str | None, suffix: str = "") -> str:
    page.goto(base + start)
    if pattern:
        hrefs = page.locator("main a[href]").evaluate_all("links => links.map((a) => a.getAttribute('href'))")
        found = sorted(h for h in hrefs if re.search(pattern, h.split("?")[0]))
        assert found, f"no link like {pattern} on {start}"
        answer = page.goto(base + found[0] + suffix)
        assert answer is not None and answer.ok, f"{found[0] + suffix}: {answer and answer.status}"
    return page.url


@pytest.mark.parametrize("locale", [WALK_LOCALE])
def test_key_pages_have_no_serious_accessibility_violations(browser, live_server, locale):
    assert sum(len(pages) for pages in KEY_PAGES.values()) == 14
    found = []
    for email, pages in KEY_PAGES.items():
        context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900}, bypass_csp=True)
        page = context.new_page()
        sign_in(page, live_server, email)
        page.wait_for_url(re.compile(r"/o/|/account"))
        for name, start, pattern, *suffix in pages:
            url = follow(page, live_server["url"], start, pattern, *suffix)
            assert page.locator("main").count() == 1
            found += [f"[{name}, {email}, {url}] {line}" for line in axe_violations(page)]
        context.close()
    assert not found, f"{len(found)} serious or critical axe violation(s) ({locale}):\n" + "\n".join(found)
