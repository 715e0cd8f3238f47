"""Note attributes from lexical statistics alone: tokens, entities, keywords, tags, context.

No model and no network: capitalised spans, numbers and dates are entities; keywords are
stopword-filtered tokens ranked by term frequency (times inverse document frequency when
corpus statistics are given); tags come from a small keyword→topic table.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing done down during each else even
    ever every few for from further get got had has have having he her here hers herself him
    himself his how i if in into is it its itself just let like me more most much must my myself
    no nor not now of off on once only or other our ours ourselves out over own really same she
    should so some such than that the their theirs them themselves then there these they this
    those through to too under until up us very was we were what when where which while who whom
    why will with would yes yet you your yours yourself yourselves oh okay ok yeah hey hi hello
    wow thanks thank sure well still maybe lot lots one thing things something anything went go
    going gone say said tell told know think thought make made see saw want wanted i'm i've
    i'd i'll you're you've we're we've it's that's don't can't didn't isn't wasn't there's let's
    he's she's they're won't
    """.split()
)
MONTHS = (
    "january february march april may june july august september october november december"
).split()
_MONTH_ABBR = {m[:3]: m for m in MONTHS}
_WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_CAPITAL_SPAN = re.compile(r"\b[A-Z][a-zA-Z'\-]+(?:\s+(?:of\s+|de\s+)?[A-Z][a-zA-Z'\-]+)*")
_YEAR = re.compile(r"\b(19\d\d|20\d\d)\b")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_MONTH_NAMES = "|".join(MONTHS + [m[:3] for m in MONTHS])
_TEXT_DATE = re.compile(
    rf"\b(?:(\d{{1,2}})(?:st|nd|rd|th)?\s+)?({_MONTH_NAMES})\.?(?:\s+(\d{{1,2}})(?:st|nd|rd|th)?)?"
    rf",?(?:\s+(\d{{4}}))?\b",
    re.IGNORECASE,
)
_SENTENCE_START_NOISE = frozenset(
    """i i'm i've i'd i'll we we're you it it's that this the a an my our oh yeah yes no so
    well and but also just wow hey hi hello thanks thank sure what when where who how why
    did do does is are was were can could would should will have has had not yesterday today
    tomorrow last next that's there there's they he she his her congrats great nice cool
    awesome sounds love honestly actually anyway btw took got went came finally spent started
    tried bought visited moved just been getting planning thinking guess glad happy sorry
    remember speaking talking after before during since send meet work being nothing guess big
    pretty any sorry gotta talk take catch good aww now have my your our their his her its
    please look check welcome enjoy let try keep call come give feel""".split()
)

TAG_TABLE: dict[str, tuple[str, ...]] = {
    "travel": ("trip", "travel", "flight", "flew", "fly", "vacation", "holiday", "visit",
               "visited", "tour", "hotel", "beach", "abroad", "passport", "backpacking"),
    "work": ("job", "work", "working", "office", "boss", "promotion", "promoted", "career",
             "colleague", "hired", "startup", "company", "manager", "engineer", "nurse",
             "teacher", "salary", "interview", "project"),
    "family": ("family", "mom", "dad", "mother", "father", "sister", "brother", "son",
               "daughter", "wife", "husband", "kids", "children", "parents", "grandma",
               "wedding", "baby", "cousin"),
    "food": ("food", "cook", "cooking", "recipe", "restaurant", "dinner", "lunch", "breakfast",
             "pizza", "sushi", "pasta", "coffee", "tea", "vegan", "vegetarian", "bake", "baking",
             "cuisine", "ramen", "tacos", "curry", "dessert"),
    "health": ("health", "doctor", "hospital", "sick", "gym", "run", "running", "marathon",
               "yoga", "diet", "sleep", "injury", "therapy", "workout", "surgery"),
    "hobby": ("hobby", "guitar", "piano", "painting", "paint", "hiking", "hike", "climbing",
              "pottery", "photography", "chess", "gardening", "knitting", "reading", "novel",
              "games", "gaming", "surfing", "dance", "dancing", "cycling", "fishing"),
    "finance": ("money", "budget", "savings", "invest", "investing", "stocks", "loan", "rent",
                "mortgage", "bought", "buy", "price", "paid", "debt", "bank"),
    "preference": ("favorite", "favourite", "love", "loves", "prefer", "prefers", "hate",
                   "enjoy", "enjoys", "fan", "dislike", "adore"),
    "event": ("birthday", "party", "concert", "festival", "graduation", "conference",
              "ceremony", "anniversary", "celebrate", "celebrated", "race", "exhibition",
              "show", "launch"),
    "location": ("moved", "move", "moving", "live", "lives", "living", "city", "apartment",
                 "house", "neighborhood", "relocated", "town", "country"),
    "pet": ("dog", "cat", "puppy", "kitten", "pet", "adopted", "adopt", "beagle", "parrot",
            "hamster", "rabbit", "vet", "labrador", "terrier", "retriever"),
}
_TAG_OF = {word: tag for tag, words in TAG_TABLE.items() for word in words}


