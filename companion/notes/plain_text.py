"""A note's sanitised HTML as readable plain text, for the text part of emails: paragraphs
apart, lists as "- " and "1. ", links as "text (address)", quotes as "> ", no tags and no
Markdown marks. Pure (the standard library's HTML parser), no Flask."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from companion.notes.markdown import render_markdown

_BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "hr", "ul", "ol"}


class _PlainText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.line = ""
        #: One entry per open list: the next number, or None for bullets.
        self.lists: list[int | None] = []
        #: The open list item's marker (for its first line) and hanging indent (the rest).
        self.marker = ""
        self.hang = ""
        self.links: list[tuple[str, int]] = []
        self.pre = 0
        self.quote = 0

    def _flush(self) -> None:
        text = self.line if self.pre else " ".join(self.line.split())
        self.line = ""
        if not text.strip() and not self.marker:
            return
        indent = "  " * max(len(self.lists) - 1, 0)
        for number, part in enumerate(text.split("\n") if self.pre else [text]):
            lead = self.marker if number == 0 and self.marker else self.hang
            self.lines.append(("> " * self.quote + indent + lead + part).rstrip())
        self.marker = ""

    def _break(self) -> None:
        """End the block: a blank line follows it (not between a list's items)."""
        self._flush()
        if self.lines and self.lines[-1].strip(">") and not self.lists:
            self.lines.append(">" * self.quote)  # (inside a quote its blank line is ">")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self._break()
        if tag in ("ul", "ol"):
            start = dict(attrs).get("start") or "1"
            # ASCII digits only: str.isdigit() also takes "²", which int() refuses.
            first = int(start) if re.fullmatch(r"[0-9]{1,9}", start) else 1
            self.lists.append(first if tag == "ol" else None)
        elif tag == "li":
            self._flush()
            number = self.lists[-1] if self.lists else None
            self.marker = "- " if number is None else f"{number}. "
            if number is not None:
                self.lists[-1] = number + 1
            self.hang = " " * len(self.marker)
        elif tag == "br":
            self._flush()
        elif tag == "hr":
            self.lines += ["----", ""]
        elif tag == "pre":
            self.pre += 1
        elif tag == "blockquote":
            self.quote += 1
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self.line)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.links:
            href, start = self.links.pop()
            text = " ".join(self.line[start:].split())
            if href and text not in (href, href.removeprefix("mailto:")):
                self.line += f" ({href})"
        elif tag == "li":
            self._flush()
            self.hang = ""
        elif tag in ("ul", "ol"):
            self._flush()
            if self.lists:
                self.lists.pop()
            if not self.lists:
                self._break()
        elif tag == "pre":
            self._break()
            self.pre = max(self.pre - 1, 0)
        elif tag == "blockquote":
            self._flush()
            while self.lines and self.lines[-1] == ">" * self.quote:
                self.lines.pop()
            self.quote = max(self.quote - 1, 0)
            self._break()
        elif tag in _BLOCKS:
            self._break()

    def handle_data(self, data: str) -> None:
        self.line += data

    def text(self) -> str:
        self._flush()
        out: list[str] = []
        for line in self.lines:
            if line or (out and out[-1]):  # never two blank lines, none at the start
                out.append(line)
        return "\n".join(out).strip("\n")


def html_to_text(html: str) -> str:
    """Sanitised note HTML as plain text."""
    parser = _PlainText()
    parser.feed(html)
    parser.close()
    return parser.text()


def markdown_to_text(source: str) -> str:
    """A note's Markdown (with any HTML in it) as plain text, by way of the same sanitised HTML
    the pages and the HTML email show, so all three say the same."""
    return html_to_text(render_markdown(source))
