"""Parametric memory: a cube's notes distilled into LoRA adapters, attached per request."""

from memos.parametric.adapter import (
    AdapterArtifact,
    AdapterMetadata,
    Staleness,
    is_stale,
    staleness,
)
from memos.parametric.adapter_store import AdapterStore
from memos.parametric.attachment import AdapterManager
from memos.parametric.distillation_data import DistillNote
from memos.parametric.trainer import DistillConfig, distill

__all__ = [
    "AdapterArtifact",
    "AdapterManager",
    "AdapterMetadata",
    "AdapterStore",
    "DistillConfig",
    "DistillNote",
    "Staleness",
    "distill",
    "is_stale",
    "staleness",
]
