"""Measuring an adapter: perplexity of texts and the share of questions answered in chat."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from memos.engine import GenerationConfig
from memos.parametric.probe_facts import ProbeFact


@dataclass(frozen=True, slots=True)
class AnswerRate:
    """How many probe questions a model answered, with its replies."""

    answered: int
    asked: int
    replies: tuple[str, ...]

    @property
    def share(self) -> float:
        """Answered / asked."""
        return self.answered / self.asked if self.asked else 0.0


@torch.inference_mode()
def perplexity(engine, texts: Sequence[str]) -> float:
    """Per-token perplexity of ``texts`` (each scored on its own) under the current model."""
    total_nll, total_tokens = 0.0, 0
    for text in texts:
        ids = torch.tensor([engine.encode(text)], device=engine.device)
        with engine.lock:
            logits = engine.model(input_ids=ids, use_cache=False).logits[0, :-1].float()
        total_nll += F.cross_entropy(logits, ids[0, 1:], reduction="sum").item()
        total_tokens += ids.shape[1] - 1
    return math.exp(total_nll / total_tokens)


def answer_rate(engine, facts: Sequence[ProbeFact], max_new_tokens: int = 24) -> AnswerRate:
    """Ask each fact's question with greedy decoding, no retrieval, and count right answers."""
    config = GenerationConfig(max_new_tokens=max_new_tokens)
    replies = tuple(
        engine.generate([{"role": "user", "content": fact.question}], config).text
        for fact in facts
    )
    answered = sum(fact.answered_by(reply) for fact, reply in zip(facts, replies, strict=True))
    return AnswerRate(answered=answered, asked=len(facts), replies=replies)
