"""The crawl's machinery: read a page's links and forms, walk pages breadth first, submit forms, report."""

from __future__ import annotations

import logging
import re
import traceback
from collections import Counter, deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from sqlalchemy import event

WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
NEVER = ("/auth/logout", "/static/")  # signing out ends the walk; static files are no pages
DOWNLOAD = re.compile(r"\.(csv|xlsx|pdf|ics)(\?|$)|[?&]format=")


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, list[str]] = field(default_factory=dict)  # what a browser would send untouched


class Page(HTMLParser):
    """The links of a page (``<a href>``, GET form actions and formactions) and its forms."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None  # the form open at this point of the page
        self._select = self._textarea = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        form = self._form or Form("", "")
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = Form(a.get("action", ""), a.get("method", "get").lower())
            self.forms.append(self._form)
            self.links += [self._form.action] if self._form.method == "get" else []
        elif tag == "button" and a.get("formmethod") == "get":
            self.links.append(a.get("formaction", ""))
        elif tag == "input" and a.get("name") and a.get("type") not in ("submit", "button", "file", "reset"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                form.fields.setdefault(a["name"], []).append(a.get("value", "on"))
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and ("selected" in a or self._select not in form.fields):
            form.fields[self._select] = [a.get("value", "")]  # the first option, unless another is selected
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            form.fields[a["name"]] = [""]

    def handle_endtag(self, tag: str) -> None:
        self._form = None if tag == "form" else self._form
        self._select = None if tag == "select" else self._select
        self._textarea = None if tag == "textarea" else self._textarea

    def handle_data(self, data: str) -> None:
        if self._textarea and self._form:
            self._form.fields[self._textarea] = [data]


class VisibleText(HTMLParser):
    """The text a person reads on a page: no script, style, code sample or attribute (a form's values,
    ``datetime=""`` and ``data-*`` are for machines)."""

    HIDDEN = {"script", "style", "code", "pre", "textarea", "title"}

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.depth, self.parts = 0, []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs) -> None:
        self.depth += tag in self.HIDDEN

    def handle_endtag(self, tag: str) -> None:
        self.depth -= tag in self.HIDDEN and self.depth > 0

    def handle_data(self, data: str) -> None:
        if not self.depth and data.strip():
            self.parts.append(" ".join(data.split()))


RAW_FORMATS = {  # what the formatting layer never shows (issue #16)
    "an ISO date and time": re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}"),
    "a UTC offset": re.compile(r"GMT[+-]"),
    "a time zone's key": re.compile(r"\b(?:Africa|America|Antarctica|Asia|Atlantic|Australia|Europe|Indian|Pacific)"
                                   r"/[A-Z][A-Za-z_]+"),
}
SNAKE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


def raw_formats(html: str, enum_keys: set[str]) -> list[str]:
    """What of the visible text should have gone through a filter: a raw ISO moment, a zone's key or
    offset, an enum's key ("awaiting_payment")."""
    found = []
    for text in VisibleText(html).parts:
        for what, pattern in RAW_FORMATS.items():
            found += [f"{what}: {text[:120]!r}" for _match in pattern.findall(text)[:1]]
        found += [f"an enum key {key!r}: {text[:120]!r}" for key in SNAKE.findall(text) if key in enum_keys][:1]
    return found


def same_origin(base: str, href: str) -> str | None:
    """The path (and query) ``href`` leads to from the page ``base``, or None when it leaves the app."""
    url = urlsplit(urljoin("http://localhost" + base, href))
    if url.scheme != "http" or url.netloc != "localhost":
        return None
    return url.path + (f"?{url.query}" if url.query else "")


def shape(url: str) -> str:
    """/o/bbi/startups/12?week=2026-03-02 -> /o/bbi/startups/#?week=#-#-#: pages of one kind."""
    return re.sub(r"\d+", "#", url)


class Watch(logging.Handler):
    """What the app did in the last request (the test client serves one at a time): the traceback it
    logged, and the rows a GET wrote (following a link must change nothing)."""

    def __init__(self, app) -> None:
        super().__init__(logging.ERROR)
        self.last, self.writes = "", []
        app.logger.addHandler(self)
        event.listen(app.extensions["db_engine"], "before_cursor_execute", self.statement)

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.last = "".join(traceback.format_exception(*record.exc_info))

    def statement(self, _conn, _cursor, statement: str, *_args) -> None:
        from flask import has_request_context, request

        if has_request_context() and request.method == "GET" and WRITE.match(statement):
            self.writes.append(" ".join(statement.split()[:3]))


@dataclass
class Problem:
    role: str
    method: str
    url: str
    status: int | str
    found_on: str
    detail: str = ""

    def __str__(self) -> str:
        return f"   [{self.role}] {self.method} {self.url}  (from {self.found_on})"


