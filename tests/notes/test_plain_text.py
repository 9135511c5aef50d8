"""Notes as plain text for emails: readable, no Markdown marks, no tags, nothing unsafe."""

from __future__ import annotations

import pytest

from companion.notes.plain_text import markdown_to_text


@pytest.mark.parametrize(
    ("source", "text"),
    [
        ("**Bold** and _em_ and `code`", "Bold and em and code"),
        (
            "See [the guide](https://example.org/g) or https://example.org",
            "See the guide (https://example.org/g) or https://example.org",
        ),
        ("Mail <mailto:aino@example.fi>", "Mail mailto:aino@example.fi"),
        ("- one\n- two", "- one\n- two"),
        ("3. three\n4. four", "3. three\n4. four"),
        ("1. a\n   - inner\n2. b", "1. a\n  - inner\n2. b"),
        ("- item\n  goes on\n- next", "- item\n  goes on\n- next"),
        ("First\n\nSecond\nline", "First\n\nSecond\nline"),
        ("# Title\nText", "Title\n\nText"),
        ("> said\n>\n> more\n\nafter", "> said\n>\n> more\n\nafter"),
        ("```\nkeep  spaces\n  indent\n```", "keep  spaces\n  indent"),
        ("a &amp; b &lt;c&gt;", "a & b <c>"),
        ("<b>raw</b> <script>alert(1)</script><em>html</em>", "raw html"),
        ("![a chart](https://example.org/c.png)", "a chart (https://example.org/c.png)"),
        ("above\n\n---\n\nbelow", "above\n\n----\n\nbelow"),
        ("", ""),
    ],
)
def test_markdown_as_plain_text(source: str, text: str) -> None:
    assert markdown_to_text(source) == text
