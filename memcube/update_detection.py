"""Update detection: does a new note correct an older one (same subject and attribute, a
different value)? An opt-in policy that favours precision: a missed update leaves two notes
side by side, as without the policy; a wrong one hides a true fact from current search.

A pair is an update when the new note has an update cue (moved, now, no longer, actually...)
or is very similar, both notes speak of the same subject (a shared name, or both in the first
person) and of the same single-valued attribute (where one lives, works, whom one is married
to...), and each says something the other does not (a different value).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from memcube.item import MemoryItem

ATTRIBUTES: dict[str, frozenset[str]] = {name: frozenset(words.split()) for name, words in {
    "residence": "live lives living lived moved move moving based reside resides relocated "
                 "relocating home address apartment flat house",
    "work": "work works working job employer company hired joined quit position role "
            "office career employed",
    "partner": "married marry partner girlfriend boyfriend dating wife husband engaged "
               "divorced fiance fiancee",
    "contact": "phone number email mobile telephone",
    "favourite": "favourite favorite",
    "age": "age old birthday turned",
    "study": "study studies studying school university college major degree",
    "car": "car drive drives driving",
    "diet": "vegetarian vegan diet meat",
}.items()}
CUES = ("moved", "now", "no longer", "anymore", "any more", "actually", "correction",
        "changed", "switched", "instead", "these days", "relocated", "not anymore", "new",
        "quit", "left", "started", "update", "wrong")
FIRST_PERSON = frozenset("i i'm i've my me mine".split())
NOT_NAMES = frozenset("""I Actually Correction Now Update Oh Well So My The A An We It This
    That Since Last Next Today Yesterday Also But And No Yes Sorry Just Recently""".split())
_WORD = re.compile(r"[A-Za-z0-9]+(?:'[a-z]+)?")
_VALUE = re.compile(r"[A-Za-z0-9](?:[\w@.\-']*[A-Za-z0-9])?")  # keeps emails, numbers whole
_NEGATED = re.compile(r"\b(?:not|than|instead of)\s+([\w@.\-']+)", re.IGNORECASE)
_STOP = frozenset("""a an the in at on to of and or is are was were be been has have had
    do does did not no now just also still with for from by as it its that this there their
    his her he she they we you i i'm my me our your actually anymore any more longer since
    new recently these days instead correction update wrong""".split())


@dataclass(frozen=True, slots=True)
class UpdateDetector:
    """Finds the older note a new one corrects, if any; thresholds are cosine similarities."""

    min_similarity: float = 0.3  # with a cue word
    cueless_similarity: float = 0.8  # without one

    def __post_init__(self) -> None:
        if not -1 <= self.min_similarity <= self.cueless_similarity <= 1:
            raise ValueError("need -1 <= min_similarity <= cueless_similarity <= 1")

    def corrects(self, new_text: str, old_text: str, similarity: float) -> bool:
        """Whether ``new_text`` states a new value of the fact ``old_text`` states."""
        needed = self.min_similarity if has_cue(new_text) else self.cueless_similarity
        return (similarity >= needed and same_subject(new_text, old_text)
                and bool(attributes(new_text) & attributes(old_text))
                and different_values(new_text, old_text))

    def detect(self, new_text: str,
               candidates: Sequence[tuple[MemoryItem, float]]) -> MemoryItem | None:
        """The most similar candidate (item, cosine) that ``new_text`` corrects, or None."""
        for item, similarity in sorted(candidates, key=lambda pair: -pair[1]):
            if item.text != new_text and self.corrects(new_text, item.text, similarity):
                return item
        return None


def words(text: str) -> list[str]:
    """Lowercased word tokens."""
    return [word.lower() for word in _WORD.findall(text)]


def has_cue(text: str) -> bool:
    """Whether the text reads like a change or a correction."""
    lowered = " " + " ".join(words(text)) + " "
    return any(f" {cue} " in lowered for cue in CUES)


def names(text: str) -> set[str]:
    """Capitalised words that name someone or something (possessive 's dropped)."""
    found = {word.removesuffix("'s") for word in _WORD.findall(text) if word[0].isupper()}
    return found - NOT_NAMES


def same_subject(new_text: str, old_text: str) -> bool:
    """A shared name that opens either note, or both notes in the first person."""
    first = set(words(new_text)) & FIRST_PERSON and set(words(old_text)) & FIRST_PERSON
    return bool(first) or bool(_subject(new_text) & _subject(old_text))


def _subject(text: str) -> set[str]:
    opening = [word.removesuffix("'s") for word in _WORD.findall(text)[:3]]
    return {word for word in opening if word[0].isupper()} - NOT_NAMES


def attributes(text: str) -> set[str]:
    """The single-valued attributes a note speaks of."""
    tokens = set(words(text))
    return {name for name, cues in ATTRIBUTES.items() if tokens & cues}


def different_values(new_text: str, old_text: str) -> bool:
    """Each note has a value (a name, a number, a content word) the other lacks; a value the
    new note negates ("Kyoto, not Osaka") does not count as one it states."""
    negated = {word.lower().rstrip(".") for word in _NEGATED.findall(new_text)}
    new, old = _values(new_text) - negated, _values(old_text)
    return bool(new - old) and bool(old - new)


def _values(text: str) -> set[str]:
    attribute_words = set().union(*ATTRIBUTES.values())
    subject = {word.lower() for word in _subject(text)}
    values = {word.lower().removesuffix("'s") for word in _VALUE.findall(text)}
    return {word for word in values if word not in _STOP and word not in attribute_words
            and word not in subject and len(word) > 1}
