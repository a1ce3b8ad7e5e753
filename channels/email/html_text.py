"""HTML mail -> plain text, with the standard library's HTMLParser.

Enough for what customers write: paragraphs and line breaks, lists, links (their address
after the text), entities. Scripts, styles and the quoted history that mail clients wrap in
markup (blockquote, Gmail's gmail_quote, Thunderbird's moz-cite-prefix, Yahoo's
yahoo_quoted) are left out; after Outlook's divRplyFwdMsg or appendonsend everything is (on
the web the quoted body sits in a sibling block after the header). A blockquote marked
gmail_quote outside Gmail's quote container holds the customer's own text and stays.
`quotes=True` keeps the quotes too: for a mail that has nothing outside them (the caller then
cuts at the reply header in the text). Never raises on bad markup.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIPPED_TAGS = frozenset({"script", "style", "head", "title", "template", "blockquote"})
_QUOTE_MARKERS = ("gmail_quote", "moz-cite-prefix", "yahoo_quoted", "divrplyfwdmsg",
                  "outlookmessageheader", "protonmail_quote", "zmail_extra")
_REST_QUOTED_MARKERS = ("divrplyfwdmsg", "appendonsend")
# Where a line ends if it has text; a paragraph leaves a blank line; <br> always breaks.
_LINE, _PARAGRAPH, _BREAK = "\x1e", "\x1d", "\n"
_BLANK = "\x1c"  # "&nbsp;" alone: Outlook's empty line, a line with nothing visible on it
_BLOCK_TAGS = frozenset({
    "div", "li", "blockquote", "tr", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6",
    "pre", "hr", "section", "article", "header", "footer", "address", "dd", "dt", "dl",
})
_PARAGRAPH_TAGS = frozenset({"p"})
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
    def __init__(self, *, quotes: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._quotes = quotes
        self._skip_tag: str | None = None
        self._skip_depth = 0
        self._rest_quoted = False
        self._gmail_container = 0  # depth inside Gmail's div.gmail_quote
        self._open: list[str] = []  # the tags whose end counts the gmail container down
        self._pre = 0
        self._href: str | None = None
        self._link_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip_tag is not None:
            if tag == self._skip_tag and tag not in _VOID_TAGS:
                self._skip_depth += 1
            return
        if self._rest_quoted:
            return
        if not self._quotes and _marks_all_below(attrs):
            self._rest_quoted = True
            return
        gmail_container = tag != "blockquote" and _has_class(attrs, "gmail_quote")
        if not self._quotes and (tag in _SKIPPED_TAGS or _is_quote(attrs)) and \
                not self._own_gmail_blockquote(tag, attrs):
            if tag not in _VOID_TAGS:
                self._skip_tag, self._skip_depth = tag, 1
            return
        if self._quotes and tag in _SKIPPED_TAGS and tag != "blockquote":
            if tag not in _VOID_TAGS:
                self._skip_tag, self._skip_depth = tag, 1
            return
        if gmail_container and tag not in _VOID_TAGS:
            self._gmail_container += 1
            self._open.append(tag)
        self._block_start(tag, attrs)
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
        if self._rest_quoted:
            return
        if self._open and tag == self._open[-1]:
            self._open.pop()
            self._gmail_container -= 1
        if tag == "a" and self._href is not None:
            if self._href not in "".join(self._link_text):
                self.parts.append(f" ({self._href})")
            self._href = None
        elif tag == "pre" and self._pre:
            self._pre -= 1
        if tag in _BLOCK_TAGS or tag in _PARAGRAPH_TAGS:
            self.parts.append(_LINE)

    def handle_data(self, data: str) -> None:
        if self._skip_tag is not None or self._rest_quoted:
            return
        data = data.replace(_LINE, "").replace(_PARAGRAPH, "").replace(_BLANK, "")
        if not self._pre and "\xa0" in data and not data.strip():
            self.parts.append(_BLANK)
            return
        text = data if self._pre else _SPACES.sub(" ", data.replace("\n", " "))
        self.parts.append(text)
        if self._href is not None:
            self._link_text.append(text)

    def _block_start(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append(_BREAK)
        elif tag in _PARAGRAPH_TAGS and not _has_class(attrs, "msonormal"):
            self.parts.append(_PARAGRAPH)  # Outlook writes every line as a p.MsoNormal
        elif tag in _BLOCK_TAGS or tag in _PARAGRAPH_TAGS:
            self.parts.append(_LINE)

    def _own_gmail_blockquote(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        """Gmail quotes inside its div.gmail_quote, after the attribution; a gmail_quote
        blockquote outside one is text the customer wrote that way."""
        return tag == "blockquote" and self._gmail_container == 0 and \
            _has_class(attrs, "gmail_quote")


def _has_class(attrs: list[tuple[str, str | None]], name: str) -> bool:
    return any(key == "class" and value and name in value.lower().split()
               for key, value in attrs)


def _marks_all_below(attrs: list[tuple[str, str | None]]) -> bool:
    return any(key == "id" and value and value.lower() in _REST_QUOTED_MARKERS
               for key, value in attrs)


def _is_quote(attrs: list[tuple[str, str | None]]) -> bool:
    for name, value in attrs:
        if name in ("class", "id") and value:
            lowered = value.lower()
            if any(marker in lowered for marker in _QUOTE_MARKERS):
                return True
        if name == "type" and (value or "").lower() == "cite":
            return True
    return False


def _lines(parts: list[str]) -> str:
    """The collected pieces with the soft breaks resolved: a block ends a line only when the
    line has text, a paragraph leaves one blank line, <br> always breaks."""
    out: list[str] = []
    has_text = False  # the current line has text
    newlines = 2  # how many line ends precede (none is needed at the very start)
    for part in parts:
        if part == _LINE:
            if has_text:
                out.append("\n")
                has_text, newlines = False, 1
        elif part == _PARAGRAPH:
            missing = 2 - (0 if has_text else newlines)
            if missing > 0:
                out.append("\n" * missing)
            has_text, newlines = False, 2
        elif part == _BREAK:
            out.append("\n")
            has_text, newlines = False, 1 if has_text else newlines + 1
        elif part == _BLANK:
            has_text, newlines = True, 0
        elif part.strip():
            out.append(part)
            has_text, newlines = True, 0
        elif has_text:
            out.append(part)
    return "".join(out)


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


def html_to_text(html: str, *, quotes: bool = False) -> str:
    collector = _TextCollector(quotes=quotes)
    try:
        collector.feed(_without_stray_brackets(html))
        collector.close()
    except Exception:  # HTMLParser is lenient; keep what was read if it still gives up
        pass
    lines = [line.strip() for line in _lines(collector.parts).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
