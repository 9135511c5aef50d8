"""Survey answers: reading a filled-in form into values, and each question's results.

Pure: questions and answers are plain data (`QuestionFacts`, dicts), so the rules (what a
scale accepts, what counts as yes) and the results are tested without a database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from statistics import mean
from typing import Any

#: The range of a scale question.
SCALE = range(1, 6)
#: Longest free-text answer kept.
TEXT_LIMIT = 4000


@dataclass(frozen=True)
class QuestionFacts:
    """A survey question as the rules see it."""

    id: int
    kind: str
    text: str
    choices: tuple[str, ...] = ()
    multiple: bool = False
    required: bool = False
    key: str = ""


@dataclass(frozen=True)
class ResponseFacts:
    """One filled-in survey; `name` only when the survey is not anonymous."""

    answers: Mapping[str, Any]
    name: str | None = None


@dataclass(frozen=True)
class QuestionResult:
    """What the answers to one question add up to."""

    question: QuestionFacts
    answered: int
    #: Scale: 1..5 -> count; yes/no: "yes"/"no" -> count; choice: option -> count.
    counts: Mapping[str, int] = field(default_factory=dict)
    average: float | None = None
    #: Free text: (name or None, text), in the order given.
    texts: tuple[tuple[str | None, str], ...] = ()


class AnswerError(ValueError):
    """Answers that do not fit their questions: `problems` maps a question id to the reason."""

    def __init__(self, problems: dict[int, str]) -> None:
        super().__init__(", ".join(f"q{k}: {v}" for k, v in problems.items()))
        self.problems = problems


def _one(form: Mapping[str, Sequence[str]], name: str) -> str:
    values = form.get(name) or ()
    return values[0].strip() if values else ""


def read_answers(
    questions: Sequence[QuestionFacts], form: Mapping[str, Sequence[str]]
) -> dict[str, Any]:
    """The answers of a filled-in form (`q<id>` fields, lists of values) as stored values.

    Raises AnswerError naming each wrong answer's reason: "required", "scale", "yes_no",
    "choice" or "long".
    """
    answers: dict[str, Any] = {}
    problems: dict[int, str] = {}
    for question in questions:
        try:
            value = _read_one(question, form)
        except _Wrong as wrong:
            problems[question.id] = str(wrong)
            continue
        if value is None:
            if question.required:
                problems[question.id] = "required"
            continue
        answers[str(question.id)] = value
    if problems:
        raise AnswerError(problems)
    return answers


class _Wrong(Exception):
    pass


def _read_one(question: QuestionFacts, form: Mapping[str, Sequence[str]]) -> Any:
    """One question's value from the form, None when unanswered; _Wrong says why it is bad."""
    name = f"q{question.id}"
    if question.kind == "choice":
        picked = [v for v in (form.get(name) or ()) if v]
        if any(v not in question.choices for v in picked):
            raise _Wrong("choice")
        if not question.multiple and len(picked) > 1:
            raise _Wrong("choice")
        if not picked:
            return None
        return picked if question.multiple else picked[0]
    raw = _one(form, name)
    if not raw:
        return None
    if question.kind == "scale":
        if not raw.isdigit() or int(raw) not in SCALE:
            raise _Wrong("scale")
        return int(raw)
    if question.kind == "yes_no":
        if raw not in ("yes", "no"):
            raise _Wrong("yes_no")
        return raw == "yes"
    if len(raw) > TEXT_LIMIT:
        raise _Wrong("long")
    return raw


def results(
    questions: Sequence[QuestionFacts], responses: Sequence[ResponseFacts]
) -> list[QuestionResult]:
    """Each question's results over the responses."""
    out = []
    for question in questions:
        values = [
            (r.name, r.answers[str(question.id)])
            for r in responses
            if str(question.id) in r.answers
        ]
        if question.kind == "scale":
            numbers = [int(v) for _, v in values]
            out.append(
                QuestionResult(
                    question,
                    len(numbers),
                    {str(n): numbers.count(n) for n in SCALE},
                    mean(numbers) if numbers else None,
                )
            )
        elif question.kind == "yes_no":
            yes = sum(1 for _, v in values if v is True)
            out.append(QuestionResult(question, len(values), {"yes": yes, "no": len(values) - yes}))
        elif question.kind == "choice":
            counts = {choice: 0 for choice in question.choices}
            for _, value in values:
                for picked in value if isinstance(value, list) else [value]:
                    if picked in counts:
                        counts[picked] += 1
            out.append(QuestionResult(question, len(values), counts))
        else:
            out.append(
                QuestionResult(question, len(values), texts=tuple((n, str(v)) for n, v in values))
            )
    return out


def answer_text(
    question: QuestionFacts, value: Any, yes_no: Callable[[bool], str] = lambda b: str(b)
) -> str:
    """One answer as a cell of an export (choices joined with ", ")."""
    if value is None:
        return ""
    if question.kind == "yes_no":
        return yes_no(bool(value))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
