"""The crawl's machinery: read links and forms off a page, walk the pages breadth first, submit forms.

Only the standard library's HTML parser: the pages are the app's own, well-formed templates.
"""

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
NEVER = ("/auth/logout", "/static/")  # signing out ends the walk; static files are not pages


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    options: dict[str, list[str]] = field(default_factory=dict)  # select name -> every option value


class PageParser(HTMLParser):
    """The links, GET form actions and forms of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        form = self.forms[-1] if self.forms else None
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
            if self.forms[-1].method == "get":
                self.links.append(a.get("action", ""))
        elif tag == "button" and a.get("formmethod", "").lower() == "get" and a.get("formaction"):
            self.links.append(a["formaction"])
        elif form is None or not a.get("name") and tag != "option":
            return
        elif tag == "input" and a.get("type", "text") not in ("submit", "button", "file", "reset"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                form.fields.setdefault(a["name"], []).append(a.get("value", "on" if "checked" in a else ""))
        elif tag == "select":
            self._select = a["name"]
            form.options[a["name"]] = []
        elif tag == "option" and self._select and form is not None:
            value = a.get("value", "")
            form.options[self._select].append(value)
            if "selected" in a:
                form.fields[self._select] = [value]
        elif tag == "textarea":
            self._textarea = a["name"]
            form.fields[a["name"]] = [""]

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select:
            form = self.forms[-1]
            if self._select not in form.fields and form.options[self._select]:
                form.fields[self._select] = [form.options[self._select][0]]  # a browser sends the first option
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self.forms:
            self.forms[-1].fields[self._textarea] = [data]


def parse(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    return parser


def same_origin(base: str, href: str) -> str | None:
    """The local path (and query) ``href`` leads to from ``base``, or None when it leaves the app."""
    if href.startswith(("mailto:", "tel:", "javascript:", "data:")):
        return None
    url = urlsplit(urljoin(base, href))
    if url.scheme not in ("http", "https") or url.netloc not in ("localhost", ""):
        return None
    return url.path + (f"?{url.query}" if url.query else "")


def shape(url: str) -> str:
    """/o/bbi/startups/12?month=2026-03 -> /o/bbi/startups/#?month=#-#: pages of one kind."""
    return re.sub(r"\d+", "#", url)


class Watch(logging.Handler):
    """What the app did during the last request (the test client runs one at a time): the traceback it
    logged, and the rows a GET wrote (a link must never change anything)."""

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
        return f"[{self.role}] {self.method} {self.url}  (from {self.found_on})"


def report(problems: list[Problem]) -> str:
    """The problems grouped by what went wrong: each error once, under it every request that met it."""
    groups: dict[tuple[str, str], list[Problem]] = {}
    for p in problems:
        traced = p.detail.startswith("Traceback")
        groups.setdefault((str(p.status), p.detail.strip().splitlines()[-1] if traced else p.detail), []).append(p)
    parts = []
    for (status, what), members in groups.items():
        lines = [f"== {status}: {what.splitlines()[0] if what else ''}", *(f"   {p}" for p in members)]
        detail = members[0].detail
        lines += ["   " + line for line in (own_frames(detail) if detail.startswith("Traceback") else
                                              detail.splitlines()[1:])]
        parts.append("\n".join(lines))
    return f"{len(groups)} problem(s) in {len(problems)} request(s) while walking like users:\n\n" + "\n\n".join(parts)


def own_frames(traceback_text: str) -> list[str]:
    """A traceback without the frames of installed libraries (Flask, Jinja, SQLAlchemy) nor the ^^^ lines."""
    lines, keep = [], True
    for line in traceback_text.splitlines():
        if line.lstrip().startswith("File "):
            keep = "site-packages" not in line
        if (keep or not line.startswith(" ")) and line.strip(" ^~"):
            lines.append(line)
    return lines


def is_download(url: str) -> bool:
    return url.split("?")[0].endswith((".csv", ".xlsx", ".pdf", ".ics")) or "format=" in url


