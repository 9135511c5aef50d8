"""Themes as plain values: the default set, names in a language, and reading theme names.

No Flask and no database here. A theme has a key (stable; participants' choices refer to it)
and a name in Finnish and in English.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Theme:
    """One theme of a programme's list."""

    key: str
    name_fi: str
    name_en: str

    def label(self, language: str) -> str:
        """The name in `language` ("fi" or "en"), or in the other when that one is empty."""
        first, second = (
            (self.name_fi, self.name_en) if language == "fi" else (self.name_en, self.name_fi)
        )
        return first or second or self.key


#: A programme's themes until its facilitator edits them: the issue's set, in both languages.
DEFAULT_THEMES: tuple[Theme, ...] = (
    Theme("sales", "Myynti", "Sales"),
    Theme("marketing", "Markkinointi ja sosiaalinen media", "Marketing and social media"),
    Theme("pricing", "Hinnoittelu", "Pricing"),
    Theme("finance", "Kirjanpito ja talous", "Bookkeeping and finance"),
    Theme("it", "IT ja verkkosivut", "IT and web"),
    Theme("legal", "Juridiikka", "Legal"),
    Theme("recruiting", "Rekrytointi", "Recruiting"),
    Theme("exporting", "Vienti", "Exporting"),
    Theme("partners", "Yhteistyökumppanit tietyltä alalta", "Partners in a sector"),
    Theme("customers", "Asiakkaat tietyltä alalta", "Customers in a sector"),
    Theme("wellbeing", "Ajanhallinta ja jaksaminen", "Time management and wellbeing"),
)

#: Longest free text of an offer or a need.
TEXT_LIMIT = 300
#: Most themes in one programme's list.
MAX_THEMES = 40

_SEPARATORS = re.compile(r"[;,\n]+")


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


def known_keys(themes: Iterable[Theme], keys: Iterable[str]) -> list[str]:
    """`keys` that name one of `themes`, once each, in the list's order."""
    wanted = set(keys)
    return [theme.key for theme in themes if theme.key in wanted]


def labels(themes: Sequence[Theme], keys: Iterable[str], language: str) -> list[str]:
    """The names of the themes `keys` name, in the list's order (unknown keys left out)."""
    wanted = set(keys)
    return [theme.label(language) for theme in themes if theme.key in wanted]


def parse_theme_names(text: str, themes: Sequence[Theme]) -> tuple[list[str], list[str]]:
    """Theme keys named in `text` (names in Finnish or English, or keys, separated by commas,
    semicolons or line breaks; case and extra spaces do not matter), and the names that match
    no theme."""
    by_name: dict[str, str] = {}
    for theme in themes:
        for name in (theme.key, theme.name_fi, theme.name_en):
            if name.strip():
                by_name.setdefault(_normal(name), theme.key)
    found: list[str] = []
    unknown: list[str] = []
    for part in _SEPARATORS.split(text):
        name = part.strip()
        if not name:
            continue
        key = by_name.get(_normal(name))
        if key is None:
            unknown.append(name)
        elif key not in found:
            found.append(key)
    return known_keys(themes, found), unknown
