"""A distilled LoRA adapter: its weights, its peft config and what it was distilled from."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import torch

FORMAT_VERSION = 1


@dataclass(slots=True)
class AdapterMetadata:
    """Where an adapter came from: base model, distilled items and training outcome."""

    adapter_id: str
    base_fingerprint: str
    base_model: str
    items: list[tuple[str, int]]
    steps: int
    final_loss: float
    created_at: float
    bytes: int
    train_seconds: float = 0.0
    config: dict = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    def to_json(self) -> dict:
        """Plain dict for ``memos_adapter.json``."""
        data = asdict(self)
        data["items"] = [[item_id, version] for item_id, version in self.items]
        return data

    @classmethod
    def from_json(cls, data: dict) -> AdapterMetadata:
        """Inverse of ``to_json``."""
        data = dict(data)
        data["items"] = [(str(item_id), int(version)) for item_id, version in data["items"]]
        return cls(**data)


@dataclass(slots=True)
class AdapterArtifact:
    """A trained adapter in memory: peft state dict (CPU tensors), peft config, metadata."""

    metadata: AdapterMetadata
    peft_config: dict
    state_dict: dict[str, torch.Tensor]

    @property
    def id(self) -> str:
        """The adapter's id."""
        return self.metadata.adapter_id


@dataclass(frozen=True, slots=True)
class Staleness:
    """How an adapter's distilled items differ from the cube's current items."""

    changed: tuple[str, ...]
    removed: tuple[str, ...]
    added: tuple[str, ...]

    @property
    def stale(self) -> bool:
        """True when any item changed, disappeared or was added since distillation."""
        return bool(self.changed or self.removed or self.added)


def staleness(metadata: AdapterMetadata, current: Iterable[tuple[str, int]]) -> Staleness:
    """Compare the (item_id, version) pairs an adapter learned with the current ones."""
    learned = dict(metadata.items)
    now = dict(current)
    return Staleness(
        changed=tuple(sorted(i for i in learned.keys() & now.keys() if learned[i] != now[i])),
        removed=tuple(sorted(learned.keys() - now.keys())),
        added=tuple(sorted(now.keys() - learned.keys())),
    )


def is_stale(metadata: AdapterMetadata, current: Iterable[tuple[str, int]]) -> bool:
    """True when the adapter no longer matches the current (item_id, version) pairs."""
    return staleness(metadata, current).stale


def state_dict_bytes(state_dict: dict[str, torch.Tensor]) -> int:
    """Bytes the tensors of a state dict occupy."""
    return sum(t.numel() * t.element_size() for t in state_dict.values())
