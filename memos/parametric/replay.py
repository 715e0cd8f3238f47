"""Replay of the base model's own text, which distillation holds the adapter to.

The adapter should learn the notes and leave everything else alone. Each training step also
scores a few texts the base model itself wrote after generic openings, and penalises the
adapted model's divergence from the base model's next-token distributions on them
(KL(base || adapted), as in learning without forgetting / self-distillation).
"""

from __future__ import annotations

from memos.engine import GenerationConfig

OPENINGS = (
    "The history of the town begins", "Scientists have long studied how", "On a quiet morning,",
    "The recipe calls for", "Most people agree that", "The river flows through",
    "In the last century, transport", "A good night's sleep", "The museum's collection",
    "When the weather turns cold,", "Learning a new language", "The train left the station",
    "Forests are home to", "The committee met to discuss", "Music has always been",
    "Children often ask why", "The market opens early", "Engineers designed the bridge",
    "Computers process information", "The mountain path was",
)


def replay_texts(engine, count: int, new_tokens: int = 48) -> list[list[int]]:
    """Token ids of ``count`` generic openings, each continued greedily by the base model."""
    texts = []
    for index in range(count):
        prompt = engine.encode(OPENINGS[index % len(OPENINGS)])
        reply = engine.generate_from(prompt, config=GenerationConfig(max_new_tokens=new_tokens))
        texts.append(prompt + reply.token_ids)
    return texts
