"""HTML to text with the standard library's HTML parser: structure becomes line breaks."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_DROPPED = {"script", "style", "noscript", "template", "head", "svg", "iframe", "object"}
_BLOCK = {
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "fieldset",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tr", "ul",
}  # fmt: skip
_CELL = {"td", "th"}
_SPACES = re.compile(r"[ \t\n\r\f\v]+")  # HTML whitespace: a source line break is a space
_TITLE = "title"


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self._dropped_depth = 0
        self._in_title = False
        self._pre_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == _TITLE:
            self._in_title = True
        elif tag in _DROPPED:
            self._dropped_depth += 1
        elif tag in _BLOCK:
            self.parts.append("\n\n" if tag in {"p", "h1", "h2", "h3", "h4", "table"} else "\n")
            if tag == "pre":
                self._pre_depth += 1
        elif tag in _CELL:
            self.parts.append("\t")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"br", "hr"}:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == _TITLE:
            self._in_title = False
        elif tag in _DROPPED:
            self._dropped_depth = max(0, self._dropped_depth - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")
            if tag == "pre":
                self._pre_depth = max(0, self._pre_depth - 1)

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        elif not self._dropped_depth:
            self.parts.append(data if self._pre_depth else _SPACES.sub(" ", data))


def html_to_text(markup: str) -> str:
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    body = "".join(collector.parts)
    lines = [line.strip(" ") for line in body.split("\n")]
    text = "\n".join(lines)
    title = " ".join("".join(collector.title).split())
    # The title is content only when the body does not already start with it.
    if title and not text.lstrip().startswith(title):
        text = f"{title}\n\n{text}"
    return text
