"""Sentence embeddings with all-MiniLM-L6-v2 (or any HF encoder): mean pooled, L2-normalised."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer

from memos.engine.device import choose_device
from memos.engine.model_files import default_embedder_dir, require_model_dir


class Embedder:
    """Turns texts into float32 unit vectors, in length-sorted batches."""

    def __init__(self, model, tokenizer, *, name: str, batch_size: int = 64, max_length: int = 256):
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self.batch_size = batch_size
        self.max_length = max_length
        self.dim = int(model.config.hidden_size)
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: str | Path | None = None, device: str = "auto") -> Embedder:
        """Load the configured encoder folder, or the shipped all-MiniLM-L6-v2."""
        os.environ["HF_HUB_OFFLINE"] = "1"
        folder = require_model_dir(path) if path else require_model_dir(default_embedder_dir())
        model = AutoModel.from_pretrained(folder).to(choose_device(device)).eval()
        tokenizer = AutoTokenizer.from_pretrained(folder)
        name = "all-MiniLM-L6-v2" if path is None else Path(folder).name
        return cls(model, tokenizer, name=name)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of shape (len(texts), dim), in the order given."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            out[batch] = self._embed_batch([texts[i] for i in batch])
        return out

    def embed_one(self, text: str) -> np.ndarray:
        """Unit vector of one text."""
        return self.embed([text])[0]

    @torch.inference_mode()
    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encoded = self.tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        ).to(self.model.device)
        with self._lock:
            hidden = self.model(**encoded).last_hidden_state
        mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        pooled = torch.nn.functional.normalize(pooled.float(), dim=-1)
        return pooled.cpu().numpy()
