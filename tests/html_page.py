"""Reading a rendered HTML report in tests: its tags and visible text, its images,
and the assertion that it loads nothing from anywhere."""

from __future__ import annotations

import base64
import io
from html.parser import HTMLParser

import matplotlib.image
import numpy as np

from grader.report import plots

BLUE, ORANGE = plots._rgb(plots.PLAYGROUND_BLUE), plots._rgb(plots.PLAYGROUND_ORANGE)


class Page(HTMLParser):
    """Every start tag with its attributes, and the text, of a rendered page."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.doctype = ""
        self._open: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._open.append(tag)

    def handle_endtag(self, tag):
        if tag in self._open:
            del self._open[len(self._open) - 1 - self._open[::-1].index(tag):]

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        if not {"style", "title"} & set(self._open):  # what the reader sees
            self.text.append(data)

    def handle_decl(self, decl):
        self.doctype = decl

    def all(self, tag: str) -> list[dict]:
        return [attrs for name, attrs in self.tags if name == tag]

    @property
    def plain(self) -> str:
        return "".join(self.text)


def images(page: Page) -> list[np.ndarray]:
    """The page's images, decoded (every one must be an inline PNG)."""
    decoded = []
    for img in page.all("img"):
        prefix = "data:image/png;base64,"
        assert img["src"].startswith(prefix)
        data = base64.b64decode(img["src"][len(prefix):], validate=True)
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        decoded.append(matplotlib.image.imread(io.BytesIO(data), format="png")[..., :3])
    return decoded


def near(image: np.ndarray, colour: np.ndarray, tolerance: float = 0.06) -> np.ndarray:
    return (np.abs(image - colour) <= tolerance).all(axis=-1)


def assert_self_contained(text: str) -> None:
    """Nothing in the page can load anything: no script, no external URL anywhere."""
    page = Page(text)
    assert page.doctype.lower() == "doctype html"
    for bad in ("http://", "https://", 'src="//', "href=", "url(", "@import", "<script",
                "<link", "<iframe", "<object", "<embed", "srcset"):
        assert bad not in text.lower(), bad
    for tag, attrs in page.tags:
        assert tag not in ("script", "link", "iframe", "object", "embed", "base", "form")
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        if "src" in attrs:
            assert tag == "img" and attrs["src"].startswith("data:image/png;base64,")
    (csp,) = [m for m in page.all("meta") if m.get("http-equiv") == "Content-Security-Policy"]
    assert csp["content"] == "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
