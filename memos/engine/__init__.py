"""The embedded inference backend (torch + transformers)."""

from memos.engine.engine import DecodeTiming, Engine, EngineConfig, StepOutput
from memos.engine.generation import (
    DecodeControl,
    Generation,
    GenerationConfig,
    GenerationStats,
)

__all__ = [
    "DecodeControl",
    "DecodeTiming",
    "Engine",
    "EngineConfig",
    "Generation",
    "GenerationConfig",
    "GenerationStats",
    "StepOutput",
]
