"""Adapter folders carry a checksum manifest; any damaged or missing file reads as CorruptBlob."""

from __future__ import annotations

import time

import pytest
import torch

from memos.errors import CorruptBlob
from memos.parametric import AdapterArtifact, AdapterMetadata, AdapterStore
from memos.parametric.adapter_store import METADATA_FILE, PEFT_CONFIG_FILE, WEIGHTS_FILE
from memos.parametric.checksums import CHECKSUM_FILE

FINGERPRINT = "f" * 24


@pytest.fixture
def stored(tmp_path) -> tuple[AdapterStore, str]:
    state = {"base_model.model.layers.0.q_proj.lora_A.weight": torch.randn(2, 8),
             "base_model.model.layers.0.q_proj.lora_B.weight": torch.randn(8, 2)}
    metadata = AdapterMetadata("a1", FINGERPRINT, "tiny", [("n1", 1)], steps=1, final_loss=0.5,
                               created_at=time.time(), bytes=128)
    store = AdapterStore(tmp_path)
    store.save(AdapterArtifact(metadata, {"peft_type": "LORA", "r": 2}, state))
    return store, "a1"


def test_saved_adapter_loads_back_with_its_checksums(stored):
    store, adapter_id = stored
    store.verify(adapter_id)
    assert store.load(adapter_id, FINGERPRINT).metadata.steps == 1


@pytest.mark.parametrize("name", [WEIGHTS_FILE, PEFT_CONFIG_FILE, METADATA_FILE])
def test_one_flipped_byte_in_any_file_is_corrupt(stored, name):
    store, adapter_id = stored
    path = store.path(adapter_id) / name
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x20
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptBlob, match=f"{name} fails its checksum"):
        store.load(adapter_id, FINGERPRINT)


def test_truncated_weights_are_corrupt(stored):
    store, adapter_id = stored
    path = store.path(adapter_id) / WEIGHTS_FILE
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(CorruptBlob, match="truncated"):
        store.verify(adapter_id)


@pytest.mark.parametrize("damage", ["missing", "garbage"])
def test_adapter_without_a_readable_manifest_is_corrupt(stored, damage):
    store, adapter_id = stored
    manifest = store.path(adapter_id) / CHECKSUM_FILE
    if damage == "missing":
        manifest.unlink()
    else:
        manifest.write_text("[1, 2")
    with pytest.raises(CorruptBlob, match="checksum manifest|unreadable"):
        store.load(adapter_id, FINGERPRINT)
