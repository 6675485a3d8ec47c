"""The forms of an HTML page with the values a browser would submit (for the soak clients)."""

from __future__ import annotations

from html.parser import HTMLParser


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str | None, dict]] = []
        self.current: dict | None = None
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.current = {"_choices": {}, "_buttons": []}
            self.forms.append((a.get("action"), self.current))
            return
        if self.current is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image"):
                self.current["_buttons"].append(name)
            elif kind in ("checkbox", "radio"):
                self.current["_choices"].setdefault(name, []).append(a.get("value", "on"))
                if "checked" in a:
                    self.current[name] = a.get("value", "on")
            else:
                self.current[name] = a.get("value") or ""
        elif tag == "button" and name:
            self.current["_buttons"].append(name)
        elif tag == "select" and name:
            self.select = name
            self.current["_choices"][name] = []
        elif tag == "option" and self.select:
            value = a.get("value", "")
            self.current["_choices"][self.select].append(value)
            if "selected" in a or self.select not in self.current:
                self.current[self.select] = value
        elif tag == "textarea" and name:
            self.textarea = name
            self.current[name] = ""

    def handle_data(self, data):
        if self.textarea and self.current is not None:
            self.current[self.textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def page_forms(html: str) -> list[tuple[str | None, dict]]:
    """[(action, {field: value, "_choices": {...}, "_buttons": [...]})] in page order."""
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def submittable(values: dict) -> dict:
    """The values without the parser's bookkeeping keys."""
    return {k: v for k, v in values.items() if not k.startswith("_")}
