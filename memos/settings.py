"""Service settings: one pydantic-settings class, read at the edge and passed down."""

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything configurable about a memos home and service (env prefix ``MEMOS_``)."""

    model_config = SettingsConfigDict(env_prefix="MEMOS_", extra="ignore")

    home: Path = Field(default=Path("memos-home"), description="Folder holding all state.")
    model: str | None = Field(default=None, description="HF model folder; default SmolLM2.")
    embedder: str | None = Field(default=None, description="HF encoder folder; default MiniLM.")
    device: str = Field(default="auto", description="auto, cpu, cuda or cuda:N.")
    dtype: str = Field(default="auto", description="auto, float32, bfloat16 or float16.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite.")
    host: str = "127.0.0.1"
    port: int = 8765
    admin_key: str | None = Field(default=None, description="Admin API key to use on first start.")
    workers: int = Field(default=1, ge=0, description="Scheduler worker threads.")
    server_processes: int = Field(default=1, ge=1,
                                  description="Server processes on one port (serve --workers).")

    kv_device_mib: int = Field(default=256, ge=0, description="KV budget on the device tier.")
    kv_host_mib: int = Field(default=1024, ge=0, description="KV budget in host RAM.")
    kv_disk_mib: int = Field(default=8192, ge=0, description="KV budget on disk.")
    kv_redis_url: str | None = Field(default=None,
                                     description="Redis shared by servers for KV (optional).")
    kv_redis_mib: int = Field(default=4096, ge=0, description="KV budget on Redis.")
    kv_redis_ttl_s: int = Field(default=86_400, ge=1, description="How long Redis keeps KV.")
    kv_policy: str = Field(default="cost",  # as CacheConfig's (activation_cache.policies)
                           description="KV eviction policy: lru, lfu or cost.")
    kv_quantization: str = Field(default="none", description="KV files: none, int8 or int4.")
    kv_recompute_fraction: float = Field(default=0.15, ge=0.0, le=1.0,
                                         description="Share of moved chunk tokens recomputed.")
    kv_selection: Literal["attention", "first", "deviation"] = Field(
        default="attention", description="Which chunk tokens are recomputed.")
    activation_mode: Literal["exact", "blend", "off"] = Field(
        default="exact", description="KV reuse: exact prefix tree, approximate blend, or off.")
    memory_order: Literal["canonical", "rank"] = Field(
        default="canonical", description="Memories in the prompt: oldest note first, or rank.")
    prompt_layout: Literal["latest", "turns", "accumulate", "system"] = Field(
        default="latest",
        description="Memories with the latest user turn, with every user turn, with the first "
                    "turn given them, or in the system.")
    adapter_budget_mib: int = Field(default=256, ge=1, description="Loaded adapters budget.")
    distill_shards: int = Field(default=1, ge=1, le=64,
                                description="Adapters per distillation, over disjoint notes.")
    adapter_check_questions: int = Field(default=4, ge=0, le=50,
                                         description="Questions asked of a new adapter.")
    adapter_attach: Literal["evidence", "fresh"] = Field(
        default="evidence", description="Default chat attaches fresh adapters on evidence only.")
    adapter_routing: Literal["nearest", "all"] = Field(
        default="nearest",
        description="Which of a cube's shards chat attaches: the one that learned the note "
                    "nearest the question (default chat: the best retrieved note), or every "
                    "shard summed.")
    change_log_keep_s: float = Field(
        default=86_400.0, gt=0.0,
        description="How long the change log keeps changes for other processes to replay; a "
                    "process that has not caught up with a cube for half of it re-reads the cube.")
    forget_retrain_delay_s: float = Field(
        default=30.0, ge=0.0, description="Wait after a forget before retraining (debounce).")
    archive_max_mib: int = Field(default=1024, ge=1,
                                 description="Largest archive import once inflated.")
    archive_max_ratio: float = Field(default=200.0, ge=1.0,
                                     description="Largest compression ratio of an archive member.")
    session_window: int = Field(default=8, ge=1, description="Turns a chat session keeps.")

    model_max_running: int = Field(default=8, ge=1,
                                   description="Model requests (chat, warm) running at once.")
    batching: bool = Field(default=True,
                           description="Decode concurrent replies together (continuous batching).")
    batch_prefill_tokens: int = Field(default=256, ge=1,
                                      description="Prompt tokens one batched step may prefill.")
    model_max_queued_per_user: int = Field(default=8, ge=0,
                                           description="Model requests one user may have queued.")
    model_max_queued: int = Field(default=64, ge=0,
                                  description="Model requests queued in all before 503.")
    chat_max_seconds: float = Field(default=120.0, gt=0,
                                    description="Longest time one reply may decode.")
    metrics_token: str | None = Field(default=None,
                                      description="Bearer token for /metrics (else admin key).")
    max_jobs_per_user: int = Field(default=4, ge=1,
                                   description="Distill jobs one user may have queued or running.")
    history_versions_kept: int = Field(default=100, ge=1,
                                       description="History entries kept per memory.")
    max_memories_per_cube: int = Field(default=100_000, ge=1,
                                       description="Memories one cube may hold (not deleted).")
    max_bytes_per_user: int = Field(default=1 << 30, ge=1,
                                    description="Bytes of memory text one user's cubes may hold.")
