"""Parametric memory: distilling notes into a LoRA adapter and attaching it per request."""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass

import pytest
import torch
from peft.tuners.tuners_utils import BaseTunerLayer

from memos.engine import Engine, EngineConfig
from memos.errors import Cancelled, IncompatibleModel, InvalidInput
from memos.parametric import (
    AdapterArtifact,
    AdapterManager,
    AdapterStore,
    DistillConfig,
    DistillNote,
    distill,
    is_stale,
    staleness,
)
from memos.parametric.distillation_data import build_examples, chat_renderings, note_entities
from memos.parametric.evaluation import perplexity
from memos.parametric.probe_facts import CONTROL_TEXT, probe_facts

FACTS = probe_facts(50)
NOTES = [DistillNote(f"item-{i}", 1, fact.text) for i, fact in enumerate(FACTS)]
PROMPT = [{"role": "user", "content": "Where do rivers usually end?"}]


@dataclass
class Distilled:
    """One distillation of FACTS, with the base model's measurements taken beforehand."""

    artifact: AdapterArtifact
    store: AdapterStore
    manager: AdapterManager
    base_logits: torch.Tensor
    base_facts_ppl: float
    base_control_ppl: float


@pytest.fixture(scope="module")
def engine(models_dir) -> Engine:
    """An engine of this module's own: attaching adapters changes its model object."""
    return Engine.load(EngineConfig(models_dir=models_dir, device="cpu", progress=False))


@pytest.fixture(scope="module")
def distilled(engine, tmp_path_factory) -> Distilled:
    """Distil the 50 facts once; every adapter this module loads is removed afterwards."""
    base_logits = _prompt_logits(engine)
    base_facts_ppl = perplexity(engine, [f.text for f in FACTS])
    base_control_ppl = perplexity(engine, [CONTROL_TEXT])
    artifact = distill(engine, NOTES, DistillConfig())
    store = AdapterStore(tmp_path_factory.mktemp("adapters"))
    store.save(artifact)
    manager = AdapterManager(engine, store)
    yield Distilled(
        artifact, store, manager, base_logits, base_facts_ppl, base_control_ppl
    )
    manager.unload_all()


def _prompt_logits(engine) -> torch.Tensor:
    return engine.forward(engine.chat_token_ids(PROMPT)).logits


def _copy_with_id(artifact: AdapterArtifact, adapter_id: str, **changes) -> AdapterArtifact:
    metadata = dataclasses.replace(artifact.metadata, adapter_id=adapter_id, **changes)
    return AdapterArtifact(metadata, artifact.peft_config, artifact.state_dict)


def _has_adapter_layers(model: torch.nn.Module) -> bool:
    return any(isinstance(m, BaseTunerLayer) for m in model.modules())


def test_adapter_lowers_fact_perplexity_fivefold_and_raises_control_at_most_15_percent(
    engine, distilled
):
    with distilled.manager.attached([distilled.artifact.id]):
        facts_ppl = perplexity(engine, [f.text for f in FACTS])
        control_ppl = perplexity(engine, [CONTROL_TEXT])
    print(f"facts ppl {distilled.base_facts_ppl:.1f} -> {facts_ppl:.2f}; "
          f"control ppl {distilled.base_control_ppl:.2f} -> {control_ppl:.2f}")
    assert facts_ppl * 5 <= distilled.base_facts_ppl
    assert control_ppl <= distilled.base_control_ppl * 1.15


def test_detaching_restores_base_logits_exactly(engine, distilled):
    with distilled.manager.attached([distilled.artifact.id]):
        attached = _prompt_logits(engine)
    detached = _prompt_logits(engine)
    assert not torch.equal(attached, distilled.base_logits)
    assert torch.equal(detached, distilled.base_logits)
    with distilled.manager.attached([]):
        assert torch.equal(_prompt_logits(engine), distilled.base_logits)


def test_unloading_every_adapter_removes_the_injected_layers(engine, distilled):
    distilled.manager.load(distilled.artifact.id)
    assert _has_adapter_layers(engine.model)
    distilled.manager.unload_all()
    assert not _has_adapter_layers(engine.model)
    assert not hasattr(engine.model, "peft_config")
    assert torch.equal(_prompt_logits(engine), distilled.base_logits)


def test_engine_model_keeps_its_config_and_generation_config_while_attached(engine, distilled):
    model, config = engine.model, engine.model.config
    with distilled.manager.attached([distilled.artifact.id]):
        assert engine.model is model and engine.model.config is config
        assert engine.device.type == "cpu" and engine.dtype == torch.float32
        assert engine.eos_token_ids
        assert engine.generate(PROMPT).text


def test_distillation_leaves_the_engine_model_untouched(engine, distilled):
    distilled.manager.unload_all()  # start from the bare model
    flags = [p.requires_grad for p in engine.model.parameters()]
    config = DistillConfig(steps=1, rank=2, target_modules=("q_proj",), replay=2)
    distill(engine, NOTES[:2], config)
    assert not _has_adapter_layers(engine.model)
    assert [p.requires_grad for p in engine.model.parameters()] == flags
    assert torch.equal(_prompt_logits(engine), distilled.base_logits)


def test_saved_adapter_loads_back_identical(engine, distilled):
    loaded = distilled.store.load(distilled.artifact.id, engine.fingerprint)
    assert loaded.metadata == distilled.artifact.metadata
    assert loaded.metadata.items == [(n.item_id, n.version) for n in NOTES]
    assert loaded.state_dict.keys() == distilled.artifact.state_dict.keys()
    for key, tensor in distilled.artifact.state_dict.items():
        assert torch.equal(loaded.state_dict[key], tensor)


