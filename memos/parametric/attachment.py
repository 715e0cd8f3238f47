"""Attaching adapters to the engine's model per request, under a byte budget."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from peft import LoraConfig
from peft.tuners.lora import LoraModel

from memos.parametric.adapter import AdapterArtifact
from memos.parametric.adapter_store import AdapterStore
from storage.errors import CorruptBlob, InvalidInput

_PEFT_PREFIX = "base_model.model."


class AdapterManager:
    """Loads stored adapters into ``engine.model`` once and switches between them by name.

    LoRA layers are injected into the engine's own model object, so ``engine.forward`` and
    ``generate_from`` run unchanged and ``engine.model.config``/``.device`` stay the model's.
    Outside ``attached`` every adapter is disabled and the model computes exactly the base
    logits; when nothing is loaded, the injected layers are removed altogether.
    """

    def __init__(self, engine, store: AdapterStore, budget_bytes: int = 256 << 20) -> None:
        if budget_bytes <= 0:
            raise InvalidInput("budget_bytes must be positive")
        self._engine = engine
        self._store = store
        self.budget_bytes = budget_bytes
        self._tuner: LoraModel | None = None
        self._grad_flags: list[tuple[torch.nn.Parameter, bool]] = []
        self._loaded: OrderedDict[str, int] = OrderedDict()  # name -> bytes, least recent first
        self.evictions = 0

    @property
    def loaded(self) -> list[str]:
        """Names of loaded adapters (ids, and weighted mixes), least recently used first."""
        return list(self._loaded)

    @property
    def loaded_bytes(self) -> int:
        """Bytes that loaded adapters occupy on the model's device."""
        return sum(self._loaded.values())

    @contextmanager
    def attached(
        self, adapter_ids: Sequence[str], weights: Sequence[float] | None = None
    ) -> Iterator[str | None]:
        """Run the body with these adapters active (weighted-merged when several).

        An empty ``adapter_ids`` runs the base model. Holds ``engine.lock`` throughout, so
        no other request sees the adapter; yields the name of the active adapter.
        """
        with self._engine.lock:
            if not adapter_ids:
                self._disable()
                yield None
                return
            name = self._activate(list(adapter_ids), weights)
            try:
                yield name
            finally:
                self._disable()

    def load(self, adapter_id: str) -> None:
        """Load a stored adapter (if not yet loaded) and mark it most recently used."""
        with self._engine.lock:
            self._load(adapter_id, pinned=())

    def unload(self, name: str) -> None:
        """Remove a loaded adapter or mix from the model."""
        with self._engine.lock:
            if name not in self._loaded:
                return
            del self._loaded[name]
            if self._loaded:
                self._tuner.delete_adapter(name)
            else:
                self._remove_tuner()

    def unload_all(self) -> None:
        """Remove every adapter; the engine's model is left exactly as it was."""
        with self._engine.lock:
            self._loaded.clear()
            self._remove_tuner()

    def _activate(self, adapter_ids: list[str], weights: Sequence[float] | None) -> str:
        if len(set(adapter_ids)) != len(adapter_ids):
            raise InvalidInput("adapter ids must be distinct")
        weights = [1.0] * len(adapter_ids) if weights is None else [float(w) for w in weights]
        if len(weights) != len(adapter_ids):
            raise InvalidInput("give one weight per adapter")
        for adapter_id in adapter_ids:
            self._load(adapter_id, pinned=adapter_ids)
        name = adapter_ids[0]
        if len(adapter_ids) > 1 or weights[0] != 1.0:
            name = self._mix(adapter_ids, weights)
        self._tuner.set_adapter(name, inference_mode=True)
        self._tuner.enable_adapter_layers()
        return name

    def _load(self, adapter_id: str, pinned: Sequence[str]) -> None:
        if adapter_id in self._loaded:
            self._loaded.move_to_end(adapter_id)
            return
        artifact = self._store.load(adapter_id, self._engine.fingerprint)
        self._make_room(artifact.metadata.bytes, pinned)
        self._inject(artifact)
        self._loaded[adapter_id] = self._adapter_bytes(adapter_id)

    def _mix(self, adapter_ids: list[str], weights: list[float]) -> str:
        """A cached adapter equal to the weighted sum of the given ones (peft ``cat``, exact)."""
        key = ",".join(f"{i}:{w!r}" for i, w in zip(adapter_ids, weights, strict=True))
        name = "mix_" + hashlib.sha256(key.encode()).hexdigest()[:16]
        if name in self._loaded:
            self._loaded.move_to_end(name)
            return name
        expected = sum(self._loaded[i] for i in adapter_ids)
        self._make_room(expected, pinned=adapter_ids)
        try:
            self._tuner.add_weighted_adapter(
                adapter_ids, weights, name, combination_type="cat"
            )
        except ValueError as error:
            raise InvalidInput(f"cannot combine adapters {adapter_ids}: {error}") from error
        self._loaded[name] = self._adapter_bytes(name)
        return name

    def _make_room(self, needed: int, pinned: Sequence[str]) -> None:
        """Unload least recently used adapters (never ``pinned`` ones) until ``needed`` fits."""
        kept = sum(self._loaded[n] for n in pinned if n in self._loaded)
        if needed + kept > self.budget_bytes:
            raise InvalidInput(
                f"adapters need {needed + kept} bytes but the adapter budget is "
                f"{self.budget_bytes} bytes"
            )
        for name in list(self._loaded):
            if self.loaded_bytes + needed <= self.budget_bytes:
                return
            if name not in pinned:
                self.unload(name)
                self.evictions += 1

    def _inject(self, artifact: AdapterArtifact) -> None:
        name = artifact.id
        config = LoraConfig.from_peft_type(**artifact.peft_config)
        config.inference_mode = True
        if self._tuner is None:
            self._grad_flags = [(p, p.requires_grad) for p in self._engine.model.parameters()]
            self._tuner = LoraModel(self._engine.model, {name: config}, name)
        else:
            self._tuner.peft_config[name] = config
            self._tuner.inject_adapter(self._engine.model, name)
        try:
            _copy_adapter_weights(self._engine.model, artifact.state_dict, name)
        except CorruptBlob:  # no half-loaded adapter stays behind in the model
            self._remove_injected(name)
            raise
        self._disable()

    def _remove_injected(self, name: str) -> None:
        if self._loaded:
            self._tuner.delete_adapter(name)
        else:
            self._remove_tuner()

    def _adapter_bytes(self, name: str) -> int:
        marker = f".{name}."
        return sum(
            p.numel() * p.element_size()
            for n, p in self._engine.model.named_parameters()
            if "lora_" in n and marker in n
        )

    def _disable(self) -> None:
        if self._tuner is not None:
            self._tuner.disable_adapter_layers()

    def _remove_tuner(self) -> None:
        if self._tuner is None:
            return
        self._tuner.unload()
        if hasattr(self._engine.model, "peft_config"):
            del self._engine.model.peft_config
        for parameter, flag in self._grad_flags:
            parameter.requires_grad_(flag)
        self._tuner, self._grad_flags = None, []


@torch.no_grad()
def _copy_adapter_weights(model: torch.nn.Module, state_dict: dict, name: str) -> None:
    """Copy peft-format LoRA weights (adapter name stripped) into adapter ``name``."""
    params = dict(model.named_parameters())
    expected = {n for n in params if "lora_" in n and f".{name}." in n}
    for key, tensor in state_dict.items():
        target = key.removeprefix(_PEFT_PREFIX)
        for part in ("lora_A", "lora_B"):
            target = target.replace(f".{part}.weight", f".{part}.{name}.weight")
        if target not in expected:
            raise CorruptBlob(f"adapter {name}: weight {key} does not fit this model")
        params[target].copy_(tensor)
        expected.discard(target)
    if expected:
        raise CorruptBlob(f"adapter {name}: {len(expected)} LoRA weights missing from the file")
