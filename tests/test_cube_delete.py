"""Deleting a cube removes its KV chunks and adapters too: rows, files and loaded copies."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from memos.kernel import MemOS
from memos.parametric import DistillConfig
from storage.schema import AdapterRow, KvEntryRow

TINY = DistillConfig(steps=1, rank=2, target_modules=("q_proj",), replay=0)


def _kv_rows(mos: MemOS, cube_id: str) -> list[str]:
    with mos.database.session() as session:
        return list(session.scalars(select(KvEntryRow.key).where(KvEntryRow.cube_id == cube_id)))


def _adapter_rows(mos: MemOS, cube_id: str) -> list[str]:
    with mos.database.session() as session:
        return list(session.scalars(select(AdapterRow.id).where(AdapterRow.cube_id == cube_id)))


@pytest.fixture
def two_cubes(tmp_path, engine, embedder):
    mos = MemOS(home=tmp_path / "home", engine=engine, embedder=embedder)
    doomed, kept = mos.create_cube("doomed"), mos.create_cube("kept")
    doomed_notes = doomed.add_many([{"text": "Alice moved to Lisbon in May 2023."},
                                    {"text": "Alice's sister Maria is a nurse in Porto."}])
    kept_note = kept.add("Bob adopted a grey cat named Miso.")
    mos.warm(doomed.id, [n.id for n in doomed_notes])
    mos.warm(kept.id, [kept_note.id])
    adapter = mos.distill(doomed.id, config=TINY)
    yield mos, doomed.id, kept.id, adapter.id
    mos.close()


def test_delete_cube_removes_its_kv_chunks_and_adapters_but_not_others(two_cubes):
    mos, doomed, kept, adapter_id = two_cubes
    doomed_keys, kept_keys = _kv_rows(mos, doomed), _kv_rows(mos, kept)
    mos.adapters.manager.load(adapter_id)
    assert len(doomed_keys) == 2 and all(mos.activation.cache.file_path(k).exists()
                                         for k in doomed_keys)
    mos.delete_cube(doomed)
    assert _kv_rows(mos, doomed) == [] and _adapter_rows(mos, doomed) == []
    assert not any(mos.activation.cache.file_path(k).exists() for k in doomed_keys)
    assert not {e["key"] for e in mos.activation.entries()} & set(doomed_keys)
    assert not (mos.home / "adapters" / adapter_id).exists()
    assert adapter_id not in mos.adapters.manager.loaded
    assert _kv_rows(mos, kept) == kept_keys
    assert all(mos.activation.cache.file_path(k).exists() for k in kept_keys)


def test_delete_cube_in_a_fresh_process_removes_the_files_without_the_model(two_cubes, embedder):
    mos, doomed, kept, adapter_id = two_cubes
    doomed_keys, kept_keys = _kv_rows(mos, doomed), _kv_rows(mos, kept)
    files = [mos.activation.cache.file_path(k) for k in doomed_keys]
    kept_files = [mos.activation.cache.file_path(k) for k in kept_keys]
    home = mos.home
    mos.close()
    with MemOS(home=home, embedder=embedder) as fresh:  # no engine given, none loaded
        fresh.delete_cube(doomed)
        assert _kv_rows(fresh, doomed) == [] and _kv_rows(fresh, kept) == kept_keys
    assert not any(path.exists() for path in files)
    assert all(path.exists() for path in kept_files)
    assert not (home / "adapters" / adapter_id).exists()
