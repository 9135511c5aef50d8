"""Short Markdown to safe HTML: markdown-it renders, nh3 removes everything not on the list."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

#: Tags a note may keep. No images: notes go into emails, and remote images track readers.
ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "s", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}

# Raw HTML is passed through to nh3 (rather than escaped) so that `<b>` still works and
# `<script>` disappears instead of showing up as text; `breaks` keeps phone-typed line breaks.
_renderer = MarkdownIt("commonmark", {"html": True, "breaks": True})


def _image_as_link(
    renderer: RendererHTML, tokens: list[Token], index: int, options: OptionsDict, env: EnvType
) -> str:
    # An image becomes a link to it: emails must not load remote images (they track readers).
    token = tokens[index]
    src = escapeHtml(str(token.attrGet("src") or ""))
    alt = escapeHtml(renderer.renderInlineAsText(token.children or [], options, env))
    return f'<a href="{src}">{alt or src}</a>'


_renderer.add_render_rule("image", _image_as_link)


def sanitise_html(html: str) -> str:
    """Keep only the allowed tags and attributes; links get safe schemes and rel."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def render_markdown(text: str) -> str:
    """Markdown as sanitised HTML, safe to put into pages and emails."""
    if not text.strip():
        return ""
    return sanitise_html(_renderer.render(text)).strip()
