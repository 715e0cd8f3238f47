"""Replay of the base model's own text, mixed into distillation so it forgets less.

The adapter should learn the notes and leave everything else alone. Training it also on what
the base model itself writes after a few generic openings pulls the adapted model back
towards the base distribution on ordinary text (self-distillation replay), at the cost of
some extra steps.
"""

from __future__ import annotations

from memos.engine import GenerationConfig
from memos.parametric.distillation_data import IGNORE, TrainingExample

OPENINGS = (
    "The history of the town begins", "Scientists have long studied how", "On a quiet morning,",
    "The recipe calls for", "Most people agree that", "The river flows through",
    "In the last century, transport", "A good night's sleep", "The museum's collection",
    "When the weather turns cold,", "Learning a new language", "The train left the station",
    "Forests are home to", "The committee met to discuss", "Music has always been",
    "Children often ask why", "The market opens early", "Engineers designed the bridge",
    "Computers process information", "The mountain path was",
)


def replay_examples(engine, count: int, new_tokens: int = 48) -> list[TrainingExample]:
    """``count`` examples of the base model continuing generic openings (greedy)."""
    examples = []
    for index in range(count):
        prompt = engine.encode(OPENINGS[index % len(OPENINGS)])
        reply = engine.generate_from(prompt, config=GenerationConfig(max_new_tokens=new_tokens))
        ids = prompt + reply.token_ids
        examples.append(TrainingExample(ids, [IGNORE] * len(prompt) + reply.token_ids))
    return examples
