"""A crawler that signs in, opens every page it can reach and submits every form it sees.

It drives the app through Flask's test client, as a browser would: links and forms
come only from the HTML the app rendered, and a form is sent with the values the
page filled in (its CSRF token included). What it reports:

- any 5xx, and any other 4xx than the ones a user can cause on purpose: a form the
  app rendered that answers 400 ("the form expired") is the classic sign of a
  template module or form class that kept one request's token;
- text of the other language: Chinese characters on an English page that are not
  data (names, notes ... read from the database), English msgids of the catalog
  on a Chinese page;
- a customer name outside the viewer's scope anywhere on a page.

Requests run in an empty `contextvars.Context`: every request then pushes its own
application context (its own `g` and database session) as in production, rather
than sharing the test's, which would hide or fake per-request state.

Reusable outside pytest (e.g. by a benchmark): `crawl_as(app, [(username, password,
language), ...])` returns one `Crawler` per user, with its `findings`, `pages`,
`submitted` and `reached` endpoints. Pages are parsed by tests/html_forms.py and
judged with tests/page_texts.py.
"""

from __future__ import annotations

import contextvars
import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from tests.html_forms import Page, Submission, Text, parse_page
from tests.page_texts import CJK_RUN, Catalog, DataText, ScopeOracle, normal

LANGUAGE_NAMES = {"中文", "English"}  # the language switch names each language in itself
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}

ENGLISH_WORDS = re.compile(r"[A-Za-z][a-z]+(?:[ -][A-Za-z][a-z']*)+")

# Forms that end or reshape the crawl's own session: sent on purpose, not as found.
SESSION_FORMS = {"auth.logout", "auth.set_language", "auth.login"}
# Verbs of forms that destroy or undo: sent after everything else.
DESTRUCTIVE = ("delete", "deactivate", "retire", "remove", "undo", "decline", "dismiss", "revoke")


# The crawl -------------------------------------------------------------------


@dataclass
class Finding:
    who: str
    method: str
    url: str
    via: str
    problem: str

    def __str__(self) -> str:
        return f"{self.who}: {self.method} {self.url} (via {self.via}): {self.problem}"


@dataclass
class FormSeen:
    page_url: str
    signature: tuple
    endpoint: str
    destructive: bool


