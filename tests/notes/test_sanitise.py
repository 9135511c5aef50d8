"""Notes are Markdown made safe with nh3: no scripts, no event handlers, no javascript: links."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from companion.notes.markdown import render_markdown
from tests.notes.conftest import World

ATTACKS = [
    "<script>alert('x')</script>hello",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)" onclick="steal()">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    '<p onmouseover="alert(1)">hover</p>',
    '<svg onload="alert(1)"><script>alert(2)</script></svg>',
    '<iframe src="https://evil.example"></iframe>',
    '<a href="data:text/html;base64,PHNjcmlwdD4=">data</a>',
    "![x](javascript:alert(1))",
    '<style>body{display:none}</style><b style="color:red">bold</b>',
    '<form action="https://evil.example"><input name=x></form>',
]


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += attrs


def _parsed(html: str) -> _Collect:
    parser = _Collect()
    parser.feed(html)
    return parser


def _assert_safe(html: str) -> None:
    parsed = _parsed(html)
    assert not {"script", "style", "iframe", "svg", "img", "form", "input"} & set(parsed.tags)
    for name, value in parsed.attributes:
        assert not name.startswith("on"), (name, html)
        assert name != "style"
        if name == "href":
            assert (value or "").lower().startswith(("http://", "https://", "mailto:")), html


@pytest.mark.parametrize("attack", ATTACKS)
def test_render_removes_dangerous_markup(attack: str) -> None:
    _assert_safe(render_markdown(attack))


def test_ordinary_markdown_survives() -> None:
    html = render_markdown("**bold** and *it*\n\n- one\n- two\n\n[site](https://example.org)")
    assert "<strong>bold</strong>" in html
    assert "<li>one</li>" in html
    assert '<a href="https://example.org" rel="noopener noreferrer nofollow">site</a>' in html


def test_notes_stored_through_the_api_are_sanitised(world: World) -> None:
    space_id = world.space_id()
    for attack in ATTACKS:
        response = world.client("alice").post(
            f"/api/v1/notes/{space_id}/items", json={"body": attack + " ok"}
        )
        assert response.status_code == 201, attack
        _assert_safe(response.get_json()["html"])
    page = _parsed(
        world.client("bob").get(f"/sessions/{world.session.id}/notes").get_data(as_text=True)
    )
    assert not [name for name, _value in page.attributes if name.startswith("on")]
    assert not [value for name, value in page.attributes if (value or "").startswith("javascript")]
    assert page.tags.count("script") == 1  # the page's own module, nothing from the notes


def test_summary_html_is_sanitised(world: World) -> None:
    space_id = world.space_id()
    response = world.client("alice").put(
        f"/api/v1/notes/{space_id}/summary",
        json={
            "text": "# Plan\n<script>alert(1)</script>\n[x](javascript:alert(1))",
            "base_revision": 0,
        },
    )
    html = response.get_json()["summary"]["html"]
    _assert_safe(html)
    assert "<h1>Plan</h1>" in html
