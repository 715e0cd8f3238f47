"""A damaged adapter file is found by its checksum, marked, and skipped by chat, which goes on."""

from __future__ import annotations

from pathlib import Path

import pytest

from memos.errors import CorruptBlob
from memos.parametric import DistillConfig
from memos.parametric.adapter_store import WEIGHTS_FILE

QUESTION = [{"role": "user", "content": "What is Zed's favourite colour?"}]


@pytest.fixture(scope="module")
def distilled(live, alice):
    cube = alice.create_cube("damaged-adapter")
    cube.add_many([{"text": "Zed's favourite colour is teal."}, {"text": "Zed was born in Oslo."}])
    tiny = DistillConfig(steps=1, rank=2, target_modules=("q_proj",), replay=0)
    adapter = live.mos.distill(cube.id, config=tiny, user="alice")
    weights = live.home / "adapters" / adapter.id / WEIGHTS_FILE
    yield cube, adapter.id, weights, weights.read_bytes()
    alice.delete_cube(cube.id)


def _chat(alice, cube_id: str, **options):
    options.setdefault("memory_kinds", ["parametric"])  # default chat attaches on evidence only
    return alice.chat(QUESTION, cube_ids=[cube_id], k=1, max_new_tokens=2, **options)


def _flip_one_byte(path: Path, original: bytes) -> None:
    damaged = bytearray(original)
    damaged[len(damaged) // 2] ^= 0x01
    path.write_bytes(bytes(damaged))


def _damage_of(alice, cube_id: str, adapter_id: str) -> str | None:
    return next(a for a in alice.list_adapters(cube_id) if a["id"] == adapter_id)["damaged"]


def test_adapter_with_one_flipped_byte_is_not_attached_and_chat_answers(live, alice, distilled):
    cube, adapter_id, weights, original = distilled
    _flip_one_byte(weights, original)
    reply = _chat(alice, cube.id)
    assert reply.adapters == [] and reply.text is not None
    assert any(adapter_id in note and "checksum" in note for note in reply.stats.notes)
    assert "checksum" in _damage_of(alice, cube.id, adapter_id)
    assert weights.read_bytes() != original  # nothing was "repaired" or rewritten
    with pytest.raises(CorruptBlob, match="checksum"):
        live.mos.adapters.store.load(adapter_id, live.mos.engine.fingerprint)


def test_chat_that_needs_no_adapter_carries_no_note_about_the_damaged_one(alice, distilled):
    cube, adapter_id, _, _ = distilled
    reply = _chat(alice, cube.id, memory_kinds=["plaintext"])
    assert reply.adapters == [] and not any(adapter_id in n for n in reply.stats.notes)


def test_verifying_a_repaired_adapter_clears_its_damage_and_chat_attaches_it(alice, distilled):
    cube, adapter_id, weights, original = distilled
    weights.write_bytes(original)
    assert alice.verify_adapter(cube.id, adapter_id)["damaged"] is None
    assert _chat(alice, cube.id).adapters == [adapter_id]


def test_truncated_adapter_is_reported_marked_and_skipped(live, alice, distilled):
    cube, adapter_id, weights, original = distilled
    live.mos.adapters.manager.unload_all()  # as after a restart: the file is read again
    weights.write_bytes(original[: len(original) // 2])
    reply = _chat(alice, cube.id)
    assert reply.adapters == []
    assert any(adapter_id in note and "truncated" in note for note in reply.stats.notes)
    assert "truncated" in alice.verify_adapter(cube.id, adapter_id)["damaged"]
    assert "truncated" in _damage_of(alice, cube.id, adapter_id)
    weights.write_bytes(original)
    assert alice.verify_adapter(cube.id, adapter_id)["damaged"] is None


def test_stream_with_a_damaged_adapter_finishes_with_the_note(live, alice_key, distilled):
    cube, adapter_id, weights, original = distilled
    live.mos.adapters.manager.unload_all()
    _flip_one_byte(weights, original)
    body = {"messages": QUESTION, "cube_ids": [cube.id], "k": 1, "max_new_tokens": 2}
    try:
        with live.http(alice_key) as http, http.stream("POST", "/v1/chat/stream",
                                                       json=body) as response:
            lines = list(response.iter_lines())
        assert response.status_code == 200
        assert "event: done" in lines and any(adapter_id in line for line in lines)
    finally:
        weights.write_bytes(original)


def test_verifying_another_tenants_adapter_answers_404(live, bob_key, distilled):
    cube, adapter_id, _, _ = distilled
    with live.http(bob_key) as http:
        assert http.post(f"/v1/cubes/{cube.id}/adapters/{adapter_id}/verify").status_code == 404
