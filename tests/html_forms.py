"""A page as the crawler reads it: links, forms with the values a browser would send, texts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

# Attributes whose text a user reads (or hears: aria-label).
UI_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "data-confirm", "data-error"}
LITERAL = {"code", "kbd", "pre", "samp"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


@dataclass
class Field:
    name: str
    value: str


@dataclass
class Button:
    name: str | None
    value: str
    action: str | None = None
    method: str | None = None
    label: str = ""


@dataclass
class Form:
    action: str
    method: str
    enctype: str
    element_id: str | None
    fields: list[Field] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)

    def submissions(self) -> Iterator[Submission]:
        """One submission per distinct submit button, or one without a button."""
        pairs = [(f.name, f.value) for f in self.fields]
        seen = set()
        for button in self.buttons or [Button(None, "")]:
            key = (button.name, button.value, button.action, button.method)
            if key in seen:
                continue
            seen.add(key)
            pressed = (button.name, button.value) if button.name else None
            yield Submission(
                method=(button.method or self.method).upper(),
                action=button.action or self.action,
                pairs=pairs + ([pressed] if pressed else []),
                button=pressed,
                label=" ".join(button.label.split()),
                multipart="multipart" in self.enctype,
            )


@dataclass
class Submission:
    method: str
    action: str
    pairs: list[tuple[str, str]]
    button: tuple[str, str] | None
    label: str
    multipart: bool


@dataclass
class Text:
    text: str
    where: str  # the enclosing tags, e.g. "nav>a"
    ui: bool  # a label a user reads (not a form's prefilled value)


@dataclass
class Page:
    lang: str | None = None
    links: list[str] = field(default_factory=list)
    forms: list[Form] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)


class PageParser(HTMLParser):
    """Links, forms with the values a browser would send, and the texts of one page."""

    def __init__(self, url: str):
        super().__init__(convert_charrefs=True)
        self.url = url
        self.page = Page()
        self.stack: list[str] = []
        self.form: Form | None = None
        self.forms_by_id: dict[str, Form] = {}
        self.orphans: list[tuple[str, Callable[[Form], None]]] = []
        self.select: dict | None = None
        self.option: dict | None = None
        self.textarea: dict | None = None
        self.button: Button | None = None
        self.skip_text = 0

    # -- structure
    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        where = ">".join([*self.stack[-3:], tag])
        for name in UI_ATTRIBUTES & a.keys():
            self.page.texts.append(Text(a[name], f"{where}[{name}]", ui=True))
        for name, value in a.items():
            if name not in UI_ATTRIBUTES and name not in ("href", "action", "class", "id"):
                # data in attributes (prefilled values, data-*) is read by the scope check
                self.page.texts.append(Text(value, f"{where}[{name}]", ui=False))
        if tag == "html":
            self.page.lang = a.get("lang")
        elif tag in ("script", "style"):
            self.skip_text += 1
        elif tag == "a" and a.get("href"):
            self.page.links.append(a["href"])
        elif tag == "form":
            self.form = Form(
                action=a.get("action") or self.url,
                method=(a.get("method") or "get").upper(),
                enctype=a.get("enctype") or "application/x-www-form-urlencoded",
                element_id=a.get("id"),
            )
            self.page.forms.append(self.form)
            if a.get("id"):
                self.forms_by_id[a["id"]] = self.form
        elif tag == "input":
            self._input(a)
        elif tag == "select":
            self.select = {"attrs": a, "options": []}
        elif tag == "option" and self.select is not None:
            self.option = {"attrs": a, "text": ""}
        elif tag == "textarea":
            self.textarea = {"attrs": a, "text": ""}
        elif tag == "button" and a.get("type", "submit") == "submit" and "disabled" not in a:
            self.button = Button(
                a.get("name") or None,
                a.get("value", ""),
                a.get("formaction"),
                a.get("formmethod"),
            )
            self._attach(a, lambda form, b=self.button: form.buttons.append(b))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self.skip_text:
            self.skip_text -= 1
        elif tag == "form":
            self.form = None
        elif tag == "option" and self.option is not None:
            self.select["options"].append(self.option)
            self.option = None
        elif tag == "select" and self.select is not None:
            self._finish_select()
        elif tag == "textarea" and self.textarea is not None:
            a = self.textarea["attrs"]
            text = self.textarea["text"]
            text = text[1:] if text.startswith("\n") else text  # as the HTML parser of a browser
            if a.get("name") and "disabled" not in a:
                self._attach(a, lambda form: form.fields.append(Field(a["name"], text)))
            self.textarea = None
        elif tag == "button" and self.button is not None:
            self.button = None
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        if self.skip_text:
            return
        if self.option is not None:
            self.option["text"] += data
        if self.textarea is not None:
            self.textarea["text"] += data
            self.page.texts.append(Text(data, "textarea", ui=False))
            return
        if self.button is not None:
            self.button.label += data
        if data.strip():
            # Commands and file formats read the same in either language.
            ui = not LITERAL.intersection(self.stack)
            self.page.texts.append(Text(data, ">".join(self.stack[-4:]), ui=ui))

    def close(self):
        super().close()
        for form_id, attach in self.orphans:
            if form_id in self.forms_by_id:
                attach(self.forms_by_id[form_id])

    # -- fields
    def _attach(self, a: dict, attach: Callable[[Form], None]) -> None:
        if a.get("form"):
            self.orphans.append((a["form"], attach))
        elif self.form is not None:
            attach(self.form)

    def _input(self, a: dict) -> None:
        kind = a.get("type", "text").lower()
        name = a.get("name")
        if "disabled" in a:
            return
        if kind in ("submit", "image"):
            button = Button(
                name or None, a.get("value", ""), a.get("formaction"), a.get("formmethod")
            )
            button.label = a.get("value", "")
            self.page.texts.append(Text(a.get("value", ""), "input[submit]", ui=True))
            self._attach(a, lambda form: form.buttons.append(button))
            return
        if not name or kind in ("button", "reset", "file"):
            return
        if kind in ("checkbox", "radio"):
            if "checked" in a:
                self._attach(a, lambda form: form.fields.append(Field(name, a.get("value", "on"))))
            return
        self._attach(a, lambda form: form.fields.append(Field(name, a.get("value", ""))))

    def _finish_select(self) -> None:
        a, options = self.select["attrs"], self.select["options"]
        self.select = None
        name = a.get("name")
        if not name or "disabled" in a:
            return

        def value(option):
            return option["attrs"].get("value", option["text"].strip())

        chosen = [o for o in options if "selected" in o["attrs"]]
        if not chosen and "multiple" not in a:
            chosen = [o for o in options if "disabled" not in o["attrs"]][:1]
        for chosen_value in [value(option) for option in chosen]:
            self._attach(a, lambda form, v=chosen_value: form.fields.append(Field(name, v)))


def parse_page(html: str, url: str) -> Page:
    parser = PageParser(url)
    parser.feed(html)
    parser.close()
    return parser.page
