"""Files a cube owns outside its own folder: the KV chunks of its notes and its adapters.

Their SQL rows go with the cube; ``CubeFiles`` remembers them first so that their files on
disk (and any copy loaded in memory) go too. Paths come from server-made keys and ids only.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from memcube.adapter_records import AdapterRecords
from memos.activation.kv_records import KvRecords

KV_SUFFIX = ".safetensors"  # one file per chunk: <home>/kv/<key>.safetensors


@dataclass(frozen=True, slots=True)
class CubeFiles:
    """The KV chunk keys and adapter ids recorded for one cube."""

    kv_keys: tuple[str, ...]
    adapter_ids: tuple[str, ...]

    @classmethod
    def of(cls, kv_records: KvRecords, adapters: AdapterRecords, cube_id: str) -> CubeFiles:
        """What SQL records for the cube (read before its rows are deleted)."""
        return cls(tuple(kv_records.keys_of_cube(cube_id)),
                   tuple(adapters.ids_of_cube(cube_id)))

    def remove(self, home: Path, activation=None, adapters=None) -> None:
        """Drop the chunks from every cache tier and delete the chunk and adapter files.

        ``activation`` and ``adapters`` are the kernel's open caches, if any: they forget
        their in-memory copies too. Without them, only files are removed (no model loads).
        """
        if activation is not None:
            activation.forget(self.kv_keys)
        for key in filter(_is_plain_id, self.kv_keys):
            (Path(home) / "kv" / f"{key}{KV_SUFFIX}").unlink(missing_ok=True)
        for adapter_id in filter(_is_plain_id, self.adapter_ids):
            if adapters is not None and adapter_id in adapters.manager.loaded:
                adapters.manager.unload(adapter_id)
            shutil.rmtree(Path(home) / "adapters" / adapter_id, ignore_errors=True)


def _is_plain_id(value: str) -> bool:
    """Keys and ids are hex or uuid-like; anything else is never turned into a path."""
    return bool(value) and value.replace("-", "").isalnum() and value.isascii()
