"""Which column of an imported list is which field: header names in Finnish and English, and
the columns form tools add that are never participant data. Pure logic, no I/O."""

from __future__ import annotations

import re
import unicodedata

#: Header words (Finnish and English, lower-case, accents kept) that suggest a field.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "first_name": ("etunimi", "first name", "firstname", "given name"),
    "last_name": ("sukunimi", "last name", "lastname", "surname", "family name"),
    "name": ("nimi", "name", "full name", "koko nimi", "nimesi", "your name"),
    "email": ("sähköposti", "sahkoposti", "email", "e-mail", "email address", "sähköpostiosoite"),
    "phone": ("puhelin", "puhelinnumero", "phone", "mobile", "matkapuhelin"),
    "company": ("yritys", "yrityksen nimi", "company", "organisation", "organization", "firma"),
    "industry": ("toimiala", "ala", "industry", "sector", "business area"),
    "region": ("alue", "paikkakunta", "kunta", "kotikunta", "region", "municipality", "city"),
    "years_as_entrepreneur": (
        "yrittäjävuodet",
        "vuotta yrittäjänä",
        "years",
        "experience",
        "kokemus",
    ),
    "interests": ("kiinnostuksen kohteet", "kiinnostukset", "interests", "aiheet", "topics"),
    "goals": ("tavoitteet", "tavoite", "goals", "goal", "odotukset", "expectations"),
    "language": ("kieli", "language", "asiointikieli"),
    "group": ("ryhmä", "ryhma", "group", "team"),
    "offers": ("voin tarjota", "tarjoan", "osaaminen", "offers", "can offer", "i can offer"),
    "needs": ("tarvitsen", "tarpeet", "etsin", "needs", "looking for", "i am looking for"),
}
#: The consent question is matched first, as its long text often names other fields
#: ("I agree that my details are shared with my group").
_SYNONYMS = {
    "consent": (
        "suostumus",
        "hyväksyn",
        "suostun",
        "annan suostumukseni",
        "consent",
        "i agree",
        "i consent",
        "agree",
        "gdpr",
    ),
    **_SYNONYMS,
}

#: Word beginnings that suggest a field inside a longer question text, as form tools use the
#: question as the header ("Millä toimialalla yrityksesi toimii?", "What industry are you in?").
#: Finnish inflects words, so these are stems matched against the start of each word.
_STEMS: dict[str, tuple[str, ...]] = {
    "first_name": ("etunim", "firstname"),
    "last_name": ("sukunim", "surname", "lastname"),
    "name": ("nimi", "nimesi", "name"),
    "email": ("sähköpost", "sahkopost", "email", "e-mail"),
    "phone": ("puhelin", "phone", "mobile", "matkapuhelin"),
    "company": ("yritykse", "yrityksen", "company", "firma", "business name"),
    "industry": ("toimiala", "industry", "sector", "branch"),
    "region": ("paikkakun", "kotikun", "kunna", "kunta", "alueel", "region", "municipalit", "city"),
    "years_as_entrepreneur": ("vuotta", "vuosia", "vuode", "years"),
    "interests": (
        "kiinnost",
        "aihe",
        "teema",
        "keskustel",
        "interest",
        "theme",
        "topic",
        "discuss",
    ),
    "goals": ("tavoit", "toivo", "odotu", "odota", "goal", "hope", "expect"),
    "language": ("kieli", "kielell", "language"),
    "group": ("ryhmä", "ryhma", "group"),
    "offers": ("tarjo", "offer"),
    "needs": ("tarvi", "tarpe", "etsi", "need", "looking"),
    "consent": ("suostu", "hyväksyn", "hyväksy", "consent", "agree", "gdpr", "tietosuoj"),
}

#: Columns form tools add that are never participant data.
_IGNORED = (
    "timestamp",
    "aikaleima",
    "id",
    "start time",
    "completion time",
    "aloitusaika",
    "valmistumisaika",
    "last modified time",
    "viimeksi muokattu",
    "total points",
    "quiz feedback",
    "vastaaja",
    "vastaajan tunnus",
    "vastausaika",
    "respondent",
    "response time",
    "tunnus",
)


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower().strip()
    return re.sub(r"[\s:?*()!.,/]+", " ", text).strip()