@dataclass(slots=True)
class Attributes:
    """Structured attributes of a note: ranked keywords, coarse topic tags, a short context."""

    keywords: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    context: str = ""


@dataclass(slots=True)
class CorpusStats:
    """Document frequencies, so keywords favour terms that are rare in the corpus."""

    num_docs: int = 0
    doc_freq: Counter = field(default_factory=Counter)

    def add(self, text: str) -> None:
        """Count one more document."""
        self.num_docs += 1
        self.doc_freq.update(set(content_tokens(text)))

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency of `term`."""
        return math.log((self.num_docs + 1) / (self.doc_freq.get(term, 0) + 1)) + 1.0


def tokenize(text: str) -> list[str]:
    """Lowercase word tokens, possessive 's dropped."""
    return [token.removesuffix("'s") for token in _WORD.findall(text.lower())]


def content_tokens(text: str) -> list[str]:
    """Tokens without stopwords or one-letter words."""
    return [t for t in tokenize(text) if len(t) > 1 and t not in STOPWORDS]


def extract_entities(text: str) -> list[str]:
    """Capitalised names, dates and years in `text`, in order of first appearance."""
    found: list[str] = []
    for match in _TEXT_DATE.finditer(text):
        found.append(_normalise_date(match))
    for match in _ISO_DATE.finditer(text):
        found.append(match.group(0))
    found.extend(_YEAR.findall(text))
    found.extend(_names(text))
    return list(dict.fromkeys(e for e in found if e))


def extract_attributes(text: str, corpus_stats: CorpusStats | None = None) -> Attributes:
    """Keywords, tags and a one-line context for `text`, from lexical statistics only."""
    entities = extract_entities(text)
    return Attributes(
        keywords=_rank_keywords(text, entities, corpus_stats),
        tags=topic_tags(text),
        context=_context(text, entities),
    )


def _names(text: str) -> list[str]:
    names = []
    for match in _CAPITAL_SPAN.finditer(text):
        words = match.group(0).split()
        if _at_sentence_start(text, match.start()):
            while words and _common_opener(words[0]):
                words = words[1:]
        words = [w for w in words if w.lower() not in MONTHS and w.lower() not in _WEEKDAYS]
        span = " ".join(words).removesuffix("'s")
        if span and span.lower() not in STOPWORDS and span.lower() not in _SENTENCE_START_NOISE:
            names.append(span)
    return names


def _common_opener(word: str) -> bool:
    """A capitalised sentence opener that is most likely an ordinary word, not a name."""
    lower = word.lower()
    return lower in _SENTENCE_START_NOISE or lower in STOPWORDS or lower.endswith(("ing", "ed"))


def _at_sentence_start(text: str, pos: int) -> bool:
    before = text[:pos].rstrip()
    return not before or before[-1] in ".!?:;\"'([-\n]"


def _normalise_date(match: re.Match) -> str:
    day_before, month, day_after, year = match.groups()
    month_name = _MONTH_ABBR[month.lower()[:3]].capitalize()
    if month.lower() == "may" and not (day_before or day_after or year):
        return ""  # the verb "may", most of the time
    if not (day_before or day_after or year) and month[0].islower():
        return ""
    day = day_before or day_after
    return " ".join(p for p in (day, month_name, year) if p)


def _rank_keywords(text: str, entities: list[str], stats: CorpusStats | None) -> list[str]:
    counts = Counter(content_tokens(text))
    entity_words = {t for e in entities for t in tokenize(e)}
    scored = {
        term: tf * (stats.idf(term) if stats and stats.num_docs else 1.0)
        * (1.5 if term in entity_words else 1.0)
        for term, tf in counts.items()
    }
    order = sorted(scored, key=lambda t: (-scored[t], text.lower().find(t)))
    return order[:10]


def topic_tags(text: str) -> list[str]:
    """Coarse topics of `text` from the keyword→tag table, in order of first mention."""
    tags = [_TAG_OF[t] for t in tokenize(text) if t in _TAG_OF]
    return list(dict.fromkeys(tags))


def _is_date(entity: str) -> bool:
    return bool(_ISO_DATE.fullmatch(entity)) or any(m.capitalize() in entity for m in MONTHS)


def _context(text: str, entities: list[str], limit: int = 120) -> str:
    clause = re.split(r"(?<=[.!?;])\s+|,\s+(?=but |and |so |because )", text.strip(), maxsplit=1)[0]
    names = [e for e in entities if not _YEAR.fullmatch(e) and not _is_date(e)][:3]
    context = f"About {', '.join(names)}: {clause}" if names else clause
    return context if len(context) <= limit else context[: limit - 1].rstrip() + "…"
