"""Training texts for distillation: each note as plain text and as chat question/answer pairs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from memos.probe_prompts import probes_for
from storage.errors import InvalidInput

IGNORE = -100  # label of a token that carries no loss

# A run of capitalised words ("Zorblat Kivu", "Merrow") or a number ("1987", "3.5").
_ENTITY = re.compile(r"\b(?:[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*|\d+(?:[.,]\d+)*)\b")
# Capitalised words that are sentence furniture, not names.
_NOT_NAMES = frozenset(
    "A An The This That These Those It Its He She They We I You His Her Their Our My Your "
    "In On At Of For From To By With And But Or If When While After Before During".split()
)


@dataclass(frozen=True, slots=True)
class DistillNote:
    """One note to distill: its id and version (for staleness) and its text."""

    item_id: str
    version: int
    text: str


@dataclass(frozen=True, slots=True)
class TrainingExample:
    """Token ids and per-token labels (``IGNORE`` where no loss is taken)."""

    input_ids: list[int]
    labels: list[int]

    @property
    def loss_tokens(self) -> int:
        """How many tokens this example trains on."""
        return sum(label != IGNORE for label in self.labels)


def note_entities(text: str, limit: int = 3) -> list[str]:
    """Names and numbers in a note, longest first, at most ``limit``."""
    found = []
    for match in _ENTITY.finditer(text):
        words = match.group().split()
        while words and words[0] in _NOT_NAMES:
            words = words[1:]
        entity = " ".join(words)
        if entity and entity not in found:
            found.append(entity)
    return sorted(found, key=len, reverse=True)[:limit]


def chat_renderings(text: str) -> list[tuple[str, str]]:
    """(question, answer) pairs that make a note's facts usable in chat: each sentence's direct
    question (as ``memos.probe_prompts`` asks it; its paraphrases stay unseen), then per entity
    "what do you know" and a fill-in-the-blank."""
    text = text.strip()
    pairs = [(probe.prompt, text) for probe in probes_for(text) if probe.kind == "question"]
    for entity in note_entities(text):
        pairs.append((f"What do you know about {entity}?", text))
        cloze = text.replace(entity, "___", 1)
        pairs.append((f"Fill in the blank: {cloze}", entity))
    if not pairs:
        pairs.append(("Tell me something you remember.", text))
    return pairs


def build_examples(engine, notes: list[DistillNote], max_tokens: int) -> list[TrainingExample]:
    """All training examples for ``notes``: plain text plus chat renderings, in order."""
    if not notes:
        raise InvalidInput("distillation needs at least one note")
    examples = []
    for note in notes:
        if not note.text.strip():
            raise InvalidInput(f"note {note.item_id!r} has no text")
        examples.append(_plain_example(engine, note.text.strip(), max_tokens))
        for question, answer in chat_renderings(note.text):
            examples.append(_chat_example(engine, question, answer, max_tokens))
    return examples


def _plain_example(engine, text: str, max_tokens: int) -> TrainingExample:
    ids = engine.encode(text)[:max_tokens]
    return TrainingExample(input_ids=ids, labels=list(ids))


def _chat_example(engine, question: str, answer: str, max_tokens: int) -> TrainingExample:
    """A conversation whose loss covers only the assistant's reply (and its end marker)."""
    messages = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    prompt = engine.chat_token_ids(messages[:1], add_generation_prompt=True)
    full = engine.chat_token_ids(messages, add_generation_prompt=False)
    shared = _common_prefix_length(prompt, full)
    ids = full[:max_tokens]
    labels = [IGNORE] * min(shared, len(ids)) + ids[shared:]
    return TrainingExample(input_ids=ids, labels=labels)


def _common_prefix_length(a: list[int], b: list[int]) -> int:
    length = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        length += 1
    return length
