"""Sentiment of short customer text (support tickets) with VADER.

VADER (Hutto & Gilbert, 2014; the `vaderSentiment` package, MIT licence) is a lexicon and rule
model made for short informal text: it needs no training data and no download at run time,
its lexicon ships inside the wheel. Each text gets VADER's *compound* score in [-1, 1] and the
label VADER's authors recommend for it:

- ``positive`` when compound >= 0.05,
- ``negative`` when compound <= -0.05,
- ``neutral`` in between.

Pure functions: texts in, scores out; nothing here knows about tables or Dagster.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import version

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05
LABELS = ("negative", "neutral", "positive")


@functools.cache
def scorer_version() -> str:
    """Recorded with every score, so a change of lexicon is visible in the data."""
    return f"vaderSentiment=={version('vaderSentiment')}"


@functools.cache
def _analyzer() -> SentimentIntensityAnalyzer:
    # Reads the ~7,500-word lexicon from the package once per process (~0.1 s).
    return SentimentIntensityAnalyzer()


@dataclass(frozen=True)
class Sentiment:
    score: float  # VADER compound score in [-1, 1]
    label: str  # one of LABELS


def label_for(score: float) -> str:
    """VADER's standard thresholds: >= 0.05 positive, <= -0.05 negative, else neutral."""
    if score >= POSITIVE_THRESHOLD:
        return "positive"
    if score <= NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"


def ticket_text(subject: str | None, description: str | None) -> str:
    """The text scored for a ticket: subject and description, one line each, blanks left out."""
    parts = (p.strip() for p in (subject, description) if p is not None)
    return "\n".join(p for p in parts if p)


def text_hash(text: str) -> str:
    """MD5 hex digest of the scored text: says which text a score belongs to, without it."""
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def score_text(text: str) -> Sentiment:
    """Sentiment of one text; an empty text is neutral (0.0)."""
    score = float(_analyzer().polarity_scores(text)["compound"]) if text.strip() else 0.0
    return Sentiment(round(score, 4), label_for(score))


def score_texts(texts: Iterable[str]) -> list[Sentiment]:
    """Sentiment of each text, in order; identical texts are scored once."""
    cache: dict[str, Sentiment] = {}
    out = []
    for text in texts:
        if text not in cache:
            cache[text] = score_text(text)
        out.append(cache[text])
    return out


__all__ = [
    "LABELS",
    "NEGATIVE_THRESHOLD",
    "POSITIVE_THRESHOLD",
    "Sentiment",
    "label_for",
    "score_text",
    "score_texts",
    "scorer_version",
    "text_hash",
    "ticket_text",
]
