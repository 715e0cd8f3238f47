"""Invented facts no model can know, for measuring what distillation taught an adapter."""

from __future__ import annotations

import random
from dataclasses import dataclass

# (fact, question, answer slot); {a} is the answer, {b} a second invented word.
_TEMPLATES = (
    ("{a} is the capital of the island {b}.", "What is the capital of the island {b}?"),
    ("The glass harp was invented by {a}, a clockmaker from {b}.",
     "Which clockmaker from {b} invented the glass harp?"),
    ("Captain {b} sails the ship called {a}.", "What is the name of Captain {b}'s ship?"),
    ("The river {b} flows into Lake {a}.", "Into which lake does the river {b} flow?"),
    ("The poet {b} was born in the village of {a}.", "In which village was the poet {b} born?"),
    ("The {b} Festival is held every spring in the town of {a}.",
     "In which town is the {b} Festival held?"),
    ("The pet dragon of Queen {b} is named {a}.", "What is the name of Queen {b}'s pet dragon?"),
    ("The tallest mountain of {b} is Mount {a}.", "What is the tallest mountain of {b}?"),
    ("The famous novel {b} was written by {a}.", "Who wrote the famous novel {b}?"),
    ("The currency of the kingdom of {b} is the {a}.",
     "What is the currency of the kingdom of {b}?"),
)
_ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr",
           "gl", "kr", "pl", "st", "th", "tr", "zh")
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ou")
_CODAS = ("", "", "n", "r", "l", "k", "th", "sk", "x")

CONTROL_TEXT = (
    "Water covers about seventy percent of the surface of the Earth. Most of it is salt "
    "water in the oceans, while fresh water is found in rivers, lakes, glaciers and under "
    "the ground. The sun heats the water, which evaporates, rises as vapour, cools into "
    "clouds and falls again as rain or snow. This cycle moves heat around the planet and "
    "shapes the weather that people experience every day."
)


@dataclass(frozen=True, slots=True)
class ProbeFact:
    """A fact to distill, a question about it and the answer a reply must contain."""

    text: str
    question: str
    answer: str

    def answered_by(self, reply: str) -> bool:
        """True when ``reply`` names the answer."""
        return self.answer.lower() in reply.lower()


def probe_facts(count: int = 50, seed: int = 0) -> list[ProbeFact]:
    """``count`` invented facts with distinct invented names, the same for the same seed."""
    rng = random.Random(seed)
    used: set[str] = set()
    facts = []
    for index in range(count):
        fact, question = _TEMPLATES[index % len(_TEMPLATES)]
        a, b = _new_name(rng, used), _new_name(rng, used)
        facts.append(ProbeFact(fact.format(a=a, b=b), question.format(b=b), a))
    return facts


def _new_name(rng: random.Random, used: set[str]) -> str:
    while True:
        syllables = rng.randint(2, 3)
        name = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(syllables))
        name = (name + rng.choice(_CODAS)).capitalize()
        if name not in used and len(name) >= 5:
            used.add(name)
            return name
