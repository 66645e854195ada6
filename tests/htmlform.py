"""Read a page's form as a browser would submit it (for tests that post big forms)."""

from __future__ import annotations

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self, testid: str | None):
        super().__init__(convert_charrefs=True)
        self.testid = testid
        self.inside = testid is None
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._first_option: str | None = None
        self._selected = False
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self.testid is not None and attrs.get("data-testid") == self.testid:
            self.inside = True
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.fields[name] = attrs.get("value", "y")
            elif kind != "submit":
                self.fields[name] = attrs.get("value") or ""
        elif tag == "select" and name:
            self._select, self._first_option, self._selected = name, None, False
        elif tag == "option" and self._select:
            value = attrs.get("value", "")
            if self._first_option is None:
                self._first_option = value
                self.fields[self._select] = value
            if "selected" in attrs:
                self.fields[self._select] = value
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self.testid is not None and self.inside:
            self.inside = False

    def handle_data(self, data):
        if self._textarea:
            # a browser drops the line break that follows <textarea> (WTForms writes \r\n)
            self.fields[self._textarea] += data.removeprefix("\r").removeprefix("\n") \
                if not self.fields[self._textarea] else data


def form_fields(html: str, testid: str | None = None) -> dict[str, str]:
    """The name → value pairs a browser would send for the form (`data-testid`), as shown."""
    reader = _FormReader(testid)
    reader.feed(html)
    return reader.fields