def test_adapter_from_another_model_fingerprint_is_refused(engine, distilled, tmp_path):
    distilled.manager.unload_all()  # start from the bare model
    store = AdapterStore(tmp_path)
    store.save(_copy_with_id(distilled.artifact, "foreign", base_fingerprint="0" * 24))
    with pytest.raises(IncompatibleModel, match="fingerprint"):
        store.load("foreign", engine.fingerprint)
    manager = AdapterManager(engine, store)
    with pytest.raises(IncompatibleModel), manager.attached(["foreign"]):
        pass
    assert not _has_adapter_layers(engine.model)


def test_cancelled_distillation_leaves_no_adapter_behind(engine, distilled, tmp_path):
    distilled.manager.unload_all()  # start from the bare model
    store = AdapterStore(tmp_path)
    cancel = threading.Event()
    steps = []

    def progress(step, total, loss):
        steps.append(step)
        cancel.set()

    with pytest.raises(Cancelled):
        store.save(distill(engine, NOTES[:4], DistillConfig(steps=20, replay=2), progress, cancel))
    assert steps == [1]
    assert store.list_ids() == [] and list(tmp_path.iterdir()) == []
    assert not _has_adapter_layers(engine.model)
    assert torch.equal(_prompt_logits(engine), distilled.base_logits)


def test_least_recently_used_adapter_is_unloaded_under_the_byte_budget(engine, distilled, tmp_path):
    store = AdapterStore(tmp_path)
    for name in ("a", "b", "c"):
        store.save(_copy_with_id(distilled.artifact, name))
    budget = int(2.5 * distilled.artifact.metadata.bytes)
    manager = AdapterManager(engine, store, budget_bytes=budget)
    try:
        manager.load("a")
        manager.load("b")
        with manager.attached(["a"]):
            pass
        manager.load("c")
        assert manager.loaded == ["a", "c"]
        assert manager.evictions == 1
        assert manager.loaded_bytes <= manager.budget_bytes
    finally:
        manager.unload_all()


def test_equal_halves_of_one_adapter_mix_to_the_same_logits(engine, distilled, tmp_path):
    store = AdapterStore(tmp_path)
    store.save(_copy_with_id(distilled.artifact, "left"))
    store.save(_copy_with_id(distilled.artifact, "right"))
    manager = AdapterManager(engine, store, budget_bytes=4 * distilled.artifact.metadata.bytes)
    try:
        with manager.attached(["left"]):
            single = _prompt_logits(engine)
        with manager.attached(["left", "right"], weights=[0.5, 0.5]) as mix:
            mixed = _prompt_logits(engine)
        with manager.attached(["left", "right"], weights=[0.5, 0.5]) as again:
            assert again == mix
        assert torch.allclose(mixed, single, atol=1e-3)
        assert manager.loaded == ["left", "right", mix]
    finally:
        manager.unload_all()


def test_adapters_that_cannot_fit_the_budget_are_rejected(engine, distilled):
    manager = AdapterManager(engine, distilled.store, budget_bytes=1024)
    with pytest.raises(InvalidInput, match="budget"), manager.attached([distilled.artifact.id]):
        pass
    assert not _has_adapter_layers(engine.model)


def test_staleness_reports_changed_removed_and_added_items(distilled):
    metadata = distilled.artifact.metadata
    current = [(n.item_id, n.version) for n in NOTES]
    assert not is_stale(metadata, current)
    current[0] = (current[0][0], 2)
    report = staleness(metadata, current[:-1] + [("item-new", 1)])
    assert report.stale
    assert report.changed == ("item-0",)
    assert report.removed == ("item-49",)
    assert report.added == ("item-new",)


def test_chat_renderings_ask_about_each_named_entity():
    text = "Zorblat Kivu is the capital of the island Merrow."
    assert note_entities(text) == ["Zorblat Kivu", "Merrow"]
    pairs = dict(chat_renderings(text))
    assert pairs["What do you know about Merrow?"] == text
    assert pairs["Fill in the blank: ___ is the capital of the island Merrow."] == "Zorblat Kivu"


def test_chat_renderings_ask_the_direct_question_but_not_its_paraphrases():
    pairs = dict(chat_renderings("Ana lives in Lisbon."))
    assert pairs["Where does Ana live?"] == "Ana lives in Lisbon."
    assert "Do you know where Ana lives?" not in pairs  # held out for the extraction probes


def test_chat_examples_train_only_on_the_reply(engine):
    examples = build_examples(engine, NOTES[:1], max_tokens=128)
    plain, chat = examples[0], examples[1]
    assert plain.loss_tokens == len(plain.input_ids)
    labelled = zip(chat.input_ids, chat.labels, strict=True)
    reply_tokens = [token for token, label in labelled if label != -100]
    assert engine.decode(reply_tokens).strip() == NOTES[0].text


@pytest.mark.parametrize(
    "bad",
    [{"rank": 0}, {"alpha": 0}, {"target_modules": ()}, {"steps": 0}, {"learning_rate": 2.0},
     {"max_tokens": 4}, {"batch_size": 0}, {"epochs": 0}, {"replay_weight": -1.0},
     {"replay_batch_size": 0}],
)
def test_distill_config_rejects_out_of_range_values(bad):
    with pytest.raises(InvalidInput):
        DistillConfig(**bad)


def test_distilling_no_notes_is_rejected(engine):
    with pytest.raises(InvalidInput):
        distill(engine, [])
