"""What the service runs on and the limits it enforces."""

from __future__ import annotations

from pathlib import Path

from memos.admission import FairQueue
from memos.facade.users import LOCAL_USER
from memos.quotas import service_limits
from memos.settings import Settings
from storage.disk_space import DiskSpace


class ServiceCalls:
    """Health and limits."""

    home: Path
    settings: Settings
    model_queue: FairQueue

    def health(self) -> dict:
        """Model, device, dtype, fingerprint, embedder, version and free disk (loads the model
        and embedder if they are not loaded)."""
        from memos import __version__

        embedder = self.embedder
        disk = DiskSpace.of(self.home)
        return {"status": "disk_nearly_full" if disk.nearly_full else "ok",
                "version": __version__, **self.engine.describe(), "embedder": embedder.name,
                "embedding_dim": embedder.dim, "disk_free_bytes": disk.free_bytes,
                "disk_total_bytes": disk.total_bytes, "disk_nearly_full": disk.nearly_full}

    def limits(self, user: str | None = None) -> dict:
        """Every limit (model queues, jobs, storage quotas) and ``user``'s current use."""
        owner = user or LOCAL_USER
        queue = self.model_queue.stats()
        usage = {"bytes": self.items.text_bytes_of_owner(owner),
                 "model_running": queue["running_by_user"].get(owner, 0),
                 "model_queued": queue["queued_by_user"].get(owner, 0)}
        return {**service_limits(self.settings), "usage": usage}
