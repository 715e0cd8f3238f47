"""A second MemOS process for the scale-out tests: JSON commands on stdin, answers on stdout.

    python tests/scale/peer.py HOME [DATABASE_URL]

Each input line is one command: ``{"op": "add", "cube": id, "text": ...}``, ``{"op":
"search", "cube": id, "query": ..., "k": 5}``, ``{"op": "delete", "cube": id, "item": id}``;
each answer is one line of JSON. "ready" is printed once the embedder is loaded.
"""

from __future__ import annotations

import json
import sys

import torch

from memos.embedder import Embedder
from memos.kernel import MemOS
from memos.settings import Settings


def answer(mos: MemOS, command: dict) -> dict:
    """Run one command against this process's MemOS."""
    cube = mos.get_cube(command["cube"])
    if command["op"] == "add":
        return {"id": cube.add(command["text"]).id}
    if command["op"] == "delete":
        return {"state": cube.delete(command["item"]).state.value}
    if command["op"] == "search":
        hits = cube.search(command["query"], k=command.get("k", 5))
        return {"ids": [hit.item.id for hit in hits], "texts": [hit.item.text for hit in hits]}
    raise ValueError(f"unknown op {command['op']!r}")


def main(home: str, database_url: str | None) -> None:
    """Serve commands until stdin closes."""
    torch.set_num_threads(1)
    settings = Settings(home=home, database_url=database_url or None)
    with MemOS(settings=settings, embedder=Embedder.load(device="cpu")) as mos:
        print(json.dumps({"ready": True}), flush=True)
        for line in sys.stdin:
            print(json.dumps(answer(mos, json.loads(line))), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
