"""Adapters on disk: one folder per adapter, in peft's layout plus memos metadata.

Next to the files sits ``memos_checksums.json``, an XXH3-64 of each file written with them
(it travels with the folder, so an exported adapter keeps it). Loading checks every file
against it: a flipped byte or a truncated file reads as CorruptBlob, never as weights.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import replace
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from memos.parametric.adapter import FORMAT_VERSION, AdapterArtifact, AdapterMetadata
from memos.parametric.checksums import (
    CHECKSUM_FILE,
    file_checksums,
    manifest_checksum,
    read_verified,
)
from storage.atomic import fsync_dir
from storage.errors import CorruptBlob, IncompatibleModel, InvalidInput, NotFound, UnsupportedFormat
from storage.write_failures import storage_errors

WEIGHTS_FILE = "adapter_model.safetensors"
PEFT_CONFIG_FILE = "adapter_config.json"
METADATA_FILE = "memos_adapter.json"
CHECKED_FILES = (WEIGHTS_FILE, PEFT_CONFIG_FILE, METADATA_FILE)
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
                fsync_dir(staging)
                staging.rename(target)
                fsync_dir(self.root)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return target

    def metadata(self, adapter_id: str) -> AdapterMetadata:
        """The metadata of a stored adapter (its checksum checked)."""
        folder = self._existing(adapter_id)
        data = read_verified(folder, [METADATA_FILE], adapter_id)[METADATA_FILE]
        return _parse_metadata(adapter_id, data)

    def verify(self, adapter_id: str) -> None:
        """Check every file of a stored adapter against its checksums (CorruptBlob if not)."""
        read_verified(self._existing(adapter_id), CHECKED_FILES, adapter_id)

    def weights_checksum(self, adapter_id: str) -> str:
        """The recorded checksum of an adapter's weights file (CorruptBlob when missing)."""
        return manifest_checksum(self._existing(adapter_id), WEIGHTS_FILE, adapter_id)

    def load(self, adapter_id: str, fingerprint: str) -> AdapterArtifact:
        """Load an adapter made for the model with ``fingerprint`` (every file checked)."""
        folder = self._existing(adapter_id)
        files = read_verified(folder, CHECKED_FILES, adapter_id)
        metadata = _parse_metadata(adapter_id, files[METADATA_FILE])
        if metadata.base_fingerprint != fingerprint:
            raise IncompatibleModel(
                f"adapter {adapter_id} was distilled on model {metadata.base_model!r} "
                f"(fingerprint {metadata.base_fingerprint}); the loaded model's fingerprint is "
                f"{fingerprint}; distill the notes again for this model"
            )
        try:
            state = load_tensors(files[WEIGHTS_FILE])
            peft_config = json.loads(files[PEFT_CONFIG_FILE])
        except (SafetensorError, ValueError) as error:
            raise CorruptBlob(f"adapter {adapter_id}: {error}") from error
        return AdapterArtifact(metadata=metadata, peft_config=peft_config, state_dict=state)

    def _existing(self, adapter_id: str) -> Path:
        folder = self.path(adapter_id)
        if not (folder / METADATA_FILE).is_file():
            raise NotFound(f"no adapter {adapter_id!r} in {self.root}")
        return folder

    def delete(self, adapter_id: str) -> None:
        """Remove a stored adapter (no error when it is absent)."""
        shutil.rmtree(self.path(adapter_id), ignore_errors=True)

    @staticmethod
    def _write_files(folder: Path, artifact: AdapterArtifact) -> None:
        state = {k: v.contiguous() for k, v in artifact.state_dict.items()}
        contents = {
            WEIGHTS_FILE: save_tensors(state, metadata={"format": "pt"}),
            PEFT_CONFIG_FILE: _json_bytes(artifact.peft_config),
            METADATA_FILE: _json_bytes(artifact.metadata.to_json()),
        }
        contents[CHECKSUM_FILE] = _json_bytes(file_checksums(contents))
        for name, data in contents.items():
            (folder / name).write_bytes(data)
            _fsync_file(folder / name)


def _parse_metadata(adapter_id: str, data: bytes) -> AdapterMetadata:
    try:
        fields = json.loads(data)
        if fields.get("format_version", 0) > FORMAT_VERSION:
            raise UnsupportedFormat(f"adapter {adapter_id} uses a newer format")
        metadata = AdapterMetadata.from_json(fields)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise CorruptBlob(f"adapter {adapter_id}: unreadable {METADATA_FILE}") from error
    # The folder's name is the server's id; an imported adapter's file still names its old one.
    return replace(metadata, adapter_id=adapter_id)


def _json_bytes(data: dict) -> bytes:
    return json.dumps(data, indent=2, sort_keys=True, default=str).encode()


def _fsync_file(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())

