"""Adapters on disk: one folder per adapter, in peft's layout plus memos metadata."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from memos.parametric.adapter import FORMAT_VERSION, AdapterArtifact, AdapterMetadata
from storage.errors import CorruptBlob, IncompatibleModel, InvalidInput, NotFound, UnsupportedFormat
from storage.write_failures import storage_errors

WEIGHTS_FILE = "adapter_model.safetensors"
PEFT_CONFIG_FILE = "adapter_config.json"
METADATA_FILE = "memos_adapter.json"
_TEMP_PREFIX = ".partial-"


class AdapterStore:
    """Saves and loads adapters under ``root`` as ``<root>/<adapter_id>/``.

    A folder appears only complete: it is written under a temporary name, fsynced and
    renamed, so a crash leaves at most a ``.partial-*`` folder that ``list_ids`` ignores.
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def path(self, adapter_id: str) -> Path:
        """Folder of an adapter (whether or not it exists)."""
        if not adapter_id or not adapter_id.replace("-", "").isalnum():
            raise InvalidInput(f"invalid adapter id {adapter_id!r}")
        return self.root / adapter_id

    def exists(self, adapter_id: str) -> bool:
        """True when the adapter's folder is complete on disk."""
        return (self.path(adapter_id) / METADATA_FILE).is_file()

    def list_ids(self) -> list[str]:
        """Ids of all complete adapters, sorted."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / METADATA_FILE).is_file())

    def save(self, artifact: AdapterArtifact) -> Path:
        """Write an adapter atomically; returns its folder."""
        target = self.path(artifact.id)
        if target.exists():
            raise InvalidInput(f"adapter {artifact.id} already exists")
        with storage_errors():
            self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / f"{_TEMP_PREFIX}{artifact.id}-{uuid.uuid4().hex[:8]}"
        try:
            with storage_errors():
                staging.mkdir()
                self._write_files(staging, artifact)
                _fsync_dir(staging)
                staging.rename(target)
                _fsync_dir(self.root)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return target

    def metadata(self, adapter_id: str) -> AdapterMetadata:
        """The metadata of a stored adapter."""
        path = self.path(adapter_id) / METADATA_FILE
        if not path.is_file():
            raise NotFound(f"no adapter {adapter_id!r} in {self.root}")
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise CorruptBlob(f"adapter {adapter_id}: unreadable {METADATA_FILE}") from error
        if data.get("format_version", 0) > FORMAT_VERSION:
            raise UnsupportedFormat(f"adapter {adapter_id} uses a newer format")
        return AdapterMetadata.from_json(data)

    def load(self, adapter_id: str, fingerprint: str) -> AdapterArtifact:
        """Load an adapter made for the model with ``fingerprint``."""
        metadata = self.metadata(adapter_id)
        if metadata.base_fingerprint != fingerprint:
            raise IncompatibleModel(
                f"adapter {adapter_id} was distilled on model {metadata.base_model!r} "
                f"(fingerprint {metadata.base_fingerprint}); the loaded model's fingerprint is "
                f"{fingerprint}; distill the notes again for this model"
            )
        folder = self.path(adapter_id)
        try:
            state = load_file(folder / WEIGHTS_FILE)
            peft_config = json.loads((folder / PEFT_CONFIG_FILE).read_text())
        except (OSError, SafetensorError, json.JSONDecodeError) as error:
            raise CorruptBlob(f"adapter {adapter_id}: {error}") from error
        return AdapterArtifact(metadata=metadata, peft_config=peft_config, state_dict=state)

    def delete(self, adapter_id: str) -> None:
        """Remove a stored adapter (no error when it is absent)."""
        shutil.rmtree(self.path(adapter_id), ignore_errors=True)

    @staticmethod
    def _write_files(folder: Path, artifact: AdapterArtifact) -> None:
        state = {k: v.contiguous() for k, v in artifact.state_dict.items()}
        save_file(state, folder / WEIGHTS_FILE, metadata={"format": "pt"})
        _write_json(folder / PEFT_CONFIG_FILE, artifact.peft_config)
        _write_json(folder / METADATA_FILE, artifact.metadata.to_json())
        for name in (WEIGHTS_FILE, PEFT_CONFIG_FILE, METADATA_FILE):
            _fsync_file(folder / name)


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))


def _fsync_file(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
