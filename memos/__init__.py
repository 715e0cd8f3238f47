"""memos: a memory operating system for LLM agents.

``MemOS`` (embedded) and ``Client`` / ``AsyncClient`` (over the REST API) are imported on
first use, so that ``import memos.client`` or the CLI's help do not load torch.
"""

from memos.errors import MemosError, NotFound

__version__ = "0.1.0"

__all__ = ["AsyncClient", "ChatOptions", "Client", "MemOS", "MemosError", "NotFound",
           "__version__"]

_LAZY = {"MemOS": "memos.kernel", "Client": "memos.client", "AsyncClient": "memos.client",
         "ChatOptions": "memos.chat_options"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'memos' has no attribute {name!r}")
