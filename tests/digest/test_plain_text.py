"""The text part of the summary email reads as plain text: no Markdown marks or HTML tags from
the notes, lists as "- ", links as "text (address)"; and it greets by the first name."""

from __future__ import annotations

import html
import re

from tests.digest.conftest import GROUP_A, Held


def test_notes_in_the_text_email_are_plain_text(held: Held) -> None:
    world = held.world
    alice = world.client("alice")
    space = alice.get(f"/api/v1/sessions/{world.session.id}/notes?group={GROUP_A}").get_json()
    note = (
        "**Prices** for <b>spring</b>, see [the guide](https://example.org/guide):\n\n"
        "- raise by *5 %*\n- ask <i>Bob</i> &amp; Carol\n\n<script>alert(1)</script>Done."
    )
    added = alice.post(f"/api/v1/notes/{space['id']}/items", json={"body": note})
    assert added.status_code == 201

    page = world.client("facilitator").get(
        f"/sessions/{world.session.id}/digest?participant={world.alice.id}&lang=en"
    )
    found = re.search(r'<pre class="mail-text">(.*?)</pre>', page.get_data(as_text=True), re.S)
    assert found is not None
    text = html.unescape(found.group(1))
    assert "Hello Alice," in text and "Alice Aho," not in text
    assert "A-ONLY: pricing" in text  # "A-ONLY: **pricing**" as written
    assert "* Prices for spring, see the guide (https://example.org/guide):" in text
    assert "  - raise by 5 %\n  - ask Bob & Carol\n" in text  # the item's list, indented
    assert "  Done. (Alice Aho)" in text
    for mark in ("**", "<b>", "</i>", "[the guide]", "&amp;", "script", "alert"):
        assert mark not in text, mark
