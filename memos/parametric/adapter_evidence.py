"""Evidence that an adapter learned something: questions built from its notes, asked of it.

After a distillation the new adapter answers a few fill-in-the-blank questions about its own
notes (greedy, no retrieval). The count it gets right is stored with it; default chat does not
attach an adapter that answered none, since it would only change the model, not inform it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from memos.engine import GenerationConfig
from memos.parametric import AdapterManager, DistillNote
from memos.parametric.distillation_data import note_entities

MAX_NEW_TOKENS = 16


@dataclass(frozen=True, slots=True)
class CheckQuestion:
    """A question about one note and the words a right answer contains."""

    item_id: str
    question: str
    answer: str

    def answered_by(self, reply: str) -> bool:
        """True when ``reply`` names the answer."""
        return self.answer.lower() in reply.lower()


def check_questions(notes: Sequence[DistillNote], count: int) -> list[CheckQuestion]:
    """Up to ``count`` questions, spread evenly over the notes: the note's last-named entity
    blanked out (for "Ana lives in Lisbon." the answer is "Lisbon")."""
    questions = []
    step = max(1, len(notes) // max(1, count))
    for note in list(notes)[::step]:
        entities = note_entities(note.text)
        if not entities or len(questions) >= count:
            continue
        answer = max(entities, key=note.text.rfind)
        blanked = note.text.strip().replace(answer, "___", 1)
        questions.append(CheckQuestion(note.item_id, f"Fill in the blank: {blanked}", answer))
    return questions


def count_answered(engine, manager: AdapterManager, adapter_id: str,
                   notes: Sequence[DistillNote], count: int) -> int:
    """How many of ``count`` check questions the adapter answers right (it is unloaded
    afterwards, so a chat that wants it reads its files, checksums checked, again)."""
    config = GenerationConfig(max_new_tokens=MAX_NEW_TOKENS)
    right = 0
    try:
        for question in check_questions(notes, count):
            with manager.attached([adapter_id]):
                reply = engine.generate([{"role": "user", "content": question.question}],
                                        config)
            right += question.answered_by(reply.text)
    finally:
        manager.unload(adapter_id)
    return right
