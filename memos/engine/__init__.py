"""The embedded inference backend (torch + transformers)."""

from memos.engine.engine import DecodeTiming, Engine, EngineConfig, StepOutput
from memos.engine.generation import Generation, GenerationConfig, GenerationStats

__all__ = [
    "DecodeTiming",
    "Engine",
    "EngineConfig",
    "Generation",
    "GenerationConfig",
    "GenerationStats",
    "StepOutput",
]