class Crawler:
    """One user in one language: sign in, open every page once per shape, send every form."""

    def __init__(
        self,
        app: Flask,
        *,
        username: str,
        password: str,
        language: str,
        catalog: Catalog,
        data: DataText,
        max_pages: int = 150,
        max_forms: int = 150,
        per_shape: int = 1,
        skip_form: Callable[[str, dict, list[tuple[str, str]]], bool] | None = None,
        bilingual: tuple[str, ...] = ("reference.", "stages.", "document_kinds."),
    ):
        self.app = app
        self.client = FlaskClient(app, app.response_class, use_cookies=True)
        self.username, self.password, self.language = username, password, language
        self.catalog, self.data = catalog, data
        self.scope = ScopeOracle(app, username)
        self.max_pages, self.per_shape, self.max_forms = max_pages, per_shape, max_forms
        self.skip_form = skip_form or (lambda endpoint, args, pairs: False)
        # Pages that edit a record's names in both languages show both.
        self.bilingual = bilingual
        self.adapter = app.url_map.bind("localhost")
        self.findings: list[Finding] = []
        self._reported: set[tuple] = set()
        self.pages: list[str] = []
        self.submitted: list[str] = []
        self.requests = 0
        self.seconds = 0.0
        self._context = contextvars.Context()  # no app context: each request makes its own
        self._scope_fresh = False
        self._states = 0  # bumped by every form that changed something, and by signing in
        self._seen_pages: dict[str, tuple[int, Page]] = {}  # url -> (state, page) when seen
        self._forms: dict[tuple, FormSeen] = {}  # every form seen, by signature
        self._pending: list[FormSeen] = []  # those not sent yet

    @property
    def reached(self) -> set[str]:
        """The endpoints of the pages opened and of the forms sent."""
        pages = {self._endpoint(url) for url in self.pages}
        sent = {self._endpoint(s.split(" ", 1)[1], s.split(" ", 1)[0]) for s in self.submitted}
        return (pages | sent) - {None}

    @property
    def who(self) -> str:
        return f"{self.username}[{self.language}]"

    # -- requests
    def _request(self, method: str, url: str, **kwargs):
        started = time.perf_counter()
        response = self._context.run(self._open, url, method, kwargs)
        self.seconds += time.perf_counter() - started
        self.requests += 1
        return response

    def _open(self, url: str, method: str, kwargs: dict):
        response = self.client.open(url, method=method, **kwargs)
        response.get_data()  # a streamed body (CSV) runs in the request's context: read it here
        response.close()
        return response

    def route(self, url: str, method: str = "GET") -> tuple[str, dict] | None:
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost") or parts.scheme not in ("", "http", "https"):
            return None
        try:
            return self.adapter.match(parts.path, method=method)
        except RequestRedirect as redirect:
            return self.route(redirect.new_url, method)
        except HTTPException:
            return None

    def _endpoint(self, url: str, method: str = "GET") -> str | None:
        route = self.route(url, method)
        return route[0] if route else None

    def _local(self, url: str, base: str = "/") -> str | None:
        if not url or url.startswith(("#", "mailto:", "tel:", "javascript:", "data:")):
            return None
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost") or parts.scheme not in ("", "http", "https"):
            return None
        path = parts.path or urlsplit(base).path
        if not path.startswith("/"):
            path = urlsplit(base).path.rsplit("/", 1)[0] + "/" + path
        return path + (f"?{parts.query}" if parts.query else "")

    def _report(self, method: str, url: str, via: str, problem: str, key: tuple = ()) -> None:
        """Note a problem once per route: a label shown on every view of a page is one finding."""
        key = (method, self._endpoint(url, method) or url, key or problem)
        if key not in self._reported:
            self._reported.add(key)
            self.findings.append(Finding(self.who, method, url, via, problem))

    # -- signing in and the language
    def sign_in(self) -> None:
        response = self._request("GET", "/login")
        page = parse_page(response.get_data(as_text=True), "/login")
        form = next(f for f in page.forms if self._endpoint(f.action, "POST") == "auth.login")
        typed = {"username": self.username, "password": self.password}
        pairs = [(f.name, typed.get(f.name, f.value)) for f in form.fields]
        response = self._request("POST", form.action, data=MultiDict(pairs))
        self.submitted.append(f"POST {form.action}")
        self._states += 1  # a new session: tokens of pages seen before are void
        if response.status_code != 302:
            raise AssertionError(f"{self.who} could not sign in: {response.status_code}")
        self.use_language(self.language)

    def use_language(self, language: str) -> None:
        """Choose the language with the switch the pages show (it is kept on the account)."""
        response = self._request("GET", "/")
        page = parse_page(response.get_data(as_text=True), "/")
        if page.lang == HTML_LANG[language]:
            return
        for form in page.forms:
            if self._endpoint(form.action, "POST") == "auth.set_language":
                for sub in form.submissions():
                    if sub.button == ("locale", language):
                        self._request(sub.method, sub.action, data=MultiDict(sub.pairs))
                        self.submitted.append(f"{sub.method} {sub.action}")
                        return
        raise AssertionError(f"{self.who}: no language switch to {language} on the home page")

    # -- what every page is checked for
    def check_page(self, method: str, url: str, via: str, response) -> Page | None:
        if "text/html" not in (response.content_type or ""):
            return None
        page = parse_page(response.get_data(as_text=True), url)
        expected = HTML_LANG[self.language]
        if page.lang != expected:
            self._report(method, url, via, f"page language {page.lang!r}, expected {expected!r}")
        if not self._scope_fresh:
            self.scope.load()
            self._scope_fresh = True
        endpoint = self._endpoint(url, method) or ""
        bilingual = endpoint.startswith(self.bilingual)
        # Handovers and work plans are the viewer's history: they may name a customer the
        # viewer's scope gave away since (a plan keeps what its manager meant to do).
        history = endpoint.startswith(("handovers.", "plans."))
        for text in page.texts:
            for name in self.scope.leaks(text.text, history=history):
                problem = f"customer outside the viewer's scope: {name!r} in <{text.where}>"
                self._report(method, url, via, problem, key=("scope", name))
            if text.ui:
                found = self._language_problem(text, bilingual)
                if found:
                    self._report(method, url, via, found[1], key=found[0])
        return page

    def _language_problem(self, text: Text, bilingual: bool) -> tuple[tuple, str] | None:
        """(what to report it once by, the message), or None when the text is fine."""
        value = normal(text.text)
        if not value or value in LANGUAGE_NAMES:
            return None
        if self.language == "en":
            runs = [r for r in CJK_RUN.findall(value) if not self.data.explains_cjk(r, bilingual)]
            if runs and self._reload_data():
                runs = [r for r in runs if not self.data.explains_cjk(r, bilingual)]
            if not runs:
                return None
            msgid = self.catalog.chinese.get(value)
            hint = f" (the translation of {msgid!r})" if msgid else ""
            message = f"Chinese on an English page: {value!r}{hint} in <{text.where}>"
            return ("zh", *runs), message
        if not re.search(r"[A-Za-z]{2}", value) or self.data.is_value(value, bilingual):
            return None
        msgid = self.catalog.english_msgid(text.text)
        if msgid is not None:
            message = f"untranslated English on a Chinese page: {value!r} (msgid {msgid!r})"
            return ("en", msgid), f"{message} in <{text.where}>"
        # Marked nowhere: English words, alone (in a Chinese sentence they name a command).
        if CJK_RUN.search(value) or not ENGLISH_WORDS.search(value):
            return None
        if self.data.is_value(value, bilingual) or (
            self._reload_data() and self.data.is_value(value, bilingual)
        ):
            return None
        return ("en", value), f"English words on a Chinese page: {value!r} in <{text.where}>"

    def _reload_data(self) -> bool:
        """Rows written by the crawl's own forms are data too: re-read once per change."""
        if getattr(self, "_data_state", None) == self._states:
            return False
        self._data_state = self._states
        self.data.load()
        return True

    # -- crawling
    def shape(self, endpoint: str, url: str) -> tuple:
        """A page as the crawl counts it: its route, with or without a query (filters, paging)."""
        return endpoint, bool(urlsplit(url).query)

    def crawl(self, start: str = "/") -> None:
        """Open pages breadth-first, then send the forms they showed (destructive ones last).

        A page shown after a form was sent may offer forms not seen before (undo,
        reactivate, revoke ...): they are sent too.
        """
        self._open_pages(start)
        while self._pending and len(self.submitted) < self.max_forms:
            seen = next((f for f in self._pending if not f.destructive), self._pending[0])
            self._pending.remove(seen)
            self._send(seen)
        self._sign_out()

    def _note_forms(self, url: str, page: Page) -> None:
        """Queue the page's POST forms not seen before (one per page, route, fields, button)."""
        for form in page.forms:
            for sub in form.submissions():
                sub.action = self._local(sub.action, url) or url
                if sub.method == "GET":
                    continue
                seen = self._form_seen(url, sub)
                if seen is not None and seen.signature not in self._forms:
                    self._forms[seen.signature] = seen
                    self._pending.append(seen)

    def _open_pages(self, start: str) -> None:
        queue: deque[tuple[str, str]] = deque([(start, "start")])
        shapes: dict[tuple, int] = {}
        queued = {start}
        while queue and len(self.pages) < self.max_pages:
            url, via = queue.popleft()
            route = self.route(url)
            if route is None or route[0] == "static":
                continue
            shape = self.shape(route[0], url)
            if shapes.get(shape, 0) >= self.per_shape:
                continue
            shapes[shape] = shapes.get(shape, 0) + 1
            response = self._get(url, via)
            if response is None:
                continue
            self.pages.append(url)
            page = self.check_page("GET", url, via, response)
            if page is None:
                continue
            self._seen_pages[url] = (self._states, page)
            for href in page.links:
                local = self._local(href, url)
                if local and local not in queued:
                    queued.add(local)
                    queue.append((local, url))
            for form in page.forms:
                for sub in form.submissions():
                    if sub.method != "GET":
                        continue
                    # A filter or a search: one more page, with the values it shows.
                    target = (self._local(sub.action, url) or url).split("?")[0]
                    target += "?" + urlencode(sub.pairs) if sub.pairs else ""
                    if target not in queued:
                        queued.add(target)
                        queue.append((target, f"form on {url}"))
            self._note_forms(url, page)

    def _form_seen(self, page_url: str, sub: Submission) -> FormSeen | None:
        route = self.route(sub.action, sub.method)
        if route is None:
            self._report(sub.method, sub.action, page_url, "a form sends to a URL no route answers")
            return None
        endpoint = route[0]
        if endpoint in SESSION_FORMS:
            return None
        # One form per route, field names and button: the same form on every row of a list
        # is sent once.
        # Per page too: the same form imported by another page can break there alone.
        names = tuple(sorted({name for name, _ in sub.pairs}))
        signature = (self._endpoint(page_url), sub.method, endpoint, names, sub.button)
        destructive = any(verb in endpoint.split(".")[-1] for verb in DESTRUCTIVE)
        return FormSeen(page_url, signature, endpoint, destructive)

    def _get(self, url: str, via: str):
        response = self._request("GET", url)
        if response.status_code in (301, 302, 303, 307, 308):
            target = self._local(response.location, url)
            if target and self.route(target) and self.route(target)[0] == "auth.login":
                self._report("GET", url, via, "signed out: the page sent the crawler to sign in")
                self.sign_in()
                return None
            return response
        if response.status_code >= 400:
            self._report("GET", url, via, f"answered {response.status_code}")
            return None
        return response

    def _send(self, seen: FormSeen) -> None:
        """Send the form as its page shows it now (opened again if anything changed since)."""
        state, page = self._seen_pages.get(seen.page_url, (None, None))
        if state != self._states:
            response = self._request("GET", seen.page_url)
            if response.status_code != 200:
                return  # the page went away with an earlier form (a deleted record)
            page = parse_page(response.get_data(as_text=True), seen.page_url)
            self._seen_pages[seen.page_url] = (self._states, page)
        for form in page.forms:
            for sub in form.submissions():
                sub.action = self._local(sub.action, seen.page_url) or seen.page_url
                if sub.method == "GET":
                    continue
                again = self._form_seen(seen.page_url, sub)
                if again is None or again.signature != seen.signature:
                    continue
                route = self.route(sub.action, sub.method)
                if not self.skip_form(route[0], route[1], sub.pairs):
                    self._submit(sub, seen)
                return

    def _submit(self, sub: Submission, seen: FormSeen, *, confirming: bool = False) -> None:
        method, action = sub.method, sub.action
        via = f"form on {seen.page_url}" + (f" [{sub.label}]" if sub.label else "")
        kwargs = {"data": MultiDict(sub.pairs)}
        if sub.multipart:
            kwargs["content_type"] = "multipart/form-data"
        response = self._request(method, action, **kwargs)
        self.submitted.append(f"{method} {action}")
        status = response.status_code
        if status in (301, 302, 303, 307, 308):
            self._after_redirect(response, action, via)
            return
        page = self.check_page(method, action, via, response) if status < 500 else None
        endpoint = self._endpoint(action, method)
        again = [  # the same form shown again: to correct it, or to confirm it
            s
            for form in (page.forms if page else [])
            for s in form.submissions()
            if self._endpoint(self._local(s.action, action) or action, s.method) == endpoint
        ]
        refusal = self._refusal(response)  # a token refused, whatever the status says
        if status >= 500 or status in (403, 404, 405, 409) or (status == 400 and not again):
            self._report(method, action, via, f"answered {status}{refusal}")
            return
        if refusal:
            self._report(method, action, via, f"answered {status}{refusal}")
            return
        sent = {name for name, _ in sub.pairs}
        asks_more = [s for s in again if {name for name, _ in s.pairs} - sent]
        if asks_more and not confirming:  # "are you sure?": say yes, once
            follow = asks_more[0]
            follow.action = self._local(follow.action, action) or action
            self._submit(follow, FormSeen(action, seen.signature, endpoint, True), confirming=True)

    def _refusal(self, response) -> str:
        body = " ".join(response.get_data(as_text=True).split())
        for marker in self.catalog.expired:
            if marker in body:
                return f" ({marker!r})"
        return ""

    def _after_redirect(self, response, action: str, via: str) -> None:
        self._states += 1
        self._scope_fresh = False
        target = self._local(response.location, action)
        if target is None:
            return
        if self._endpoint(target) == "auth.login":
            self._report("POST", action, via, "signed the crawler out")
            self.sign_in()
            return
        landed = self._request("GET", target)
        if landed.status_code >= 400:
            problem = f"answered {landed.status_code}"
            self._report("GET", target, f"redirect after {via}", problem)
            return
        refusal = self._refusal(landed)  # "the form expired" flashed on the next page
        if refusal:
            self._report("POST", action, via, f"redirected to {target} saying{refusal}")
        page = self.check_page("GET", target, f"redirect after {via}", landed)
        if page is not None:
            self._seen_pages[target] = (self._states, page)
            self._note_forms(target, page)

    def _sign_out(self) -> None:
        """Sign out last, with the navigation's form; the next page must ask to sign in."""
        response = self._request("GET", "/")
        page = parse_page(response.get_data(as_text=True), "/")
        for form in page.forms:
            if self._endpoint(form.action, "POST") == "auth.logout":
                sub = next(form.submissions())
                response = self._request(sub.method, sub.action, data=MultiDict(sub.pairs))
                self.submitted.append(f"{sub.method} {sub.action}")
                if response.status_code != 302:
                    problem = f"signing out answered {response.status_code}"
                    self._report(sub.method, sub.action, "the navigation", problem)
                after = self._request("GET", "/")
                if after.status_code != 302 or "/login" not in after.location:
                    self._report("GET", "/", "sign out", "still signed in after signing out")
                return
        self._report("GET", "/", "the navigation", "no sign-out form")


def crawl_as(
    app: Flask,
    users: Iterable[tuple[str, str, str]],
    **options,
) -> list[Crawler]:
    """Crawl as each (username, password, language) in turn, in this one app (one process)."""
    catalog = options.pop("catalog", None) or Catalog.load()
    data = options.pop("data", None) or DataText(app)
    crawlers = []
    for username, password, language in users:
        crawler = Crawler(
            app,
            username=username,
            password=password,
            language=language,
            catalog=catalog,
            data=data,
            **options,
        )
        crawler.sign_in()
        crawler.crawl()
        crawlers.append(crawler)
    return crawlers
