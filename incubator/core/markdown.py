"""Markdown that members write (CommonMark), rendered so that it can never carry markup of its own.

Raw HTML is off (``<script>`` shows as text), links go only to ``http``, ``https`` and ``mailto``
(any other destination leaves the link as plain text), and there are no images (a letter does not load
pictures from elsewhere). ``{placeholder}`` values are put in after parsing, into the text the parser
found, so a value is always text: an applicant called ``**bold**`` or ``<b>`` reads exactly so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote

from markdown_it import MarkdownIt
from markdown_it.token import Token

PLACEHOLDER = re.compile(r"{(\w+)}")
# A placeholder in a link's destination, as the parser percent-encodes it ({ and }).
ENCODED_PLACEHOLDER = re.compile(r"%7B(\w+)%7D")
LINK_SCHEMES = ("http:", "https:", "mailto:")
# Tokens whose content the renderer escapes as text.
TEXT_TOKENS = {"text", "code_inline", "code_block", "fence"}


def fill(text: str, values: dict[str, str]) -> str:
    """Replace ``{placeholder}``s by plain substitution (no format mini-language, nothing else evaluated);
    an unknown one is left as written."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


class _Parser(MarkdownIt):
    def validateLink(self, url: str) -> bool:  # noqa: N802 (markdown-it's name)
        return url.strip().lower().startswith(LINK_SCHEMES)


def _parser() -> MarkdownIt:
    # breaks: a single line break is kept (letters were plain text, and a signature is written line by line).
    parser = _Parser("commonmark", {"html": False, "breaks": True})
    parser.disable("image")
    return parser


PARSER = _parser()


def _fill_tokens(tokens: Iterable[Token], values: dict[str, str]) -> None:
    for token in tokens:
        if token.type in TEXT_TOKENS:
            token.content = fill(token.content, values)
        elif token.type == "link_open":
            href = str(token.attrGet("href") or "")
            # The scheme was checked before any value is in: a value only ever lands in the path or query.
            token.attrSet("href", ENCODED_PLACEHOLDER.sub(
                lambda m: quote(values[m.group(1)], safe="") if m.group(1) in values else m.group(0), href))
        if token.children:
            _fill_tokens(token.children, values)


def render(source: str, values: dict[str, str] | None = None) -> str:
    """``source`` (Markdown with ``{placeholder}``s) as an HTML fragment, ``values`` filled in as text."""
    tokens = PARSER.parse(source)
    _fill_tokens(tokens, values or {})
    return str(PARSER.renderer.render(tokens, PARSER.options, {}))
