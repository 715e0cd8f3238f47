"""A writer killed with SIGKILL mid-batch loses no acknowledged add and leaves nothing half-done."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
from sqlalchemy import func, select

from storage.schema import ItemHistoryRow, ItemRow
from storage.vector_index import VectorIndex

REPO = Path(__file__).resolve().parents[2]

# The child prints "<id>\t<text>" for every add only after add/add_many has returned.
WRITER = textwrap.dedent("""
    import random, sys
    import torch
    from memos.embedder import Embedder
    from memos.kernel import MemOS
    from memos.settings import Settings

    torch.set_num_threads(1)
    home, url, cube_id, seed = sys.argv[1], sys.argv[2] or None, sys.argv[3], int(sys.argv[4])
    mos = MemOS(settings=Settings(home=home, database_url=url),
                embedder=Embedder.load(device="cpu"))
    cube = mos.get_cube(cube_id)
    rng = random.Random(seed)
    words = ("harbour lighthouse ferry tram bakery orchard violin marathon chemistry cat "
             "salmon bridge cathedral garden library market river museum train festival").split()
    for n in range(100_000):
        batch = [{"text": " ".join(rng.sample(words, 5)) + f" (note {seed}-{n}-{i})",
                  "force": True} for i in range(rng.randint(1, 4))]
        items = cube.add_many(batch) if len(batch) > 1 else [cube.add(**batch[0])]
        for item in items:
            print(f"{item.id}\\t{item.text}", flush=True)
""")


def run_writer_and_kill(home: Path, url: str | None, cube_id: str, seed: int,
                        kill_after: int) -> dict[str, str]:
    """Start a writer, SIGKILL it after ``kill_after`` acknowledged adds; returns them."""
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(home), url or "", cube_id, str(seed)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    acknowledged: dict[str, str] = {}
    try:
        for line in child.stdout:
            item_id, text = line.rstrip("\n").split("\t")
            acknowledged[item_id] = text
            if len(acknowledged) >= kill_after:
                time.sleep(0.01 * (seed % 5))  # land the kill at different points of an add
                break
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert len(acknowledged) >= kill_after, "the writer died before it was killed"
    return acknowledged


def test_killed_writer_keeps_every_acknowledged_add_and_nothing_half_written(
        open_memos, database_url):
    mos = open_memos()
    cube_id = mos.create_cube("crash").id
    home = mos.home
    mos.close()

    acknowledged: dict[str, str] = {}
    for seed, kill_after in ((1, 9), (2, 4)):
        acknowledged |= run_writer_and_kill(home, database_url, cube_id, seed, kill_after)

    mos = open_memos(home)
    cube = mos.get_cube(cube_id)
    stored = mos.items.get_many(acknowledged)
    assert {item_id: item.text for item_id, item in stored.items()} == acknowledged

    with mos.database.session() as session:
        item_ids = set(session.scalars(select(ItemRow.id).where(ItemRow.cube_id == cube_id)))
        created = list(session.scalars(select(ItemHistoryRow.item_id).where(
            ItemHistoryRow.cube_id == cube_id, ItemHistoryRow.event == "created")))
        history_ids = set(session.scalars(select(ItemHistoryRow.item_id).where(
            ItemHistoryRow.cube_id == cube_id)))
        without_embedding = session.scalar(select(func.count()).select_from(ItemRow).where(
            ItemRow.cube_id == cube_id, ItemRow.embedding.is_(None)))
    assert len(item_ids) == len(created) and set(created) == item_ids
    assert history_ids == item_ids  # no history row of an add that never landed
    assert without_embedding == 0

    # The FAISS file the writer left behind is stale; reopening rebuilt it from SQL.
    indexable = mos.items.indexable(cube_id)
    vectors = VectorIndex.load(mos.cube_dir(cube_id) / "index" / "vectors.faiss")
    assert len(indexable) == len(item_ids) == len(vectors) == cube.stats()["indexed"]
    assert all(np.array_equal(vectors.vector(seq), item.embedding) for seq, item in indexable)
    for item_id, text in list(acknowledged.items())[::4]:
        hits = cube.search(text, k=10)
        assert any(hit.item.id == item_id and hit.why["dense"]["rank"] == 1 for hit in hits)
