"""A cube with a distilled adapter makes the round trip: rows, files, checksums, history."""

from __future__ import annotations

from memos import MemOS
from memos.engine import Engine, EngineConfig
from memos.parametric import DistillConfig

TINY = DistillConfig(steps=1, rank=2, target_modules=("q_proj",), replay=0)


def test_cube_with_an_adapter_exports_and_imports_into_another_home(tmp_path, engine, embedder,
                                                                    models_dir):
    archive = tmp_path / "zed.memcube"
    with MemOS(home=tmp_path / "a", engine=engine, embedder=embedder) as source:
        cube = source.create_cube("zed", owner="alice")
        cube.add_many([{"text": "Zed's favourite colour is teal."},
                       {"text": "Zed was born in Oslo."}])
        original = source.distill(cube.id, config=TINY)
        cube.export(archive)
    # Another home is another process: its own copy of the model, with no LoRA layers yet.
    fresh = Engine.load(EngineConfig(models_dir=models_dir, device="cpu", progress=False))
    with MemOS(home=tmp_path / "b", engine=fresh, embedder=embedder) as target:
        imported = target.import_cube(archive, owner="alice")
        [adapter] = target.adapters.list(imported.id)
        assert adapter.id != original.id and not adapter.stale and adapter.damaged is None
        assert target.adapters.verify(adapter.id).damaged is None  # checksums travelled
        notes, _ = imported.list()
        assert set(adapter.items) == {note.id for note in notes}
        assert [h.event for h in imported.history(notes[0].id)][-1] == "distilled"
        reply = target.chat([{"role": "user", "content": "Where was Zed born?"}],
                            cube_ids=[imported.id], memory_kinds=("parametric",),
                            max_new_tokens=2)
        assert reply.adapters == [adapter.id]
