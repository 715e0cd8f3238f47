"""Update detection: precision and recall on labelled note pairs, dev set and held-out set.

    python bench/supersession.py

Each pair is (older note, newer note, label). Rows: the shipped detector (cue words + shared
subject + same attribute + different value + embedder cosine), and as a baseline cosine
similarity alone at the threshold that does best on dev (applied unchanged to held-out).
"""

from __future__ import annotations

import time

from supersession_data import DEV, HELD_OUT

from memcube.update_detection import UpdateDetector
from memos.embedder import Embedder


def similarities(embedder: Embedder, pairs) -> list[float]:
    """Cosine similarity of each (old, new) pair (the embedder's vectors are normalised)."""
    old = embedder.embed([pair[0] for pair in pairs])
    new = embedder.embed([pair[1] for pair in pairs])
    return [float(a @ b) for a, b in zip(old, new, strict=True)]


def scores(predicted: list[bool], labels: list[bool]) -> tuple[float, float, int, int]:
    """Precision, recall, false positives, false negatives."""
    hits = sum(p and y for p, y in zip(predicted, labels, strict=True))
    false_pos = sum(p and not y for p, y in zip(predicted, labels, strict=True))
    false_neg = sum(y and not p for p, y in zip(predicted, labels, strict=True))
    precision = hits / (hits + false_pos) if hits + false_pos else 1.0
    return precision, hits / max(1, hits + false_neg), false_pos, false_neg


def best_cosine_threshold(sims: list[float], labels: list[bool]) -> float:
    """The cosine threshold with the best F1 on these pairs."""
    def f1(threshold: float) -> float:
        precision, recall, _, _ = scores([s >= threshold for s in sims], labels)
        return 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return max(sorted(set(sims)), key=f1)


def main() -> None:
    embedder = Embedder.load(device="cpu")
    detector = UpdateDetector()
    sets = {"dev": DEV, "held-out": HELD_OUT}
    sims = {name: similarities(embedder, pairs) for name, pairs in sets.items()}
    threshold = best_cosine_threshold(sims["dev"], [label for *_, label in DEV])
    print(f"{'set':<9} {'method':<28} {'pairs':>5} {'updates':>7} {'precision':>9} "
          f"{'recall':>6} {'FP':>3} {'FN':>3} {'ms/pair':>7}")
    for name, pairs in sets.items():
        labels = [label for *_, label in pairs]
        started = time.perf_counter()
        predicted = [detector.corrects(new, old, sim)
                     for (old, new, _), sim in zip(pairs, sims[name], strict=True)]
        per_pair = (time.perf_counter() - started) * 1000 / len(pairs)
        rows = [("detector (shipped)", predicted, per_pair),
                (f"cosine >= {threshold:.2f} (baseline)", [s >= threshold for s in sims[name]],
                 0.0)]
        for method, guesses, cost in rows:
            precision, recall, false_pos, false_neg = scores(guesses, labels)
            print(f"{name:<9} {method:<28} {len(pairs):>5} {sum(labels):>7} {precision:>9.2f} "
                  f"{recall:>6.2f} {false_pos:>3} {false_neg:>3} {cost:>7.3f}")


if __name__ == "__main__":
    main()
