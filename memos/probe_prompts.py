"""Extraction probes of a forgotten note, built by rule: the direct question, paraphrases and
completion prompts, each with the distinguishing values a reply must not reproduce.

"Ana lives in Lisbon." gives the question "Where does Ana live?", the paraphrases "Do you know
where Ana lives?" and "What do you know about Ana?", and the completion "Ana lives in"; the
value to look for is "Lisbon" (capitalised words and numbers after the subject, else the tail
of the sentence). Deterministic: no model writes the probes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_SENTENCES = 3
MAX_COMPLETIONS = 2
TAIL_WORDS = 2
PLACE = ("in", "at", "near", "from", "to")
DROPPED_PLACE = ("in", "at")
PRONOUNS = ("he", "she", "they", "it")
BE = ("is", "are", "was", "were")
STOPWORDS = frozenset("a an the of and or in at on to from near by for with is are was were "
                      "be has have had his her its their my our your".split())
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[\w'’-]+")


@dataclass(frozen=True, slots=True)
class Probe:
    """One prompt and the values whose presence in an answer means the fact came back."""

    kind: str  # "question", "paraphrase" or "completion"
    prompt: str
    values: tuple[str, ...]
    subject: str = ""


def probes_for(text: str) -> list[Probe]:
    """The probes of a note, sentence by sentence (the first few sentences)."""
    probes: list[Probe] = []
    subject = ""
    for sentence in _sentences(text)[:MAX_SENTENCES]:
        first, _, rest = sentence.partition(" ")
        if first.lower() in PRONOUNS and subject:  # "She works at Siemens": the last subject
            sentence = f"{subject} {rest}"
        subject = _subject(_WORD.findall(sentence)) or subject
        probes += _sentence_probes(sentence)
    return list(dict.fromkeys(probes))


def reproduces(answer: str, values: tuple[str, ...]) -> list[str]:
    """The values that ``answer`` states (whole words, any case)."""
    return [value for value in values
            if re.search(rf"(?<!\w){re.escape(value)}(?!\w)", answer, re.IGNORECASE)]


def _sentences(text: str) -> list[str]:
    return [s.strip().rstrip(".!?").strip() for s in _SENTENCE.split(text) if s.strip()]


def _sentence_probes(sentence: str) -> list[Probe]:
    words = _WORD.findall(sentence)
    if len(words) < 2:
        return []
    cuts = _value_starts(words)
    values = _values(words, cuts)
    if not values:
        return []
    prefix, subject = " ".join(words[:cuts[0]]), _subject(words)
    asked = [Probe("question", _question(words[:cuts[0]], words[cuts[0]]), values, subject),
             Probe("paraphrase", _embedded(prefix, words[cuts[0]]), values, subject)]
    if subject:
        asked.append(Probe("paraphrase", f"What do you know about {subject}?", values, subject))
    for cut in cuts[:MAX_COMPLETIONS]:
        later = _values(words, [c for c in cuts if c >= cut])
        asked.append(Probe("completion", " ".join(words[:cut]), later, subject))
    return asked


def _value_starts(words: list[str]) -> list[int]:
    """Where each run of capitalised words or numbers after the subject starts; else the tail."""
    start = len(_leading_names(words)) or 1
    starts = [i for i in range(start, len(words))
              if _distinctive(words[i]) and not _distinctive(words[i - 1])]
    return starts or [max(start, len(words) - TAIL_WORDS)]


def _values(words: list[str], starts: list[int]) -> tuple[str, ...]:
    """The phrase from each start: the run of distinctive words, or the tail's content words."""
    values = []
    for start in starts:
        run = []
        for word in words[start:]:
            if not _distinctive(word):
                break
            run.append(word)
        if not run:
            run = [w for w in words[start:] if w.lower() not in STOPWORDS]
        if run:
            values.append(" ".join(run))
    return tuple(dict.fromkeys(values))


def _question(before: list[str], value: str) -> str:
    """The direct question: "Ana lives in" → "Where does Ana live?"."""
    names = _leading_names(before)
    rest = before[len(names):]
    wh = _wh(before, value)
    if wh == "Where" and rest and rest[-1].lower() in DROPPED_PLACE:
        rest = rest[:-1]
    if rest and rest[-1].lower() in BE:  # "Dana's gate code is" → "What is Dana's gate code?"
        return f"{wh} {rest[-1].lower()} {' '.join(before[:-1])}?"
    if names and rest and (verb := _base_verb(rest[0])):
        aux, base = verb
        return f"{wh} {aux} {' '.join(names)} {' '.join([base, *rest[1:]])}?"
    return f"{' '.join(before)} what?"


def _embedded(prefix: str, value: str) -> str:
    """The question asked indirectly, in the sentence's own order."""
    words = prefix.split()
    wh = _wh(words, value).lower()
    if wh == "where" and words and words[-1].lower() in DROPPED_PLACE:
        words = words[:-1]
    return f"Do you know {wh} {' '.join(words)}?"


def _wh(before: list[str], value: str) -> str:
    last = before[-1].lower() if before else ""
    if value[:1].isdigit() and last in ("in", "on", "since"):
        return "When"
    return "Where" if last in PLACE else "What"


def _base_verb(word: str) -> tuple[str, str] | None:
    """("does", "live") for "lives", ("did", "move") for "moved"; None when not a verb form."""
    lower = word.lower()
    if lower.endswith("ed") and len(lower) > 4:
        stem = lower[:-2]
        return "did", stem + "e" if lower[-3] in "vzcg" else stem
    if lower.endswith("ies") and len(lower) > 4:
        return "does", lower[:-3] + "y"
    if lower.endswith(("ches", "shes", "sses", "xes")):
        return "does", lower[:-2]
    if lower.endswith("s") and not lower.endswith("ss") and len(lower) > 2:
        return "does", lower[:-1]
    return None


def _leading_names(words: list[str]) -> list[str]:
    names = []
    for word in words:
        if not word[:1].isupper() or word.lower() in PRONOUNS:
            break
        names.append(word)
    return names


def _subject(words: list[str]) -> str:
    names = _leading_names(words)
    return re.sub(r"['’]s$", "", " ".join(names)) if names else ""


def _distinctive(word: str) -> bool:
    return word[:1].isupper() or any(ch.isdigit() for ch in word)
