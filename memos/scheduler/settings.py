"""Scheduler configuration: how jobs retry, and each cube's policy thresholds with defaults."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

HOUR = 3600.0
DAY = 24 * HOUR


@dataclass(slots=True)
class SchedulerConfig:
    """How often policies run, how jobs are polled and how failed jobs back off."""

    tick_interval_s: float = 60.0
    poll_interval_s: float = 1.0
    backoff_base_s: float = 5.0
    max_attempts: int = 3
    retrieval_log_keep_s: float = 30 * DAY
    finished_job_keep_s: float = 7 * DAY

    def __post_init__(self) -> None:
        if min(self.tick_interval_s, self.poll_interval_s) <= 0:
            raise ValueError("tick and poll intervals must be positive")
        if self.backoff_base_s < 0:
            raise ValueError("backoff_base_s must not be negative")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")


@dataclass(slots=True)
class ExpireSettings:
    """Archive items whose ``created_at + ttl_seconds`` has passed."""

    enabled: bool = True


@dataclass(slots=True)
class ArchiveSettings:
    """Archive items nobody read (or wrote) for ``idle_s`` seconds."""

    enabled: bool = True
    idle_s: float = 90 * DAY

    def __post_init__(self) -> None:
        if self.idle_s <= 0:
            raise ValueError("archive.idle_s must be positive")


@dataclass(slots=True)
class PromoteActivationSettings:
    """Precompute the KV of notes retrieved ``min_retrievals`` times within ``window_s``."""

    enabled: bool = True
    min_retrievals: int = 3
    window_s: float = DAY

    def __post_init__(self) -> None:
        if self.min_retrievals < 1 or self.window_s <= 0:
            raise ValueError("promote_activation needs min_retrievals >= 1 and window_s > 0")


@dataclass(slots=True)
class PromoteParametricSettings:
    """Distill a cube whose notes are unchanged for ``stable_s`` and used often enough."""

    enabled: bool = True
    stable_s: float = DAY
    min_notes: int = 5
    min_retrievals: int = 50
    window_s: float = 7 * DAY

    def __post_init__(self) -> None:
        if self.stable_s < 0 or self.window_s <= 0:
            raise ValueError("promote_parametric needs stable_s >= 0 and window_s > 0")
        if self.min_notes < 1 or self.min_retrievals < 0:
            raise ValueError("promote_parametric needs min_notes >= 1 and min_retrievals >= 0")


@dataclass(slots=True)
class MergeSettings:
    """Merge live notes whose embeddings have cosine similarity >= ``threshold``."""

    enabled: bool = True
    threshold: float = 0.95
    max_notes: int = 20_000

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError("merge.threshold must be in (0, 1]")
        if self.max_notes < 2:
            raise ValueError("merge.max_notes must be at least 2")


@dataclass(slots=True)
class PolicySettings:
    """One cube's policy settings; read from ``cube.settings["policies"]`` over the defaults."""

    expire: ExpireSettings = field(default_factory=ExpireSettings)
    archive: ArchiveSettings = field(default_factory=ArchiveSettings)
    promote_activation: PromoteActivationSettings = field(
        default_factory=PromoteActivationSettings)
    promote_parametric: PromoteParametricSettings = field(
        default_factory=PromoteParametricSettings)
    merge: MergeSettings = field(default_factory=MergeSettings)

    @classmethod
    def from_cube_settings(cls, cube_settings: dict | None) -> PolicySettings:
        """Defaults overridden by ``{"policies": {"archive": {"idle_s": 3600}, ...}}``."""
        given = (cube_settings or {}).get("policies", {})
        if not isinstance(given, dict):
            raise ValueError("cube settings 'policies' must be an object")
        unknown = set(given) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown policies {sorted(unknown)}")
        return cls(**{f.name: _section(f.name, f.default_factory, given.get(f.name))
                      for f in fields(cls)})

    def of(self, policy: str):
        """The settings section of the policy named ``policy``."""
        return getattr(self, policy)


def _section(name: str, factory, values):
    if values is None:
        return factory()
    if not isinstance(values, dict):
        raise ValueError(f"policy settings {name!r} must be an object")
    try:
        return factory(**values)
    except TypeError as error:
        raise ValueError(f"bad settings for policy {name!r}: {error}") from None