def report(problems: list[Problem]) -> str:
    """The problems grouped by what went wrong: each error once, above every request that met it."""
    groups: dict[tuple[str, str], list[Problem]] = {}
    for p in problems:
        what = p.detail.strip().splitlines()[-1] if p.detail.startswith("Traceback") else p.detail
        groups.setdefault((str(p.status), what), []).append(p)
    parts = []
    for (status, what), members in groups.items():
        lines, keep = [f"== {status}: {what}", *map(str, members)], True
        for line in members[0].detail.splitlines() if members[0].detail.startswith("Traceback") else ():
            keep = "site-packages" not in line if line.lstrip().startswith("File ") else keep
            lines += [f"   {line}"] if keep and line.strip(" ^~") else []  # the app's own frames
        parts.append("\n".join(lines))
    return f"{len(groups)} problem(s) in {len(problems)} request(s) while walking like users:\n\n" + "\n\n".join(parts)


class Browser:
    """One person on the test client: signs in with the form, reads pages, submits forms, walks.

    An answer of 500 and up (or a crash of the error page itself), or a write during a GET, becomes a
    ``Problem``; so does a 4xx behind a link the walk was shown.
    """

    def __init__(self, app, watch: Watch, role: str, *, language: str = "en", may_write: str = "^$",
                 enum_keys: set[str] | None = None) -> None:
        self.client, self.watch, self.role, self.may_write = app.test_client(), watch, role, may_write
        self.enum_keys = enum_keys  # when given, a page showing a raw format is a problem too
        self.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        self.problems: list[Problem] = []
        self.visited: dict[str, int] = {}
        self.pages: set[str] = set()  # the visited URLs that answered 200 with an HTML page
        self.url, self.location = "", None

    def request(self, method: str, url: str, found_on: str, data: dict | None = None) -> tuple[int, str]:
        """(status, page text); the redirect after a POST is followed, as a browser does."""
        self.url, self.location, self.watch.last, self.watch.writes = url, None, "", []
        try:
            response = self.client.open(url, method=method, data=data)
        except Exception:  # the error page itself failed: the test client re-raises while TESTING
            self.problems.append(Problem(self.role, method, url, "crash", found_on, traceback.format_exc()))
            return 500, ""
        body = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
        if method == "GET" and response.status_code == 200 and response.mimetype == "text/html":
            self.pages.add(url)
        self.location = response.headers.get("Location") if response.status_code in (301, 302, 303) else None
        if response.status_code >= 500:
            detail = self.watch.last or body[:300]
            self.problems.append(Problem(self.role, method, url, response.status_code, found_on, detail))
        if self.enum_keys is not None and body and response.status_code == 200:
            shown = raw_formats(body, self.enum_keys)
            self.problems += [Problem(self.role, method, url, "a raw format", found_on, what) for what in shown[:3]]
        if writes := sorted({w for w in self.watch.writes if not re.search(self.may_write, w)}):
            self.problems.append(Problem(self.role, method, url, "a GET wrote", found_on, ", ".join(writes)))
        if method == "POST" and self.location:
            return self.request("GET", self.location, f"the answer to POST {url}")
        return response.status_code, body

    def get(self, url: str) -> str:
        status, body = self.request("GET", url, "(typed)")
        assert status == 200, f"{self.role}: GET {url} answered {status}"
        return body

    def sign_in(self, email: str, password: str) -> str:
        """The page the login form lands on."""
        self.submit("/auth/login", "/auth/login", email=email, password=password)
        assert self.url != "/auth/login", f"{email} could not sign in"
        return self.url

    def submit(self, page: str, action: str, body: str | None = None, **data: str) -> str:
        """Fill the first POST form of ``page`` whose action matches the regex ``action`` and send it."""
        for form in Page(body if body is not None else self.get(page)).forms:
            target = same_origin(page, form.action) or page
            if form.method == "post" and re.search(action, target):
                status, answer = self.request("POST", target, page, {**form.fields, **data})
                assert status == 422 or not 400 <= status < 500, f"{self.role}: POST {target} answered {status}"
                return answer
        raise AssertionError(f"{self.role}: no form posting to {action!r} on {page}")

    def walk(self, start: list[str], *, max_pages: int = 250, per_shape: int = 4, per_download: int = 1) -> None:
        """Visit, breadth first, every same-origin page reachable from ``start``, in a sorted, bounded order."""
        queue, queued, seen = deque((url, "(start)") for url in start), set(start), Counter[tuple]()
        while queue and len(self.visited) < max_pages:
            url, found_on = queue.popleft()
            status, body = self.request("GET", url, found_on)
            self.visited[url] = status
            if 400 <= status < 500 and found_on != "(start)":  # a walk writes nothing: no link vanishes during it
                self.problems.append(Problem(self.role, "GET", url, status, found_on, "a broken link"))
            for link in sorted(set(Page(body).links)) if status == 200 else [self.location or ""]:
                target = same_origin(url, link)
                kind = (bool(DOWNLOAD.search(target or "")), shape(target or ""))
                if target and target not in queued and not target.startswith(NEVER) \
                        and seen[kind] < (per_download if kind[0] else per_shape):
                    seen[kind] += 1
                    queued.add(target)
                    queue.append((target, url))
