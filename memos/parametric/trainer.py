"""Distillation: train a LoRA adapter on a cube's notes, beside the engine's live model."""

from __future__ import annotations

import copy
import itertools
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from peft import LoraConfig, get_peft_model, get_peft_model_state_dict
from peft.tuners.tuners_utils import BaseTunerLayer

from memos.parametric.adapter import AdapterArtifact, AdapterMetadata, state_dict_bytes
from memos.parametric.distillation_data import (
    IGNORE,
    DistillNote,
    TrainingExample,
    build_examples,
)
from memos.parametric.replay import replay_texts
from storage.errors import Cancelled, InvalidInput

Progress = Callable[[int, int, float], None]
_ADAPTER = "distill"
# The MLPs, where transformers are thought to store facts; attention is left as it is.
_MLP = ("gate_proj", "up_proj", "down_proj")


@dataclass(slots=True)
class DistillConfig:
    """LoRA shape and training schedule; defaults fit ~50 short notes on a 2-core CPU."""

    rank: int = 16
    alpha: float = 16.0
    target_modules: tuple[str, ...] = _MLP
    epochs: int = 3
    steps: int | None = None  # when set, overrides epochs
    learning_rate: float = 3e-3
    warmup_steps: int = 5
    max_tokens: int = 128
    batch_size: int = 8
    replay: int = 20  # texts of the base model's own the adapter is held to (0: none)
    replay_weight: float = 1.0  # weight of the KL-to-base loss on those texts
    replay_batch_size: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        self.target_modules = tuple(self.target_modules)
        if not 1 <= self.rank <= 256:
            raise InvalidInput("rank must be between 1 and 256")
        if not self.alpha > 0:
            raise InvalidInput("alpha must be positive")
        if not self.target_modules:
            raise InvalidInput("target_modules must name at least one module")
        if not 1 <= self.epochs <= 100:
            raise InvalidInput("epochs must be between 1 and 100")
        if self.steps is not None and not 1 <= self.steps <= 100_000:
            raise InvalidInput("steps must be between 1 and 100000")
        if not 0 < self.learning_rate <= 1:
            raise InvalidInput("learning_rate must be in (0, 1]")
        if self.warmup_steps < 0:
            raise InvalidInput("warmup_steps must not be negative")
        if not 8 <= self.max_tokens <= 4096:
            raise InvalidInput("max_tokens must be between 8 and 4096")
        if not 1 <= self.batch_size <= 512:
            raise InvalidInput("batch_size must be between 1 and 512")
        if not 0 <= self.replay <= 1000:
            raise InvalidInput("replay must be between 0 and 1000")
        if not self.replay_weight >= 0:
            raise InvalidInput("replay_weight must not be negative")
        if not 1 <= self.replay_batch_size <= 512:
            raise InvalidInput("replay_batch_size must be between 1 and 512")

    def lora_config(self) -> LoraConfig:
        """The peft config of the adapter this trains."""
        return LoraConfig(
            r=self.rank,
            lora_alpha=self.alpha,
            target_modules=list(self.target_modules),
            lora_dropout=0.0,
            bias="none",
        )