def _tier(field_name: str, normal: str) -> int:
    """How clearly a normalised header names a field: 3 exactly, 2 at its start, 1 inside."""
    words = _SYNONYMS[field_name]
    if normal in words:
        return 3
    if any(normal.startswith(w + " ") for w in words):
        return 2
    header_words = normal.split()
    if any(f" {w} " in f" {normal} " for w in words if " " in w) or any(
        word.startswith(stem) for word in header_words for stem in _STEMS[field_name]
    ):
        return 1
    return 0


def _looks_like_emails(rows: list[list[str]], index: int) -> float:
    values = [row[index] for row in rows[:200] if index < len(row) and row[index].strip()]
    if not values:
        return 0.0
    return sum(1 for v in values if "@" in v) / len(values)


def _filled(rows: list[list[str]], index: int) -> bool:
    return any(index < len(row) and row[index].strip() for row in rows[:200])


def _prefer_filled(mapping: dict[str, int], normals: dict[int, str], rows: list[list[str]]) -> None:
    """A chosen column with nothing in it gives way to another one naming the same field that
    has answers (an anonymous Microsoft Forms export has an empty "Name" column and the name
    the person typed in a question)."""
    for field_name, index in list(mapping.items()):
        if _filled(rows, index):
            continue
        others = sorted(
            (
                (-_tier(field_name, normal), i)
                for i, normal in normals.items()
                if i not in mapping.values() and _tier(field_name, normal) and _filled(rows, i)
            ),
        )
        if others:
            mapping[field_name] = others[0][1]


def guess_mapping(headers: list[str], rows: list[list[str]] | None = None) -> dict[str, int]:
    """Field -> column index for headers that name a field, in Finnish or English.

    Exact header names win over headers that start with a field's name, which win over
    question texts that merely mention it; each column serves one field. With `rows`, an
    email column that holds no addresses (Microsoft Forms writes "anonymous") gives way to
    one that does, and any other column left empty gives way to a filled one for its field.
    """
    normals = {
        index: _normalise(header)
        for index, header in enumerate(headers)
        if _normalise(header) not in _IGNORED
    }
    mapping: dict[str, int] = {}
    for tier in (3, 2, 1):
        for index, normal in normals.items():
            if index in mapping.values():
                continue
            for field_name in _SYNONYMS:
                if field_name not in mapping and _tier(field_name, normal) == tier:
                    mapping[field_name] = index
                    break
    if rows and "email" in mapping and _looks_like_emails(rows, mapping["email"]) < 0.5:
        others = [
            i
            for i, normal in normals.items()
            if i != mapping["email"] and _tier("email", normal) and i not in mapping.values()
        ]
        better = [i for i in others if _looks_like_emails(rows, i) >= 0.5]
        if better:
            mapping["email"] = better[0]
    if rows:
        _prefer_filled(mapping, normals, rows)
    if "name" in mapping and ("first_name" in mapping or "last_name" in mapping):
        del mapping["name"]
    return mapping


#: What an email address looks like in a cell (enough to tell a data row from a header).
_EMAIL_LIKE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _used_width(row: list[str]) -> int:
    return max((i + 1 for i, cell in enumerate(row) if cell), default=0)


def _email_column_below(rows: list[list[str]], start: int) -> bool:
    below = rows[start + 1 : start + 201]
    width = max((len(row) for row in below), default=0)
    for index in range(width):
        values = [row[index] for row in below if index < len(row) and row[index]]
        emails = sum(1 for v in values if _EMAIL_LIKE.fullmatch(v))
        # The row right beneath a header is data: an address, not another header's text.
        if values and emails * 2 >= len(values) and _EMAIL_LIKE.fullmatch(values[0]):
            return True
    return False


def find_header_row(rows: list[list[str]], search: int = 10) -> int:
    """The index of the header among the first `search` rows: title rows ("Osallistujalista
    kevät 2027") stand alone or fill few cells, a header fills most of its row with text and
    has a column of email addresses beneath it. The first row if nothing fits better."""
    candidates: list[int] = []
    for index, row in enumerate(rows[: min(search, len(rows) - 1)]):
        filled = [cell for cell in row if cell]
        width = max((_used_width(r) for r in rows[index : index + 20]), default=0)
        if len(filled) < 2 or len(filled) * 2 < width:
            continue
        if any(_EMAIL_LIKE.fullmatch(cell) for cell in filled):
            continue  # a data row: a header holds no addresses
        candidates.append(index)
        if _email_column_below(rows, index):
            return index
    return candidates[0] if candidates else 0
