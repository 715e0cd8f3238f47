"""memos: a memory operating system for LLM agents."""

from memos.errors import MemosError, NotFound
from memos.kernel import MemOS

__version__ = "0.1.0"

__all__ = ["MemOS", "MemosError", "NotFound", "__version__"]
