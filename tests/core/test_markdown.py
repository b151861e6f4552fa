"""Markdown members write (decision letters): CommonMark rendered with raw HTML shown as text, links only
to http, https and mailto, and placeholder values put in as text wherever they land."""

from __future__ import annotations

import pytest

from incubator.core.markdown import fill, render


def test_commonmark_becomes_html():
    html = render("# Welcome\n\n**Bold**, *italic* and `code`.\n\n- one\n- two\n\n1. first\n2. second\n\n> quoted")
    assert html == ("<h1>Welcome</h1>\n<p><strong>Bold</strong>, <em>italic</em> and <code>code</code>.</p>\n"
                    "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n<ol>\n<li>first</li>\n<li>second</li>\n</ol>\n"
                    "<blockquote>\n<p>quoted</p>\n</blockquote>\n")


def test_a_single_line_break_is_kept_as_in_a_letter():
    assert render("Best regards,\nThe BBI team") == "<p>Best regards,<br />\nThe BBI team</p>\n"


@pytest.mark.parametrize("source", [
    "<script>alert(1)</script>",
    "Hello <b onclick=\"alert(1)\">there</b>",
    "<img src=x onerror=alert(1)>",
    "<!-- a comment -->",
    "<iframe src=\"https://evil.example\"></iframe>",
])
def test_raw_html_is_shown_as_text_never_as_markup(source):
    html = render(source)
    assert "<script" not in html and "<b " not in html and "<img" not in html and "<iframe" not in html
    assert "<!--" not in html
    assert "&lt;" in html  # the text is there, escaped


@pytest.mark.parametrize(("source", "href"), [
    ("[site](https://bbi.example/next)", "https://bbi.example/next"),
    ("[site](http://bbi.example)", "http://bbi.example"),
    ("[write](mailto:team@bbi.example)", "mailto:team@bbi.example"),
    ("<https://bbi.example/a>", "https://bbi.example/a"),
    ("<team@bbi.example>", "mailto:team@bbi.example"),
])
def test_links_to_the_web_and_to_mail_are_kept(source, href):
    assert f'<a href="{href}">' in render(source)


@pytest.mark.parametrize("source", [
    "[x](javascript:alert(1))",
    "[x](JavaScript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "[x](vbscript:msgbox)",
    "[x](file:///etc/passwd)",
    "[x](/o/bbi/admin)",
    "[x](//evil.example)",
    "<javascript:alert(1)>",
    "[x]\n\n[x]: javascript:alert(1)",
])
def test_other_links_stay_plain_text(source):
    assert "<a " not in render(source)


def test_images_are_not_loaded_from_elsewhere():
    assert "<img" not in render("![tracker](https://evil.example/pixel.png)")


def test_placeholder_values_are_text_wherever_they_land():
    values = {"applicant_name": "<script>alert(1)</script> **bold** _it_", "org_name": "A&B {team_name}",
              "team_name": "Team"}
    html = render("Dear **{applicant_name}**, `{applicant_name}`\n\n# {org_name}", values)
    assert html == ("<p>Dear <strong>&lt;script&gt;alert(1)&lt;/script&gt; **bold** _it_</strong>, "
                    "<code>&lt;script&gt;alert(1)&lt;/script&gt; **bold** _it_</code></p>\n"
                    "<h1>A&amp;B {team_name}</h1>\n")  # a value is never filled in again


def test_a_value_in_a_link_lands_in_its_path_encoded_and_cannot_change_where_it_goes():
    values = {"org_name": "A B&C\"><script>", "call_title": "javascript:alert(1)"}
    html = render("[apply](https://bbi.example/calls?org={org_name})", values)
    assert html == '<p><a href="https://bbi.example/calls?org=A%20B%26C%22%3E%3Cscript%3E">apply</a></p>\n'
    assert "<a " not in render("[x]({call_title})", values)  # no scheme of its own: not a link at all


def test_fill_is_plain_substitution_and_leaves_unknown_names_as_written():
    assert fill("Hi {applicant_name} {unknown} {{x}}", {"applicant_name": "{0.__class__}"}) == \
        "Hi {0.__class__} {unknown} {{x}}"
