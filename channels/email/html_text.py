"""HTML mail -> plain text, with the standard library's HTMLParser.

Enough for what customers write: paragraphs and line breaks, lists, links (their address
after the text), entities. Scripts, styles and the quoted history that mail clients wrap in
markup (blockquote, Gmail's gmail_quote, Thunderbird's moz-cite-prefix, Outlook's
divRplyFwdMsg, Yahoo's yahoo_quoted) are left out. Never raises on bad markup.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIPPED_TAGS = frozenset({"script", "style", "head", "title", "template", "blockquote"})
_QUOTE_MARKERS = ("gmail_quote", "moz-cite-prefix", "yahoo_quoted", "divrplyfwdmsg",
                  "outlookmessageheader", "protonmail_quote", "zmail_extra")
_BLOCK_TAGS = frozenset({
    "p", "div", "br", "li", "tr", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6",
    "pre", "hr", "section", "article", "header", "footer", "address", "dd", "dt", "dl",
})
_VOID_TAGS = frozenset({"br", "hr", "img", "meta", "link", "input", "col", "area", "base",
                        "wbr", "source", "embed", "param", "track"})
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
# What HTMLParser may see after a "<": a construct that ends with ">" before the next "<"
# (quoted attribute values hold no "<"). It reads an unfinished one again from every later
# "<" (100,000 of "<a" took 40 s, 20,000 of '<a b="x>" ' two minutes); any other "<" is text.
_CONSTRUCT = re.compile(
    r"""</?[a-zA-Z](?:[^<>"']|"[^"<]*"|'[^'<]*')*>"""  # a start or end tag
    r"|<![a-zA-Z][^<>]*>"  # <!DOCTYPE html>
    r"|<!\[(?:if|else|endif)\b[^<>\]]*\]\s*>"  # Word's <![if !supportLists]>
    r"|<\?[^<>]*>",  # <?xml ...>
    re.IGNORECASE,
)
_BRACKET = re.compile("<")
_COMMENT_START, _COMMENT_END = "<!--", "-->"


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_tag: str | None = None
        self._skip_depth = 0
        self._pre = 0
        self._href: str | None = None
        self._link_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip_tag is not None:
            if tag == self._skip_tag and tag not in _VOID_TAGS:
                self._skip_depth += 1
            return
        if tag in _SKIPPED_TAGS or _is_quote(attrs):
            if tag not in _VOID_TAGS:
                self._skip_tag, self._skip_depth = tag, 1
            return
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")
        elif tag == "pre":
            self._pre += 1
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self._href = href if href.startswith(("http://", "https://")) else None
            self._link_text = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID_TAGS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._skip_tag is not None:
            if tag == self._skip_tag:
                self._skip_depth -= 1
                if self._skip_depth == 0:
                    self._skip_tag = None
            return
        if tag == "a" and self._href is not None:
            if self._href not in "".join(self._link_text):
                self.parts.append(f" ({self._href})")
            self._href = None
        elif tag == "pre" and self._pre:
            self._pre -= 1
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip_tag is not None:
            return
        text = data if self._pre else _SPACES.sub(" ", data.replace("\n", " "))
        self.parts.append(text)
        if self._href is not None:
            self._link_text.append(text)


def _is_quote(attrs: list[tuple[str, str | None]]) -> bool:
    for name, value in attrs:
        if name in ("class", "id") and value:
            lowered = value.lower()
            if any(marker in lowered for marker in _QUOTE_MARKERS):
                return True
        if name == "type" and (value or "").lower() == "cite":
            return True
    return False


def _without_stray_brackets(html: str) -> str:
    """Every "<" that starts no finished construct as "&lt;". A comment's start stays when a
    comment end follows somewhere: the parser reads up to it in one go (Outlook writes
    "<!--[if !mso]><!-->" and "<!--<![endif]-->")."""
    last_end = html.rfind(_COMMENT_END)

    def checked(bracket: re.Match[str]) -> str:
        start = bracket.start()
        if start < last_end and html.startswith(_COMMENT_START, start):
            return "<"
        return "<" if _CONSTRUCT.match(html, start) else "&lt;"

    return _BRACKET.sub(checked, html)


def html_to_text(html: str) -> str:
    collector = _TextCollector()
    try:
        collector.feed(_without_stray_brackets(html))
        collector.close()
    except Exception:  # HTMLParser is lenient; keep what was read if it still gives up
        pass
    lines = [line.strip() for line in "".join(collector.parts).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
