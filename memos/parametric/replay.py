"""Replay of the base model's own text, which distillation holds the adapter to.

The adapter should learn the notes and leave everything else alone. Each training step also
scores a few texts the base model itself wrote after generic openings, and penalises the
adapted model's divergence from the base model's next-token distributions on them
(KL(base || adapted), as in learning without forgetting / self-distillation).
"""

from __future__ import annotations

import weakref

import torch

OPENINGS = (
    "The history of the town begins", "Scientists have long studied how", "On a quiet morning,",
    "The recipe calls for", "Most people agree that", "The river flows through",
    "In the last century, transport", "A good night's sleep", "The museum's collection",
    "When the weather turns cold,", "Learning a new language", "The train left the station",
    "Forests are home to", "The committee met to discuss", "Music has always been",
    "Children often ask why", "The market opens early", "Engineers designed the bridge",
    "Computers process information", "The mountain path was",
)


_made: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # engine -> {args: texts}


def replay_texts(engine, count: int, new_tokens: int = 48) -> list[list[int]]:
    """Token ids of ``count`` generic openings, each continued greedily by the base model.

    The texts depend only on the model, so each engine makes them once, in one batch.
    """
    made = _made.setdefault(engine, {})
    if (count, new_tokens) not in made:
        made[(count, new_tokens)] = _continue_openings(engine, count, new_tokens)
    return made[(count, new_tokens)]


def _continue_openings(engine, count: int, new_tokens: int) -> list[list[int]]:
    prompts = [engine.encode(OPENINGS[index % len(OPENINGS)]) for index in range(count)]
    pad = engine.tokenizer.pad_token_id
    pad = pad if pad is not None else min(engine.eos_token_ids)
    width = max(len(prompt) for prompt in prompts)
    ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts], device=engine.device)
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts],
                        device=engine.device)
    with engine.lock, torch.inference_mode():
        out = engine.model.generate(input_ids=ids, attention_mask=mask, do_sample=False,
                                    max_new_tokens=new_tokens, pad_token_id=pad)
    stops = engine.eos_token_ids | {pad}
    return [prompt + _until_stop(row[width:].tolist(), stops)
            for prompt, row in zip(prompts, out, strict=True)]


def _until_stop(token_ids: list[int], stops: set[int]) -> list[int]:
    for position, token in enumerate(token_ids):
        if token in stops:
            return token_ids[:position]
    return token_ids
