"""Who may see whose fit, and what the hints say: plain functions, no Flask or database."""

from __future__ import annotations

from companion.needs.hints import Profile, may_see, suggested_kind, talk_hints
from companion.needs.themes import DEFAULT_THEMES, parse_theme_names


def _profile(
    pid: int, name: str, *, programme: int = 1, shown: bool = True, **themes: tuple[str, ...]
) -> Profile:
    return Profile(pid, name, programme, themes.get("offers", ()), themes.get("needs", ()), shown)


ME = _profile(1, "Maija", offers=("finance",), needs=("pricing",))
AINO = _profile(2, "Aino", offers=("pricing",))
BERTTA = _profile(3, "Bertta", offers=("pricing",), needs=("finance",))
HIDDEN = _profile(4, "Hilkka", offers=("pricing",), shown=False)
FOREIGN = _profile(5, "Olli", programme=2, offers=("pricing",))
NOBODY = _profile(6, "Eero", offers=("legal",))


def test_hints_only_where_both_show_and_in_one_programme() -> None:
    others = [AINO, BERTTA, HIDDEN, FOREIGN, NOBODY, ME]
    hints = talk_hints(ME, others, DEFAULT_THEMES, "en")
    assert [(h.name, h.themes) for h in hints] == [
        ("Aino", ("Pricing",)),
        ("Bertta", ("Pricing", "Bookkeeping and finance")),
    ]
    assert [h.kind for h in hints] == ["customer", "business"]
    assert hints[1].they_offer == ("Pricing",) and hints[1].i_offer == ("Bookkeeping and finance",)
    # I did not agree to show mine: I see nobody's, and nobody sees mine.
    hidden_me = _profile(1, "Maija", offers=("finance",), needs=("pricing",), shown=False)
    assert talk_hints(hidden_me, others, DEFAULT_THEMES, "en") == []
    assert talk_hints(BERTTA, [hidden_me], DEFAULT_THEMES, "en") == []
    assert not may_see(ME, HIDDEN) and not may_see(HIDDEN, ME)
    # Never across programmes, and never oneself.
    assert not may_see(ME, FOREIGN) and not may_see(FOREIGN, ME)
    assert not may_see(ME, ME)


def test_hints_name_themes_in_the_readers_language() -> None:
    hints = talk_hints(ME, [BERTTA], DEFAULT_THEMES, "fi")
    assert hints[0].themes == ("Hinnoittelu", "Kirjanpito ja talous")


def test_suggested_contact_kind() -> None:
    assert suggested_kind(ME, AINO) == "customer"
    assert suggested_kind(AINO, ME) == "customer"
    assert suggested_kind(ME, BERTTA) == "business"
    assert suggested_kind(ME, NOBODY) is None
    assert suggested_kind(ME, HIDDEN) is None
    assert suggested_kind(ME, FOREIGN) is None


def test_theme_names_from_an_import_column() -> None:
    keys, unknown = parse_theme_names(
        "hinnoittelu; SALES,  IT and web\nAstrology, pricing", DEFAULT_THEMES
    )
    assert keys == ["sales", "pricing", "it"]  # the list's order, once each
    assert unknown == ["Astrology"]
    assert parse_theme_names("", DEFAULT_THEMES) == ([], [])