def distill(
    engine,
    notes: list[DistillNote],
    config: DistillConfig | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> AdapterArtifact:
    """Train a LoRA adapter on ``notes``; the engine keeps serving its base model meanwhile."""
    config = config or DistillConfig()
    examples = build_examples(engine, notes, config.max_tokens)
    batches = _batch_schedule(examples, config)
    anchors = _anchor_schedule(engine, config, len(batches))
    started = time.time()
    with _lora_training_copy(engine, config) as peft_model:
        final_loss = _train(peft_model, batches, anchors, config, engine.device, progress, cancel)
        state = {k: v.detach().to("cpu", copy=True) for k, v in
                 get_peft_model_state_dict(peft_model, adapter_name=_ADAPTER).items()}
    metadata = AdapterMetadata(
        adapter_id=uuid.uuid4().hex,
        base_fingerprint=engine.fingerprint,
        base_model=engine.name,
        items=[(note.item_id, note.version) for note in notes],
        steps=len(batches),
        final_loss=final_loss,
        created_at=started,
        bytes=state_dict_bytes(state),
        train_seconds=time.time() - started,
        config=_config_summary(config),
    )
    return AdapterArtifact(metadata, peft_config=_peft_config_dict(config), state_dict=state)


@contextmanager
def _lora_training_copy(engine, config: DistillConfig) -> Iterator:
    """A peft model over a structural copy of ``engine.model`` that shares its weights.

    Only module objects are copied, so no weight memory is duplicated and ``engine.model``
    is never modified; peft freezes the shared base weights, so their flags are restored.
    """
    with engine.lock:
        flags = [(p, p.requires_grad) for p in engine.model.parameters()]
        clone = _bare_copy(engine.model)
    try:
        with torch.random.fork_rng(devices=_cuda_devices(engine.device)):
            torch.manual_seed(config.seed)
            yield get_peft_model(clone, config.lora_config(), adapter_name=_ADAPTER)
    finally:
        for parameter, flag in flags:
            parameter.requires_grad_(flag)


def _bare_copy(model: torch.nn.Module) -> torch.nn.Module:
    """Copy the module tree, share every tensor, and drop adapter layers attached for serving."""
    shared = {id(t): t for t in itertools.chain(model.parameters(), model.buffers())}
    clone = copy.deepcopy(model, memo=shared)
    tuner_layers = [(n, m) for n, m in clone.named_modules() if isinstance(m, BaseTunerLayer)]
    for name, layer in tuner_layers:
        parent_name, _, child = name.rpartition(".")
        setattr(clone.get_submodule(parent_name), child, layer.get_base_layer())
    if hasattr(clone, "peft_config"):
        del clone.peft_config
    return clone


def _train(peft_model, batches, anchors, config, device, progress, cancel) -> float:
    """Run the optimizer over ``batches``; returns the mean note loss of the last steps."""
    model = peft_model.base_model.model
    params = [p for p in peft_model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, _warmup_then_linear_decay(config.warmup_steps, len(batches))
    )
    model.train()
    recent: list[float] = []
    for step, (batch, anchor) in enumerate(zip(batches, anchors, strict=True), start=1):
        if cancel is not None and cancel.is_set():
            raise Cancelled("distillation was cancelled; no adapter was written")
        loss = _batch_loss(model, *(t.to(device) for t in batch))
        total = loss
        if anchor is not None:
            drift = _drift_from_base(peft_model, *(t.to(device) for t in anchor))
            total = loss + config.replay_weight * drift
        total.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        recent = (recent + [loss.item()])[-10:]
        if progress is not None:
            progress(step, len(batches), recent[-1])
    model.eval()
    return sum(recent) / len(recent)


def _batch_loss(model, input_ids, attention_mask, labels) -> torch.Tensor:
    """Next-token loss on labelled positions only; the vocabulary projection skips the rest."""
    hidden = model.get_decoder()(
        input_ids=input_ids, attention_mask=attention_mask, use_cache=False
    ).last_hidden_state
    targets = labels[:, 1:]
    keep = targets != IGNORE
    logits = model.get_output_embeddings()(hidden[:, :-1][keep]).float()
    return F.cross_entropy(logits, targets[keep])


def _drift_from_base(peft_model, input_ids, attention_mask) -> torch.Tensor:
    """Mean KL(base || adapted) of the next-token distributions over the unpadded positions."""
    model = peft_model.base_model.model
    keep = attention_mask.bool()
    with torch.no_grad(), peft_model.disable_adapter():
        base = model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
        base_logp = F.log_softmax(base.logits[keep].float(), dim=-1)
    adapted = model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
    adapted_logp = F.log_softmax(adapted.logits[keep].float(), dim=-1)
    return F.kl_div(adapted_logp, base_logp, log_target=True, reduction="batchmean")


def _anchor_schedule(engine, config: DistillConfig, steps: int) -> list:
    """One padded batch of replay texts per step, cycling through them (``None``: no replay)."""
    if config.replay == 0 or config.replay_weight == 0:
        return [None] * steps
    texts = replay_texts(engine, config.replay)
    size = min(config.replay_batch_size, len(texts))
    order = torch.randperm(len(texts), generator=torch.Generator().manual_seed(config.seed))
    cycle = [texts[i] for i in order.tolist()]
    batches = []
    for step in range(steps):
        group = [cycle[(step * size + i) % len(cycle)] for i in range(size)]
        ids, mask, _ = _pad([TrainingExample(t, t) for t in group])
        batches.append((ids, mask))
    return batches


def _batch_schedule(examples: list[TrainingExample], config: DistillConfig) -> list[tuple]:
    """Padded batches for every step: shuffled each epoch, similar lengths batched together."""
    per_epoch = math.ceil(len(examples) / config.batch_size)
    total = config.steps or per_epoch * config.epochs
    generator = torch.Generator().manual_seed(config.seed)
    batches: list[tuple] = []
    while len(batches) < total:
        order = torch.randperm(len(examples), generator=generator).tolist()
        pool = sorted(order, key=lambda i: len(examples[i].input_ids))
        groups = [pool[i : i + config.batch_size] for i in range(0, len(pool), config.batch_size)]
        shuffled = torch.randperm(len(groups), generator=generator).tolist()
        batches.extend(_pad([examples[i] for i in groups[g]]) for g in shuffled)
    return batches[:total]


def _pad(examples: list[TrainingExample]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    width = max(len(e.input_ids) for e in examples)
    ids = torch.zeros(len(examples), width, dtype=torch.long)
    mask = torch.zeros(len(examples), width, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE, dtype=torch.long)
    for row, example in enumerate(examples):
        n = len(example.input_ids)
        ids[row, :n] = torch.tensor(example.input_ids)
        mask[row, :n] = 1
        labels[row, :n] = torch.tensor(example.labels)
    return ids, mask, labels


def _warmup_then_linear_decay(warmup: int, total: int) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.1, 1.0 - (step - warmup) / max(1, total - warmup))

    return factor


def _cuda_devices(device: torch.device) -> list[int]:
    return [device.index or 0] if device.type == "cuda" else []


def _config_summary(config: DistillConfig) -> dict:
    summary = asdict(config)
    summary["target_modules"] = list(config.target_modules)
    return summary


def _peft_config_dict(config: DistillConfig) -> dict:
    """The adapter's peft config as JSON-ready data (peft's ``adapter_config.json``)."""
    data = config.lora_config().to_dict()
    return {k: sorted(v) if isinstance(v, set) else v for k, v in data.items()}
