"""The decision letter editor in a browser: a placeholder is inserted where the cursor is, the sample
letter follows what is typed (rendered by the server, nothing saved), and axe finds nothing serious."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.audit import ONCE_PER_CI, axe_violations
from tests.browser.test_journeys import sign_in

EDITOR = "/o/bbi/letters?outcome=accepted&lang=en"


def test_the_letter_editor_inserts_placeholders_and_previews_as_one_types(page, live_server, shot):
    sign_in(page, live_server, "manager@bbi.example.com")
    page.wait_for_url(re.compile(r"/o/"))
    page.goto(live_server["url"] + EDITOR)
    body = page.locator("textarea#body")
    saved = body.input_value()
    english = page.locator('[data-testid="letter-sample-en"]')
    vietnamese = page.locator('[data-testid="letter-sample-vi"]')
    expect(english).to_contain_text("Dear Alex Tran,")
    expect(vietnamese).to_contain_text("Chào Nguyễn Minh Anh,")

    body.fill("Hello **there** ")
    page.locator('button[data-insert-placeholder="{applicant_name}"]').click()
    expect(body).to_have_value("Hello **there** {applicant_name}")
    expect(english.locator(".letter-body strong")).to_have_text("there")  # refreshed without a click
    expect(english.locator(".letter-body")).to_have_text("Hello there Alex Tran")
    expect(english.locator(".badge")).to_be_visible()  # not saved
    expect(vietnamese).to_contain_text("Chào Nguyễn Minh Anh,")  # the other language, as saved
    shot(page, "letter-editor-live-preview")

    page.reload()
    expect(body).to_have_value(saved)  # the preview saved nothing


@ONCE_PER_CI
def test_the_letter_editor_has_no_serious_accessibility_violations(browser, live_server):
    context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    sign_in(page, live_server, "manager@bbi.example.com")
    page.wait_for_url(re.compile(r"/o/"))
    page.goto(live_server["url"] + EDITOR)
    page.locator("textarea#body").fill("Chào **{applicant_name}**\n\n- một\n- hai")
    page.locator('button[name=action][value=preview]').click()
    expect(page.locator('[data-testid="letter-sample-en"] .letter-body li').first).to_have_text("một")
    assert axe_violations(page) == []
    context.close()
