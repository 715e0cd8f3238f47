"""Stateful property test of the loaded-adapter byte budget, with real (tiny) LoRA adapters.

One rank-1 adapter is distilled once from the real model in one step; copies of it under
other ids, and one whose file lacks half its weights, fill an adapter store. Random loads,
attaches (single and mixed), unloads and restarts run under budgets of one to three
adapters; after every step the budget holds, the bookkeeping matches the LoRA layers in the
model, and outside ``attached`` the model computes exactly the base logits.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from peft.tuners.tuners_utils import BaseTunerLayer

from memos.engine import Engine, EngineConfig
from memos.errors import CorruptBlob, InvalidInput
from memos.parametric import (
    AdapterArtifact,
    AdapterManager,
    AdapterStore,
    DistillConfig,
    DistillNote,
    distill,
)

IDS = ("a", "b", "c")
BROKEN = "broken"
PROMPT_IDS = [1, 2, 3, 4]


@pytest.fixture(scope="module")
def engine(models_dir) -> Engine:
    """An engine of this module's own: attaching adapters changes its model object."""
    return Engine.load(EngineConfig(models_dir=models_dir, device="cpu", progress=False))


@pytest.fixture(scope="module")
def tiny_store(engine, tmp_path_factory) -> tuple[AdapterStore, int]:
    """A store of three rank-1 adapters and one damaged one; returns it and one's bytes."""
    config = DistillConfig(rank=1, target_modules=("down_proj",), steps=1, warmup_steps=0,
                           replay=0, batch_size=1, max_tokens=16)
    artifact = distill(engine, [DistillNote("n1", 1, "Alice moved to Lisbon.")], config)
    store = AdapterStore(tmp_path_factory.mktemp("adapters"))
    for adapter_id in IDS:
        store.save(_renamed(artifact, adapter_id))
    half = dict(list(artifact.state_dict.items())[: len(artifact.state_dict) // 2])
    store.save(AdapterArtifact(dataclasses.replace(artifact.metadata, adapter_id=BROKEN),
                               artifact.peft_config, half))
    return store, artifact.metadata.bytes


def _renamed(artifact: AdapterArtifact, adapter_id: str) -> AdapterArtifact:
    metadata = dataclasses.replace(artifact.metadata, adapter_id=adapter_id)
    return AdapterArtifact(metadata, artifact.peft_config, artifact.state_dict)


def _injected_names(model: torch.nn.Module) -> set[str]:
    names = set()
    for module in model.modules():
        if isinstance(module, BaseTunerLayer):
            names.update(module.lora_A.keys())
    return names


class AdapterBudgetMachine(RuleBasedStateMachine):
    """Drives one AdapterManager over the engine's model; ``engine``/``store`` set per test."""

    engine: Engine
    store: AdapterStore
    adapter_bytes: int
    base_logits: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        self.manager: AdapterManager | None = None

    @initialize(slots=st.sampled_from([1.0, 1.5, 2.0, 3.0]))
    def open_manager(self, slots) -> None:
        self.budget = int(slots * self.adapter_bytes)
        self.manager = AdapterManager(self.engine, self.store, self.budget)

    def teardown(self) -> None:
        if self.manager is not None:
            self.manager.unload_all()

    @rule(adapter_id=st.sampled_from((*IDS, BROKEN)))
    def load(self, adapter_id) -> None:
        try:
            self.manager.load(adapter_id)
        except CorruptBlob:
            assert adapter_id == BROKEN
            return
        assert self.manager.loaded[-1] == adapter_id

    @rule(ids=st.lists(st.sampled_from((*IDS, BROKEN)), min_size=1, max_size=2, unique=True),
          mixed=st.booleans())
    def attach(self, ids, mixed) -> None:
        weights = [0.5] * len(ids) if mixed else None
        try:
            with self.manager.attached(ids, weights) as name:
                assert set(ids) <= set(self.manager.loaded), "an attached adapter was unloaded"
                assert name in self.manager.loaded
                assert self.manager.loaded_bytes <= self.budget
        except CorruptBlob:
            assert BROKEN in ids
        except InvalidInput as error:
            assert "budget" in str(error)

    @rule(adapter_id=st.sampled_from(IDS))
    def unload(self, adapter_id) -> None:
        self.manager.unload(adapter_id)
        assert adapter_id not in self.manager.loaded

    @rule()
    def restart(self) -> None:
        """Unload everything and start a new manager over the same model and store."""
        self.manager.unload_all()
        self.manager = AdapterManager(self.engine, self.store, self.budget)

    @invariant()
    def budget_holds(self) -> None:
        if self.manager is not None:
            assert self.manager.loaded_bytes <= self.manager.budget_bytes

    @invariant()
    def bookkeeping_matches_the_model(self) -> None:
        if self.manager is None:
            return
        assert _injected_names(self.engine.model) == set(self.manager.loaded)
        for name in self.manager.loaded:
            assert self.manager._loaded[name] == self.manager._adapter_bytes(name)

    @invariant()
    def base_model_outside_attached(self) -> None:
        if self.manager is not None:
            logits = self.engine.forward(PROMPT_IDS).logits
            assert torch.equal(logits, self.base_logits)


def test_adapter_budget_keeps_its_invariants(engine, tiny_store):
    store, adapter_bytes = tiny_store
    AdapterBudgetMachine.engine = engine
    AdapterBudgetMachine.store = store
    AdapterBudgetMachine.adapter_bytes = adapter_bytes
    AdapterBudgetMachine.base_logits = engine.forward(PROMPT_IDS).logits
    run_state_machine_as_test(AdapterBudgetMachine, settings=settings(
        max_examples=15, stateful_step_count=10, deadline=None,
        suppress_health_check=[HealthCheck.too_slow]))
    assert not _injected_names(engine.model)
