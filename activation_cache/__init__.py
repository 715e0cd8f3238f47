"""KV cache: an exact prefix tree of prompt pieces, tiers, checked files, quantization, and
the opt-in blending of position-independent chunks (RoPE re-rotation, selective recompute)."""

from activation_cache.assembly import AssembledPrompt, AssemblyConfig, Piece, PromptAssembler
from activation_cache.backend import Backend
from activation_cache.chunk_cache import CacheConfig, CacheEntry, ChunkCache
from activation_cache.chunk_kv import ChunkKV
from activation_cache.hot_paths import HotPath, nodes_to_pin
from activation_cache.keys import block_keys, chunk_key, node_key
from activation_cache.policies import EntryInfo, make_policy
from activation_cache.prefix_tree import PrefixTree, TreeMatch
from activation_cache.quantization import dequantize, quantize
from activation_cache.rope import RopeRotator, unsupported_reason
from activation_cache.serialization import read_chunk, read_header, write_chunk
from activation_cache.tree_index import TreeIndex

__all__ = [
    "AssembledPrompt",
    "AssemblyConfig",
    "Backend",
    "CacheConfig",
    "CacheEntry",
    "ChunkCache",
    "ChunkKV",
    "EntryInfo",
    "HotPath",
    "Piece",
    "PrefixTree",
    "PromptAssembler",
    "RopeRotator",
    "TreeIndex",
    "TreeMatch",
    "block_keys",
    "chunk_key",
    "dequantize",
    "make_policy",
    "node_key",
    "nodes_to_pin",
    "quantize",
    "read_chunk",
    "read_header",
    "unsupported_reason",
    "write_chunk",
]
