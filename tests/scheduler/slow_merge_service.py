"""A service process for the resume test: runs one merge job slowly, until it is killed.

Run as ``python slow_merge_service.py HOME``; the test SIGKILLs it mid-job.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

from memos.embedder import Embedder
from memos.kernel import MemOS
from memos.scheduler import JobContext, JobStore, Scheduler
from memos.scheduler.policies import MergePolicy

SECONDS_PER_GROUP = 0.5


class SlowMergePolicy(MergePolicy):
    """The real merge policy, pausing after each group so the process can die mid-job."""

    def merge_group(self, ctx: JobContext, survivor_id: str, other_ids: Sequence[str],
                    threshold: float) -> int:
        merged = super().merge_group(ctx, survivor_id, other_ids, threshold)
        time.sleep(SECONDS_PER_GROUP)
        return merged


def main(home: str) -> None:
    mos = MemOS(home, embedder=Embedder.load(device="cpu"))
    scheduler = Scheduler(mos.scheduler.memories, JobStore(mos.database, mos.clock),
                          policies=[SlowMergePolicy()])
    scheduler.tick()
    scheduler.run_pending()


if __name__ == "__main__":
    main(sys.argv[1])