class Browser:
    """One person on the test client: signs in through the form, reads pages, submits forms, crawls.

    Every answer of 500 and up (or a crash of the error page itself) becomes a ``Problem`` with the
    traceback the app logged, and so does a 404 from a link the same person was shown.
    """

    def __init__(self, app, watch: Watch, role: str, *, may_write: str = "^$") -> None:
        self.client, self.watch, self.role, self.may_write = app.test_client(), watch, role, may_write
        self.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        self.problems: list[Problem] = []
        self.visited: dict[str, int] = {}
        self.url, self.location = "", None

    def request(self, method: str, url: str, found_on: str, data: dict | None = None):
        """(status, page text); a redirect after a POST is followed, as a browser does."""
        self.url, self.location, self.watch.last, self.watch.writes = url, None, "", []
        try:
            response = self.client.open(url, method=method, data=data)
        except Exception:  # the error page itself failed: the test client re-raises while TESTING
            self.problems.append(Problem(self.role, method, url, "crash", found_on, traceback.format_exc()))
            return 500, ""
        body = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
        if 300 <= response.status_code < 400:
            self.location = response.headers["Location"]
        if response.status_code >= 500:
            detail = self.watch.last or body[:300]
            self.problems.append(Problem(self.role, method, url, response.status_code, found_on, detail))
        writes = [w for w in self.watch.writes if not re.search(self.may_write, w)]
        if writes:
            self.problems.append(Problem(self.role, method, url, "wrote", found_on, "\n".join(sorted(set(writes)))))
        if method == "POST" and self.location:
            return self.request("GET", self.location, f"the answer to POST {url}")
        return response.status_code, body

    def get(self, url: str) -> str:
        status, body = self.request("GET", url, "(typed)")
        assert status == 200, f"{self.role}: GET {url} answered {status}"
        return body

    def sign_in(self, email: str, password: str) -> str:
        """The landing page after the login form, like a person typing their password."""
        self.submit("/auth/login", "/auth/login", email=email, password=password)
        assert self.url != "/auth/login", f"{email} could not sign in"
        return self.url

    def submit(self, page: str, action: str, body: str | None = None, **data: str) -> str:
        """Fill the first form of ``page`` whose action matches the regex ``action`` and send it."""
        body = body if body is not None else self.get(page)
        for form in parse(body).forms:
            target = same_origin("http://localhost" + page, form.action) or page
            if form.method == "post" and re.search(action, target):
                fields = {**form.fields, **{k: [v] for k, v in data.items()}}
                status, answer = self.request("POST", target, page, fields)
                assert not 400 <= status < 500 or status == 422, f"{self.role}: POST {target} answered {status}"
                return answer
        raise AssertionError(f"{self.role}: no form posting to {action!r} on {page}")

    def crawl(self, start: list[str], *, max_pages: int = 250, per_shape: int = 4, per_download_shape: int = 1) -> None:
        """Visit, breadth first, every same-origin page reachable from ``start``, in a sorted, bounded order."""
        queue, queued = deque((url, "(start)") for url in start), set(start)
        seen: Counter[str] = Counter()
        while queue and len(self.visited) < max_pages:
            url, found_on = queue.popleft()
            status, body = self.request("GET", url, found_on)
            self.visited[url] = status
            if 400 <= status < 500 and found_on != "(start)":  # a walk writes nothing: no link vanishes during it
                self.problems.append(Problem(self.role, "GET", url, status, found_on, "a broken link"))
            for link in sorted(set(parse(body).links)) if status == 200 else [self.location] if self.location else ():
                target = same_origin("http://localhost" + url, link)
                if target is None or target in queued or target.startswith(NEVER):
                    continue
                kind = (is_download(target), shape(target))
                if seen[kind] < (per_download_shape if kind[0] else per_shape):
                    seen[kind] += 1
                    queued.add(target)
                    queue.append((target, url))
